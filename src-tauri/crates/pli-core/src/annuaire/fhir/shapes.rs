//! The FHIR shapes the directory source reads (Bundle, its entries and links) and how a
//! resource becomes directory entries: mailboxes from `telecom`, names, qualifications,
//! addresses; red-listed addresses dropped.

use std::collections::{HashMap, HashSet};

use serde::Deserialize;
use serde_json::Value;

use super::super::{fold, DirectoryEntry};
use super::{FhirError, Kind, EMAIL_TYPE_URL, MAILBOX_METADATA_URL};
use super::{PROFESSION_SYSTEM, SPECIALTY_SYSTEM};

#[derive(Debug, Deserialize)]
pub(super) struct Bundle {
    #[serde(rename = "resourceType")]
    pub(super) resource_type: String,
    #[serde(default)]
    pub(super) link: Vec<Link>,
    #[serde(default)]
    pub(super) entry: Vec<Entry>,
}

impl Bundle {
    pub(super) fn next(&self) -> Option<&str> {
        self.link
            .iter()
            .find(|l| l.relation == "next")
            .map(|l| l.url.as_str())
            .filter(|u| !u.is_empty())
    }
}

#[derive(Debug, Deserialize)]
pub(super) struct Link {
    pub(super) relation: String,
    pub(super) url: String,
}

#[derive(Debug, Deserialize)]
pub(super) struct Entry {
    #[serde(default)]
    pub(super) resource: Option<Value>,
    #[serde(default)]
    pub(super) search: Option<EntrySearch>,
}

#[derive(Debug, Deserialize)]
pub(super) struct EntrySearch {
    #[serde(default)]
    pub(super) mode: Option<String>,
}

pub(super) fn parse_bundle(body: &[u8]) -> Result<Bundle, FhirError> {
    let b: Bundle =
        serde_json::from_slice(body).map_err(|e| FhirError::Malformed(format!("JSON : {e}")))?;
    if b.resource_type != "Bundle" {
        return Err(FhirError::Malformed(format!(
            "{} reçu au lieu d'un Bundle",
            b.resource_type
        )));
    }
    Ok(b)
}

/// Resources gathered from every page, and which of them matched a search (the others were
/// included for their details).
#[derive(Debug)]
pub(super) struct Found {
    pub(super) res: HashMap<Kind, HashMap<String, Value>>,
    pub(super) matched: Vec<(Kind, String)>,
}

impl Default for Found {
    fn default() -> Self {
        Self {
            res: [Kind::Practitioner, Kind::Role, Kind::Organization]
                .into_iter()
                .map(|k| (k, HashMap::new()))
                .collect(),
            matched: Vec::new(),
        }
    }
}

impl Found {
    pub(super) fn add(&mut self, searched: Kind, bundle: &Bundle) {
        for e in &bundle.entry {
            let Some(r) = &e.resource else { continue };
            let Some(kind) = r["resourceType"].as_str().and_then(Kind::of) else {
                continue;
            };
            let Some(id) = r["id"].as_str() else { continue };
            let mode = e.search.as_ref().and_then(|s| s.mode.as_deref());
            let is_match = match mode {
                Some("match") => true,
                Some(_) => false,
                None => kind == searched,
            };
            if is_match {
                self.matched.push((kind, id.to_owned()));
            }
            self.res
                .get_mut(&kind)
                .expect("every kind")
                .insert(id.to_owned(), r.clone());
        }
    }

