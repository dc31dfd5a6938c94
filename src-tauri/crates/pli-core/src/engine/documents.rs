//! Opening an attachment: the message is fetched from the server on demand (kept in memory
//! for the next few openings, never written to disk in clear), the attachment found by its
//! index (the same enumeration as the sync's parse), then by type: CDA R2 → safe HTML by
//! pli-cda; IHE XDM → its documents checked and the first CDA rendered; PDF → handed to the
//! UI's viewer. The patient named in the document is compared with the message's patient.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use base64::Engine as _;
use mail_parser::{MessageParser, MimeHeaders};

use super::{Engine, EngineError, Result};
use crate::api::{DocumentView, PatientRef, XdmDocumentView};

/// Raw messages kept in memory.
const RAW_CACHE: usize = 6;

fn patient_ref(doc: &pli_cda::Document, patient_domain: &str) -> Option<PatientRef> {
    let p = doc.patient.as_ref()?;
    let name = p.names.first();
    let ins = p.ins.as_ref().map(|i| i.value.clone()).unwrap_or_default();
    Some(PatientRef {
        address: if ins.is_empty() {
            String::new()
        } else {
            format!("{ins}@{patient_domain}")
        },
        ins,
        birth_name: name.and_then(|n| n.birth_family().map(str::to_owned)),
        given_name: name.and_then(|n| n.given_names().into_iter().next()),
    })
}

/// Renders a CDA quietly (a hostile embedded PDF must not bring the app down).
fn render(doc: &pli_cda::Document) -> String {
    let pdf_preview_text = if doc.level() == "N1" {
        doc.pdf().and_then(|pdf| {
            crate::imap::parse::quiet_pdf_text(
                &pdf.bytes,
                std::time::Instant::now() + std::time::Duration::from_secs(10),
            )
        })
    } else {
        None
    };
    pli_cda::render_html(
        doc,
        &pli_cda::RenderOptions {
            lang: pli_cda::Lang::Fr,
            mask_ins: false,
            pdf_preview_text,
        },
    )
}

impl Engine {
    pub(super) async fn raw_message(&self, id: i64) -> Result<Arc<Vec<u8>>> {
        if let Some((_, raw)) = self
            .inner
            .raw_cache
            .lock()
            .expect("raw cache")
            .iter()
            .find(|(i, _)| *i == id)
        {
            return Ok(raw.clone());
        }
        let (account, folder, uid) = self
            .inner
            .store
            .location(id)
            .await?
            .ok_or_else(|| EngineError::NotFound("ce message".into()))?;
        let endpoint = self.endpoint().await.map_err(|_| {
            EngineError::Other(
                "les pièces jointes sont lues sur le serveur : connectez-vous pour l'ouvrir".into(),
            )
        })?;
        let raw = crate::imap::fetch::fetch_raw(&endpoint, &account, &folder, uid)
            .await?
            .ok_or_else(|| {
                EngineError::NotFound("ce message (supprimé du serveur entre-temps ?)".into())
            })?;
        let raw = Arc::new(raw);
        let mut cache = self.inner.raw_cache.lock().expect("raw cache");
        cache.push_back((id, raw.clone()));
        while cache.len() > RAW_CACHE {
            cache.pop_front();
        }
        Ok(raw)
    }

    /// Opens attachment `index` of message `id`.
    pub async fn open_attachment(&self, id: i64, index: u32) -> Result<DocumentView> {
        self.readable().await?;
        let row = self
            .inner
            .store
            .row(id)
            .await?
            .ok_or_else(|| EngineError::NotFound("ce message".into()))?;
        let message_patient = self.named_patient_of(&row).await?;
        let (name, bytes) = self.attachment(id, index).await?;
        let domain = self.inner.cfg.operator.patient_domain.clone();
        let mut view = DocumentView {
            kind: "file".into(),
            name: name.clone(),
            html: None,
            pdf_base64: None,
            title: None,
            level: None,
            patient: None,
            patient_mismatch: None,
            xdm_documents: Vec::new(),
            warnings: Vec::new(),
        };
        let doc = match Content::of(&name, &bytes)? {
            Content::Xdm(pkg, doc) => {
                view.kind = "xdm".into();
                for d in &pkg.documents {
                    if d.hash_ok == Some(false) {
                        view.warnings.push(format!(
                            "l'empreinte SHA-1 de {} ne correspond pas à METADATA.XML",
                            d.path.as_deref().unwrap_or("?")
                        ));
                    }
                    view.xdm_documents.push(XdmDocumentView {
                        path: d.path.clone(),
                        mime_type: d.entry.mime_type.clone(),
                        hash_ok: d.hash_ok,
                    });
                }
                doc
            }
            Content::Pdf => {
                view.kind = "pdf".into();
                view.pdf_base64 = Some(base64::engine::general_purpose::STANDARD.encode(&bytes));
                None
            }
            Content::Cda(doc) => {
                view.kind = "cda".into();
                Some(doc)
            }
            Content::Other => None,
        };
        if let Some(doc) = doc {
            view.title = Some(doc.title.clone());
            view.level = Some(doc.level().to_owned());
            if let Some(pdf) = doc.pdf() {
                view.pdf_base64 =
                    Some(base64::engine::general_purpose::STANDARD.encode(&pdf.bytes));
            }
            view.html = Some(render(&doc));
            view.patient = patient_ref(&doc, &domain);
            view.patient_mismatch = mismatch(view.patient.as_ref(), message_patient.as_ref());
        }
        Ok(view)
    }

