//! A reader for the sandbox directory's LDIF (`<state>/ldap/data.ldif`), the independent
//! oracle of the directory tests: what slapd loaded and what the FHIR stand-in serves.

use std::collections::HashMap;
use std::path::Path;

use base64::Engine as _;

/// One LDIF record: attribute (lower-case) → values.
pub type Record = HashMap<String, Vec<String>>;

/// Every record with a `mail` attribute.
pub fn load(path: &Path) -> Vec<Record> {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("the sandbox's LDIF {}: {e}", path.display()));
    let mut out = Vec::new();
    for block in text.split("\n\n") {
        // Unfold continuation lines (RFC 2849: a line starting with one space continues).
        let unfolded = block.replace("\n ", "");
        let mut rec = Record::new();
        for line in unfolded.lines() {
            let (k, v) = if let Some((k, v)) = line.split_once(":: ") {
                let bytes = base64::engine::general_purpose::STANDARD
                    .decode(v)
                    .expect("base64 value");
                (k, String::from_utf8(bytes).expect("UTF-8 value"))
            } else if let Some((k, v)) = line.split_once(": ") {
                (k, v.to_owned())
            } else {
                continue;
            };
            rec.entry(k.to_ascii_lowercase()).or_default().push(v);
        }
        if rec.contains_key("mail") {
            out.push(rec);
        }
    }
    out
}

/// The first value of `attr`.
pub fn first<'a>(r: &'a Record, attr: &str) -> Option<&'a str> {
    r.get(attr).and_then(|v| v.first()).map(String::as_str)
}