    /// One entry per published mailbox of the matched resources of the wanted kinds.
    pub(super) fn entries(&self, wanted: &[Kind]) -> Vec<DirectoryEntry> {
        let mut out: HashMap<String, DirectoryEntry> = HashMap::new();
        let mut seen = HashSet::new();
        for (kind, id) in &self.matched {
            if !wanted.contains(kind) || !seen.insert((*kind, id.clone())) {
                continue;
            }
            let Some(r) = self.res[kind].get(id) else {
                continue;
            };
            let person = match kind {
                Kind::Practitioner => Some(r),
                Kind::Role => reference_id(r, "practitioner", Kind::Practitioner)
                    .and_then(|p| self.res[&Kind::Practitioner].get(&p)),
                Kind::Organization => None,
            };
            let org = match kind {
                Kind::Organization => Some(r),
                Kind::Role => reference_id(r, "organization", Kind::Organization)
                    .and_then(|o| self.res[&Kind::Organization].get(&o)),
                Kind::Practitioner => None,
            };
            for mb in mailboxes(r) {
                let e = entry(*kind, &mb, person, org);
                let key = e.mail.to_lowercase();
                // A mailbox seen twice keeps the richer description.
                let richer = |old: &DirectoryEntry| old.organisation.is_none();
                if out.get(&key).is_none_or(richer) {
                    out.insert(key, e);
                }
            }
        }
        out.into_values().collect()
    }
}

/// The id in `resource[field].reference` when it points to a `kind` resource.
pub(super) fn reference_id(resource: &Value, field: &str, kind: Kind) -> Option<String> {
    let r = resource[field]["reference"].as_str()?;
    let mut parts = r.trim_end_matches('/').rsplit('/');
    let id = parts.next()?;
    let ty = parts.next()?;
    (ty == kind.path() && !id.is_empty()).then(|| id.to_owned())
}

/// One MSSanté mailbox as the directory publishes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Mailbox {
    pub(super) mail: String,
    pub(super) kind: Option<String>,
    pub(super) description: Option<String>,
    pub(super) service: Option<String>,
}

/// The published MSSanté mailboxes among a resource's `telecom`: e-mail contact points
/// typed `MSSANTE` (or carrying the mailbox metadata), red-listed ones left out.
pub(super) fn mailboxes(resource: &Value) -> Vec<Mailbox> {
    let Some(telecom) = resource["telecom"].as_array() else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for cp in telecom {
        if cp["system"].as_str() != Some("email") {
            continue;
        }
        let Some(mail) = cp["value"]
            .as_str()
            .map(str::trim)
            .filter(|m| m.contains('@'))
        else {
            continue;
        };
        let exts = cp["extension"].as_array().map(Vec::as_slice).unwrap_or(&[]);
        let ext = |url: &str| exts.iter().find(|e| e["url"].as_str() == Some(url));
        let typed_mss = ext(EMAIL_TYPE_URL)
            .is_some_and(|e| e["valueCoding"]["code"].as_str() == Some("MSSANTE"));
        let meta = ext(MAILBOX_METADATA_URL);
        if !typed_mss && meta.is_none() {
            continue; // an ordinary e-mail address, not an MSSanté mailbox
        }
        let sub = |name: &str| -> Option<&Value> {
            meta?["extension"]
                .as_array()?
                .iter()
                .find(|e| e["url"].as_str() == Some(name))
        };
        if sub("listeRouge").is_some_and(|e| e["valueBoolean"].as_bool() == Some(true)) {
            continue; // red list: must never be shown
        }
        let kind = sub("type").and_then(|e| {
            e["valueCodeableConcept"]["coding"]
                .as_array()?
                .iter()
                .filter_map(|c| c["code"].as_str())
                .map(str::to_ascii_uppercase)
                .find(|c| matches!(c.as_str(), "PER" | "ORG" | "APP" | "CAB"))
        });
        let text = |name: &str| {
            sub(name)
                .and_then(|e| e["valueString"].as_str())
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
        };
        out.push(Mailbox {
            mail: mail.to_owned(),
            kind,
            description: text("description"),
            service: text("service"),
        });
    }
    out
}

/// Family and given names from the practitioner's official (else first) name.
pub(super) fn names(p: &Value) -> (Option<String>, Option<String>) {
    let Some(list) = p["name"].as_array() else {
        return (None, None);
    };
    let name = list
        .iter()
        .find(|n| n["use"].as_str() == Some("official"))
        .or_else(|| list.first());
    let Some(n) = name else { return (None, None) };
    let family = n["family"].as_str().map(str::to_owned);
    let given = n["given"].as_array().map(|g| {
        g.iter()
            .filter_map(Value::as_str)
            .collect::<Vec<_>>()
            .join(" ")
    });
    (
        family.filter(|s| !s.is_empty()),
        given.filter(|s| !s.is_empty()),
    )
}