    /// Attachment `index` of message `id`: its name and bytes.
    async fn attachment(&self, id: i64, index: u32) -> Result<(String, Vec<u8>)> {
        let raw = self.raw_message(id).await?;
        let msg = MessageParser::default()
            .parse(raw.as_slice())
            .ok_or_else(|| EngineError::Invalid("message illisible (MIME invalide)".into()))?;
        let part = msg
            .attachments()
            .nth(index as usize)
            .ok_or_else(|| EngineError::NotFound("cette pièce jointe".into()))?;
        let name = part.attachment_name().unwrap_or("piece-jointe").to_owned();
        Ok((name, part.contents().to_vec()))
    }

    /// Saves attachment `index` of message `id` as a PDF file in `dir` (the shell passes the
    /// user's downloads folder) and returns its path: a PDF attachment as it is; a CDA
    /// document (alone or the first of an IHE XDM package) as the PDF sent with it under
    /// ECO.2.1.5 (an N1's own PDF byte for byte, else pli-cda's transcription), named like
    /// that copy. An existing file is never overwritten (`name (2).pdf`…); the file is
    /// readable by its owner only (it holds health data).
    pub async fn save_attachment_pdf_in(&self, id: i64, index: u32, dir: &Path) -> Result<PathBuf> {
        self.readable().await?;
        let (name, bytes) = self.attachment(id, index).await?;
        let (file_name, pdf) = match Content::of(&name, &bytes)? {
            Content::Pdf => (name, bytes),
            Content::Xdm(_, Some(doc)) | Content::Cda(doc) => {
                let pdf = pli_cda::pdf::attached_pdf(&doc, &pli_cda::PdfOptions::default());
                (crate::mssante::headers::pdf_name(&doc), pdf.into_owned())
            }
            Content::Xdm(_, None) | Content::Other => {
                return Err(EngineError::Invalid(format!(
                    "{name} n'est ni un document CDA ni un PDF"
                )))
            }
        };
        let path = write_new_file(dir, &pdf_file_name(&file_name), &pdf).map_err(|e| {
            EngineError::Other(format!("PDF non enregistré dans {} : {e}", dir.display()))
        })?;
        let account = self.inner.store.row(id).await?.map(|r| r.account);
        self.inner
            .store
            .audit(
                &self.actor().await,
                account.as_deref(),
                "document-saved",
                &path.display().to_string(),
                "ok",
            )
            .await?;
        Ok(path)
    }

    /// [`Self::save_attachment_pdf_in`] the downloads folder ([`Self::downloads_dir`]).
    pub async fn save_attachment_pdf(&self, id: i64, index: u32) -> Result<PathBuf> {
        let dir = self.downloads_dir();
        self.save_attachment_pdf_in(id, index, &dir).await
    }

    /// Where files the user exports go: `XDG_DOWNLOAD_DIR`, else `~/Téléchargements` or
    /// `~/Downloads` when there, else the cache's data folder.
    pub fn downloads_dir(&self) -> PathBuf {
        let home = std::env::var_os("HOME").or_else(|| std::env::var_os("USERPROFILE"));
        std::env::var_os("XDG_DOWNLOAD_DIR")
            .map(PathBuf::from)
            .or_else(|| {
                let home = PathBuf::from(home?);
                ["Téléchargements", "Downloads"]
                    .iter()
                    .map(|d| home.join(d))
                    .find(|p| p.is_dir())
            })
            .unwrap_or_else(|| crate::store::data_dir(&self.inner.cfg))
    }
}

/// What an attachment holds, by its bytes (and, for a PDF, its name).
enum Content {
    /// An IHE XDM package, and its first readable CDA document.
    Xdm(
        Box<pli_cda::xdm::XdmPackage>,
        Option<Box<pli_cda::Document>>,
    ),
    Pdf,
    Cda(Box<pli_cda::Document>),
    Other,
}

impl Content {
    /// Reads `bytes`: a package or a CDA document that is refused is an error that says why.
    fn of(name: &str, bytes: &[u8]) -> Result<Content> {
        if bytes.starts_with(b"PK\x03\x04") {
            let pkg = pli_cda::xdm::read(bytes)
                .map_err(|e| EngineError::Invalid(format!("paquet IHE XDM refusé : {e}")))?;
            let doc = pkg
                .documents
                .iter()
                .filter(|d| !d.bytes.is_empty())
                .find_map(|d| pli_cda::parse(&d.bytes).ok().map(Box::new));
            Ok(Content::Xdm(Box::new(pkg), doc))
        } else if bytes.starts_with(b"%PDF") || name.to_ascii_lowercase().ends_with(".pdf") {
            Ok(Content::Pdf)
        } else if String::from_utf8_lossy(&bytes[..bytes.len().min(4096)])
            .contains("ClinicalDocument")
        {
            pli_cda::parse(bytes)
                .map(|d| Content::Cda(Box::new(d)))
                .map_err(|e| EngineError::Invalid(format!("document CDA refusé : {e}")))
        } else {
            Ok(Content::Other)
        }
    }
}

