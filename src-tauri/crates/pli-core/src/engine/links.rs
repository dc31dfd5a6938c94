//! Links that open a compose window: `mailto:` (RFC 6068) and `pli://compose` for
//! patient-record software, e.g.
//! `pli://compose?ins=279035121518989&subject=Compte%20rendu&attach=/home/dr/cr.xml`.
//!
//! Parameters of `pli://compose`: `to` and `cc` (repeatable or comma separated), `ins` (the
//! patient recipient; its key is checked), `subject`, `body`, `attach` (repeatable: absolute
//! paths of local files). A link never sends anything: it fills a compose window the user
//! reviews. Because a link can come from a web page, attached files are shown with their full
//! path, must be absolute regular files of at most 25 MB, and files in hidden directories or
//! looking like keys are refused (decision 0016).

use base64::Engine as _;

use crate::api::{ComposeRequest, LinkedFile};
use crate::mssante::InsNumber;

/// Largest file a link may attach (the patient limit, ECO.2.2.x).
const MAX_FILE: u64 = 25 * 1024 * 1024;

fn split_addresses(v: &str) -> impl Iterator<Item = String> + '_ {
    v.split(',')
        .map(str::trim)
        .filter(|a| !a.is_empty())
        .map(str::to_owned)
}

/// Parses a link; `None` when it is neither `mailto:` nor `pli://compose`.
pub fn parse(link: &str) -> Option<ComposeRequest> {
    let url = url::Url::parse(link.trim()).ok()?;
    let mut req = ComposeRequest::default();
    match url.scheme() {
        "mailto" => req.to.extend(
            percent_decode(url.path())
                .split(',')
                .map(str::trim)
                .filter(|a| !a.is_empty())
                .map(str::to_owned),
        ),
        "pli" if url.host_str() == Some("compose") || url.path().trim_matches('/') == "compose" => {
        }
        _ => return None,
    }
    for (k, v) in url.query_pairs() {
        match k.to_ascii_lowercase().as_str() {
            "to" => req.to.extend(split_addresses(&v)),
            "cc" => req.cc.extend(split_addresses(&v)),
            "subject" => req.subject = v.into_owned(),
            "body" => req.body = v.into_owned(),
            "ins" if url.scheme() == "pli" => match InsNumber::parse(&v) {
                Ok(ins) => req.patient_ins = Some(ins.as_str().to_owned()),
                Err(e) => req.problems.push(format!("INS du lien refusé : {e}")),
            },
            "attach" if url.scheme() == "pli" => match read_file(&v) {
                Ok(f) => req.attachments.push(f),
                Err(e) => req.problems.push(e),
            },
            _ => {}
        }
    }
    Some(req)
}

fn percent_decode(s: &str) -> String {
    url::form_urlencoded::parse(format!("x={}", s.replace('+', "%2B")).as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

fn read_file(path: &str) -> Result<LinkedFile, String> {
    let p = std::path::Path::new(path);
    let refuse = |why: &str| Err(format!("pièce jointe {path} refusée : {why}"));
    if !p.is_absolute() {
        return refuse("le chemin doit être absolu");
    }
    let hidden = p.components().any(|c| {
        c.as_os_str()
            .to_str()
            .is_some_and(|s| s.starts_with('.') && s != "." && s != "..")
    });
    let name = p
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default()
        .to_owned();
    let lower = name.to_ascii_lowercase();
    if hidden
        || p.components().any(|c| c.as_os_str() == "..")
        || lower.starts_with("id_")
        || [".pem", ".key", ".p12", ".pfx", ".kdbx"]
            .iter()
            .any(|e| lower.ends_with(e))
    {
        return refuse("fichier caché ou sensible");
    }
    let meta = match std::fs::metadata(p) {
        Ok(m) => m,
        Err(e) => return refuse(&e.to_string()),
    };
    if !meta.is_file() {
        return refuse("ce n'est pas un fichier");
    }
    if meta.len() > MAX_FILE {
        return refuse("plus de 25 Mo");
    }
    let bytes = std::fs::read(p).map_err(|e| format!("pièce jointe {path} illisible : {e}"))?;
    Ok(LinkedFile {
        path: path.to_owned(),
        name,
        base64: base64::engine::general_purpose::STANDARD.encode(bytes),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mailto_links() {
        let r = parse(
            "mailto:a@x.mssante.fr,b@y.mssante.fr?subject=Bonjour%20Dr&cc=c@z.fr&body=L%C3%A9a",
        )
        .unwrap();
        assert_eq!(r.to, vec!["a@x.mssante.fr", "b@y.mssante.fr"]);
        assert_eq!(r.cc, vec!["c@z.fr"]);
        assert_eq!(r.subject, "Bonjour Dr");
        assert_eq!(r.body, "Léa");
        assert!(r.patient_ins.is_none(), "mailto never names a patient");
    }

    #[test]
    fn pli_compose_links_with_a_patient_and_a_document() {
        // tempfile's default ".tmp…" name would be a hidden directory, which links may not use.
        let dir = tempfile::Builder::new()
            .prefix("pli-link")
            .tempdir()
            .unwrap();
        let f = dir.path().join("cr.xml");
        std::fs::write(&f, b"<ClinicalDocument/>").unwrap();
        let link = format!(
            "pli://compose?ins=279035121518989&subject=CR&attach={}",
            f.display()
        );
        let r = parse(&link).unwrap();
        assert_eq!(r.patient_ins.as_deref(), Some("279035121518989"));
        assert_eq!(r.attachments.len(), 1);
        assert_eq!(r.attachments[0].name, "cr.xml");
        assert!(r.problems.is_empty(), "{:?}", r.problems);
    }

    #[test]
    fn bad_ins_and_dangerous_files_are_refused_with_a_reason() {
        let r = parse("pli://compose?ins=279035121518988&attach=relative.xml&attach=/root/.ssh/id_rsa&attach=/etc/x/server.key")
            .unwrap();
        assert!(r.patient_ins.is_none());
        assert!(r.attachments.is_empty());
        assert_eq!(r.problems.len(), 4, "{:?}", r.problems);
        assert!(parse("https://example.org/compose").is_none());
        assert!(parse("pli://delete-everything").is_none());
    }
}
