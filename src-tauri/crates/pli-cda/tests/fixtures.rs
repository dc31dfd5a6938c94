//! Every real fixture parses and renders with its real content.

mod common;

use common::{assert_safe, fixture, fixtures};
use pli_cda::{parse, render_html, Lang, RenderOptions, Summary};

/// Counts elements by local name in the HL7 namespace, independently of the crate.
fn count_in(xml: &str, under: &str, name: &str) -> usize {
    let text = xml.trim_start_matches('\u{feff}');
    let doc = roxmltree::Document::parse(text).unwrap();
    doc.descendants()
        .filter(|n| n.has_tag_name(("urn:hl7-org:v3", under)))
        .map(|u| {
            u.descendants()
                .filter(|n| n.has_tag_name(("urn:hl7-org:v3", name)))
                .count()
        })
        .sum()
}

fn count_tds(nodes: &[pli_cda::narrative::NarrativeNode]) -> usize {
    use pli_cda::narrative::{NarrativeNode, Tag};
    nodes
        .iter()
        .map(|n| match n {
            NarrativeNode::Element(e) => usize::from(e.tag == Tag::Td) + count_tds(&e.children),
            NarrativeNode::Text(_) => 0,
        })
        .sum()
}

#[test]
fn every_xml_fixture_renders_its_content() {
    let files = fixtures("xml");
    assert!(files.len() >= 10, "fixtures missing: {files:?}");
    for path in files {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let bytes = std::fs::read(&path).unwrap();
        let doc = parse(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
        let html = render_html(&doc, &RenderOptions::default());
        assert_safe(&html);

        // Patient family name and title.
        let family = doc
            .patient
            .as_ref()
            .and_then(|p| p.names.first())
            .and_then(|n| n.birth_family())
            .unwrap();
        assert!(
            html.contains(family),
            "{name}: family name {family} missing"
        );
        let title_escaped = doc
            .title
            .replace('&', "&amp;")
            .replace('\'', "&#39;")
            .replace('"', "&quot;");
        assert!(
            html.contains(&format!("<h1>{title_escaped}</h1>")),
            "{name}: title missing"
        );
        assert!(!doc.authors.is_empty(), "{name}: no author");

        let xml = String::from_utf8(bytes.clone()).unwrap();
        match doc.level() {
            "N3" => {
                // One rendered section per section of the document.
                let in_doc = count_in(&xml, "structuredBody", "section");
                let rendered = html.matches("<section class=\"cda-section").count();
                assert_eq!(rendered, in_doc, "{name}: sections");
                assert_eq!(
                    Summary::of(&doc).sections.len(),
                    in_doc,
                    "{name}: summary sections"
                );
                // Table cells survive (the lab results table adds 5 cells per row).
                // The PDF copy section becomes a button: its layout table is not rendered.
                let pdf_copy_tds: usize = doc
                    .sections()
                    .iter()
                    .filter(|s| s.is_pdf_copy())
                    .map(|s| count_tds(&s.text))
                    .sum();
                let tds = count_in(&xml, "text", "td") - pdf_copy_tds;
                let html_tds = html.matches("<td").count() - 5 * doc.lab_results.len();
                assert_eq!(html_tds, tds, "{name}: table cells");
                assert!(
                    html.matches("<th").count() >= count_in(&xml, "text", "th"),
                    "{name}: th"
                );
            }
            "N1" => {
                let m = doc.non_xml_body().unwrap();
                assert!(
                    m.bytes.starts_with(b"%PDF-"),
                    "{name}: N1 body is not a PDF"
                );
                assert_eq!(m.sniffed_type, "application/pdf");
                assert!(
                    html.contains("data-pli-media=\"0\""),
                    "{name}: no open-PDF action"
                );
                assert!(
                    !html.contains("data:application/pdf"),
                    "{name}: PDF inlined"
                );
            }
            other => panic!("level {other}"),
        }
    }
}

#[test]
fn cr_bio_has_results_table_and_pdf_copy_button() {
    let doc = parse(&fixture("BIO-CR-BIO_2024.01_Microbiologie_V2.xml")).unwrap();
    assert!(doc.is_lab_report());
    let amox = doc
        .lab_results
        .iter()
        .find(|r| {
            r.analysis == "Amoxicilline"
                && r.group
                    .as_deref()
                    .is_some_and(|g| g.contains("Escherichia coli"))
        })
        .expect("amoxicillin row for E. coli");
    assert_eq!(amox.value, "≥ 0.512");
    assert_eq!(amox.unit.as_deref(), Some("ug/mL"));
    assert_eq!(
        amox.interpretation.as_ref().and_then(|c| c.code.as_deref()),
        Some("R")
    );
    let leuco = doc
        .lab_results
        .iter()
        .find(|r| r.analysis == "Leucocytes")
        .unwrap();
    assert_eq!(
        (leuco.value.as_str(), leuco.unit.as_deref()),
        ("500", Some("/mL"))
    );

    let html = render_html(&doc, &RenderOptions::default());
    assert!(html.contains("Résultats structurés"));
    assert!(html.contains("≥ 0,512"), "French decimal comma");
    assert!(html.contains("Version PDF"));
    assert!(html.contains("data-pli-media=\"0\""));
    assert!(
        !html.contains("data:application/pdf"),
        "the PDF copy is offered, not inlined"
    );
    // The narrative's own table is kept too.
    assert!(html.contains("nombreux Gram - ; quelques Gram +"));
}

#[test]
fn mislabelled_image_is_inlined_with_its_real_type() {
    let doc = parse(&fixture("eP-MED-DM_2024.01_PosoStruct.xml")).unwrap();
    let m = doc.media_by_id("Code2dPDF").unwrap().1;
    assert_eq!(m.declared_type.as_deref(), Some("image/jpeg"));
    assert_eq!(m.sniffed_type, "image/png");
    let html = render_html(&doc, &RenderOptions::default());
    assert!(
        html.contains("<img alt=\"") && html.contains("src=\"data:image/png;base64,iVBORw0KGgo")
    );
    assert!(!html.contains("data:image/jpeg"));
}

#[test]
fn imaging_report_links_are_shown_not_followed() {
    let doc = parse(&fixture("IMG_CR_IMG_2024.01.xml")).unwrap();
    let html = render_html(&doc, &RenderOptions::default());
    assert_safe(&html);
    // linkHtml targets there are http(s) viewer URLs: kept as data-pli-href only.
    assert!(
        html.contains("data-pli-href=\"http"),
        "external link target kept for the app"
    );
}

#[test]
fn english_labels_on_request() {
    let doc = parse(&fixture("LDL-SES_2022.01.xml")).unwrap();
    let html = render_html(
        &doc,
        &RenderOptions {
            lang: Lang::En,
            ..Default::default()
        },
    );
    assert!(html.starts_with("<!DOCTYPE html>\n<html lang=\"en\">"));
    assert!(html.contains("Born") && html.contains("Document information"));
    let fr = render_html(&doc, &RenderOptions::default());
    assert!(fr.contains("Né(e) le") && fr.contains("Informations sur le document"));
}

#[test]
fn ins_is_read_with_its_oid_and_can_be_masked() {
    let doc = parse(&fixture("LDL-SES_2022.01.xml")).unwrap();
    let ins = doc.patient.as_ref().unwrap().ins.as_ref().unwrap();
    assert_eq!(ins.value, "279035121518989");
    assert_eq!(ins.oid, "1.2.250.1.213.1.4.10");
    assert_eq!(ins.kind, pli_cda::model::InsKind::TestNir);
    let masked = render_html(
        &doc,
        &RenderOptions {
            mask_ins: true,
            ..Default::default()
        },
    );
    assert!(!masked.contains("279035121518989"));
    assert!(masked.contains("8989"));
}

#[test]
fn n1_pdf_text_is_extracted() {
    let doc = parse(&fixture("TLM-CR_2022.01.xml")).unwrap();
    let text = doc.pdf_text().unwrap().unwrap();
    assert!(text.contains("télémédecine"), "{text}");
    let html = render_html(
        &doc,
        &RenderOptions {
            pdf_preview_text: Some(text),
            ..Default::default()
        },
    );
    assert!(html.contains("Aperçu du texte") && html.contains("télémédecine"));
}

#[test]
fn summary_json_has_the_contract_fields() {
    let doc = parse(&fixture("VSM_1.4_2022.01.xml")).unwrap();
    let v = serde_json::to_value(Summary::of(&doc)).unwrap();
    for key in [
        "level",
        "title",
        "type_code",
        "effective_time",
        "patient",
        "authors",
        "sections",
        "media",
    ] {
        assert!(v.get(key).is_some(), "missing {key}");
    }
    assert_eq!(v["level"], "N3");
    assert_eq!(v["type_code"], "SYNTH");
    assert_eq!(v["patient"]["family"], "PAT-TROIS");
    assert!(v["patient"]["given"].is_array());
    assert_eq!(v["patient"]["birth_date"], "1979-03-28");
    assert_eq!(v["patient"]["ins"], "279035121518989");
    assert!(v["authors"][0].is_string());
    assert!(v["sections"][0].get("depth").is_some());
}

#[test]
fn xdm_fixture_verifies_and_renders() {
    let pkg = pli_cda::xdm::read(&fixture("ToC_Ambulatory.zip")).unwrap();
    assert!(pkg.has_index_htm);
    assert_eq!(pkg.patient_id(), Some("1^^^&2.16.840.1.113883.4.6&ISO"));
    assert_eq!(pkg.documents.len(), 1);
    let d = &pkg.documents[0];
    assert_eq!(
        d.path.as_deref(),
        Some("IHE_XDM/SUBSET01/TOC_AMBULATORY.XML")
    );
    assert_eq!((d.hash_ok, d.size_ok), (Some(true), Some(true)));
    assert!(d.verified());
    assert_eq!(
        d.entry.type_code.as_ref().and_then(|c| c.code.as_deref()),
        Some("34133-9")
    );
    let doc = parse(&d.bytes).unwrap();
    let html = render_html(&doc, &RenderOptions::default());
    assert_safe(&html);
    assert!(html.contains("Newman"));
}