/// A file name for `name` that stays in its folder: no path, no control character, ending in
/// `.pdf`.
fn pdf_file_name(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or_default();
    let clean: String = base
        .chars()
        .map(|c| if c.is_control() || c == ':' { '_' } else { c })
        .collect();
    let clean = clean.trim().trim_start_matches('.').to_owned();
    let stem = if clean.is_empty() {
        "document".to_owned()
    } else {
        clean
    };
    if stem.to_ascii_lowercase().ends_with(".pdf") {
        stem
    } else {
        format!("{stem}.pdf")
    }
}

/// Writes `bytes` to a new file `name` in `dir` (`name (2).pdf`, `name (3).pdf`… when taken),
/// created exclusively, owner-only on Unix; returns its path.
fn write_new_file(dir: &Path, name: &str, bytes: &[u8]) -> std::io::Result<PathBuf> {
    use std::io::Write as _;
    std::fs::create_dir_all(dir)?;
    let (stem, ext) = name.rsplit_once('.').unwrap_or((name, "pdf"));
    for n in 1..1000 {
        let candidate = if n == 1 {
            dir.join(name)
        } else {
            dir.join(format!("{stem} ({n}).{ext}"))
        };
        let mut open = std::fs::OpenOptions::new();
        open.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut open, 0o600);
        match open.open(&candidate) {
            Ok(mut f) => {
                let written = f.write_all(bytes).and_then(|()| f.sync_all());
                if let Err(e) = written {
                    std::fs::remove_file(&candidate).ok();
                    return Err(e);
                }
                return Ok(candidate);
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
    Err(std::io::Error::other("trop de fichiers de ce nom"))
}

/// Why the document's patient is not the message's, if it is not (INS compared; names only
/// when one side has no INS).
fn mismatch(doc: Option<&PatientRef>, msg: Option<&PatientRef>) -> Option<String> {
    let (d, m) = (doc?, msg?);
    if !d.ins.is_empty() && !m.ins.is_empty() {
        return (d.ins != m.ins).then(|| {
            format!(
                "Attention : ce document concerne le patient d'INS {}, alors que le message \
                 concerne l'INS {}.",
                d.ins, m.ins
            )
        });
    }
    let fold = |s: &Option<String>| s.as_deref().map(crate::annuaire::fold);
    match (fold(&d.birth_name), fold(&m.birth_name)) {
        (Some(a), Some(b)) if a != b => Some(format!(
            "Attention : ce document concerne {} alors que le message concerne {}.",
            d.birth_name.as_deref().unwrap_or("?"),
            m.birth_name.as_deref().unwrap_or("?")
        )),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(ins: &str, name: &str) -> PatientRef {
        PatientRef {
            ins: ins.into(),
            address: String::new(),
            birth_name: Some(name.into()),
            given_name: None,
        }
    }

    #[test]
    fn saved_pdfs_stay_in_their_folder_and_never_overwrite() {
        assert_eq!(pdf_file_name("../../etc/passwd"), "passwd.pdf");
        assert_eq!(pdf_file_name("C:\\x\\CR.PDF"), "CR.PDF");
        assert_eq!(pdf_file_name(".hidden"), "hidden.pdf");
        assert_eq!(pdf_file_name("a\u{7}b.pdf"), "a_b.pdf");
        assert_eq!(pdf_file_name(""), "document.pdf");
        let dir = tempfile::tempdir().unwrap();
        let first = write_new_file(dir.path(), "CR.pdf", b"%PDF-1").unwrap();
        let second = write_new_file(dir.path(), "CR.pdf", b"%PDF-2").unwrap();
        assert_eq!(first, dir.path().join("CR.pdf"));
        assert_eq!(second, dir.path().join("CR (2).pdf"));
        assert_eq!(std::fs::read(&first).unwrap(), b"%PDF-1");
        assert_eq!(std::fs::read(&second).unwrap(), b"%PDF-2");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&second).unwrap().permissions().mode();
            assert_eq!(mode & 0o077, 0, "readable by its owner only: {mode:o}");
        }
    }

    #[test]
    fn mismatching_patients_are_flagged() {
        assert!(mismatch(Some(&p("1", "MARTIN")), Some(&p("1", "DURAND"))).is_none());
        assert!(mismatch(Some(&p("1", "MARTIN")), Some(&p("2", "MARTIN"))).is_some());
        assert!(mismatch(Some(&p("", "MÉNARD")), Some(&p("2", "menard"))).is_none());
        assert!(mismatch(Some(&p("", "MARTIN")), Some(&p("2", "DURAND"))).is_some());
        assert!(mismatch(None, Some(&p("2", "DURAND"))).is_none());
    }
}