/// The first code of `system` among the practitioner's qualifications.
pub(super) fn qualification(p: &Value, system: &str) -> Option<String> {
    p["qualification"]
        .as_array()?
        .iter()
        .filter_map(|q| q["code"]["coding"].as_array())
        .flatten()
        .find(|c| c["system"].as_str() == Some(system))
        .and_then(|c| c["code"].as_str())
        .map(str::to_owned)
}

/// Street, postal code and city of the organisation's first address.
pub(super) fn address(o: &Value) -> (Option<String>, Option<String>, Option<String>) {
    let Some(a) = o["address"].as_array().and_then(|a| a.first()) else {
        return (None, None, None);
    };
    let mut lines: Vec<String> = a["line"]
        .as_array()
        .map(|l| {
            l.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    if lines.is_empty() {
        // FR Core may give the street only as ISO 21090 parts on `_line`.
        if let Some(parts) = a["_line"].as_array() {
            for l in parts {
                let part = |suffix: &str| {
                    l["extension"].as_array().and_then(|x| {
                        x.iter()
                            .find(|e| e["url"].as_str().is_some_and(|u| u.ends_with(suffix)))
                            .and_then(|e| e["valueString"].as_str())
                    })
                };
                let s = [
                    part("ADXP-houseNumber"),
                    part("ADXP-streetNameType"),
                    part("ADXP-streetNameBase"),
                ]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(" ");
                if !s.is_empty() {
                    lines.push(s);
                }
            }
        }
    }
    let text = |k: &str| {
        a[k].as_str()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    (
        (!lines.is_empty()).then(|| lines.join(", ")),
        text("postalCode"),
        text("city"),
    )
}

/// The department of a French postal code: two digits, three overseas (97x, 98x), and
/// Corsica's 2A (200xx–201xx) or 2B (202xx–206xx).
pub fn department_of_postal_code(cp: &str) -> Option<String> {
    let cp = cp.trim();
    if cp.len() != 5 || !cp.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    Some(match &cp[..2] {
        "97" | "98" => cp[..3].to_owned(),
        "20" => if cp < "20200" { "2A" } else { "2B" }.to_owned(),
        d => d.to_owned(),
    })
}

pub(super) fn entry(
    kind: Kind,
    mb: &Mailbox,
    person: Option<&Value>,
    org: Option<&Value>,
) -> DirectoryEntry {
    let (family, given) = person.map(names).unwrap_or((None, None));
    let person_name = match (&given, &family) {
        (Some(g), Some(f)) => Some(format!("{g} {f}")),
        (None, Some(f)) => Some(f.clone()),
        _ => None,
    };
    let org_name = org
        .and_then(|o| o["name"].as_str())
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned);
    let (street, postal_code, city) = org.map(address).unwrap_or((None, None, None));
    let is_cabinet = mb.kind.as_deref() == Some("CAB");
    let display_name = match kind {
        Kind::Organization => match (&mb.description, &org_name) {
            (Some(d), Some(o)) if !fold(o).contains(&fold(d)) => Some(format!("{d} — {o}")),
            (d, o) => o.clone().or_else(|| d.clone()),
        },
        _ if is_cabinet => mb.description.clone().or(person_name),
        _ => person_name.or_else(|| mb.description.clone()),
    };
    DirectoryEntry {
        mail: mb.mail.to_lowercase(),
        kind: mb.kind.clone(),
        display_name,
        given_name: given,
        family_name: family,
        profession: person.and_then(|p| qualification(p, PROFESSION_SYSTEM)),
        specialty: person.and_then(|p| qualification(p, SPECIALTY_SYSTEM)),
        organisation: if is_cabinet {
            mb.description.clone().or(org_name)
        } else {
            org_name
        },
        service: mb.service.clone(),
        street,
        department: postal_code.as_deref().and_then(department_of_postal_code),
        postal_code,
        city,
        dematerialisation: None,
    }
}
