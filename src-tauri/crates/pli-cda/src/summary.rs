//! A compact, serialisable summary of a document (the `pli cda render --json` contract).

use serde::Serialize;

use crate::model::{Document, Section};

/// The summary of a document. Field names are a contract of `pli cda render --json`.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    /// `"N1"` or `"N3"`.
    pub level: &'static str,
    /// Title (falls back to the type code's display name).
    pub title: String,
    /// Document type code (`11502-2`).
    pub type_code: Option<String>,
    /// Its display name.
    pub type_display: Option<String>,
    /// Creation time, ISO 8601.
    pub effective_time: Option<String>,
    /// Confidentiality code (`N`, `R`, `V`).
    pub confidentiality: Option<String>,
    /// Language (`fr-FR`).
    pub language: Option<String>,
    /// `"xades_signature"` or `"auto_presentable"` when wrapped.
    pub wrapper: Option<crate::model::Wrapper>,
    /// The patient.
    pub patient: Option<PatientSummary>,
    /// Author display names.
    pub authors: Vec<String>,
    /// Every section, flattened in document order.
    pub sections: Vec<SectionSummary>,
    /// Every embedded medium.
    pub media: Vec<MediaSummary>,
    /// Number of structured lab results (CR-BIO).
    pub lab_results: usize,
}

/// Patient part of [`Summary`].
#[derive(Debug, Clone, Serialize)]
pub struct PatientSummary {
    /// Given names.
    pub given: Vec<String>,
    /// Birth family name.
    pub family: Option<String>,
    /// Used family name, when different.
    pub used_family: Option<String>,
    /// Birth date, ISO 8601.
    pub birth_date: Option<String>,
    /// Gender code (`F`, `M`, `U`).
    pub gender: Option<String>,
    /// The INS number.
    pub ins: Option<String>,
    /// The INS OID.
    pub ins_oid: Option<String>,
}

/// Section part of [`Summary`].
#[derive(Debug, Clone, Serialize)]
pub struct SectionSummary {
    /// Title.
    pub title: Option<String>,
    /// Code.
    pub code: Option<String>,
    /// 0 for a top-level section.
    pub depth: usize,
}

/// Media part of [`Summary`].
#[derive(Debug, Clone, Serialize)]
pub struct MediaSummary {
    /// `observationMedia/@ID`.
    pub id: Option<String>,
    /// Declared media type.
    pub declared_type: Option<String>,
    /// Type sniffed from the bytes.
    pub sniffed_type: &'static str,
    /// Decoded size in bytes.
    pub size: usize,
}

impl Summary {
    /// Summarises a document.
    pub fn of(doc: &Document) -> Self {
        let mut sections = Vec::new();
        fn walk(list: &[Section], depth: usize, out: &mut Vec<SectionSummary>) {
            for s in list {
                out.push(SectionSummary {
                    title: s.title.clone(),
                    code: s.code.as_ref().and_then(|c| c.code.clone()),
                    depth,
                });
                walk(&s.sections, depth + 1, out);
            }
        }
        walk(doc.sections(), 0, &mut sections);
        Self {
            level: doc.level(),
            title: doc.title.clone(),
            type_code: doc.type_code.as_ref().and_then(|c| c.code.clone()),
            type_display: doc.type_code.as_ref().and_then(|c| c.display.clone()),
            effective_time: doc.effective_time.as_ref().map(|t| t.iso.clone()),
            confidentiality: doc.confidentiality.as_ref().and_then(|c| c.code.clone()),
            language: doc.language.clone(),
            wrapper: doc.wrapper,
            patient: doc.patient.as_ref().map(|p| {
                let name = p.names.first();
                PatientSummary {
                    given: name.map(|n| n.given_names()).unwrap_or_default(),
                    family: name.and_then(|n| n.birth_family()).map(str::to_owned),
                    used_family: name.and_then(|n| n.used_family()).map(str::to_owned),
                    birth_date: p.birth_time.as_ref().map(|t| t.iso.clone()),
                    gender: p.gender.as_ref().and_then(|g| g.code.clone()),
                    ins: p.ins.as_ref().map(|i| i.value.clone()),
                    ins_oid: p.ins.as_ref().map(|i| i.oid.clone()),
                }
            }),
            authors: doc.authors.iter().map(|a| a.display_name()).collect(),
            sections,
            media: doc
                .media
                .iter()
                .map(|m| MediaSummary {
                    id: m.id.clone(),
                    declared_type: m.declared_type.clone(),
                    sniffed_type: m.sniffed_type,
                    size: m.bytes.len(),
                })
                .collect(),
            lab_results: doc.lab_results.len(),
        }
    }
}
