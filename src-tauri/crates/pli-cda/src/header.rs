//! Header parsing: participants, codes, identifiers, names, times.

use roxmltree::Node;

use crate::model::{
    Actor, Address, Code, Encounter, Identifier, Ins, InsKind, NamePart, Organization, Patient,
    Period, PersonName, RelatedPerson, ServiceEvent, Telecom, Timestamp,
};
use crate::xml::{attr, child, children, path, text_of};

pub(crate) fn code(node: Node<'_, '_>) -> Option<Code> {
    let c = Code {
        code: attr(node, "code"),
        system: attr(node, "codeSystem"),
        display: attr(node, "displayName").or_else(|| {
            child(node, "originalText").and_then(|o| {
                o.text()
                    .map(str::trim)
                    .filter(|t| !t.is_empty())
                    .map(str::to_owned)
            })
        }),
    };
    (c.code.is_some() || c.display.is_some()).then_some(c)
}

pub(crate) fn identifier(node: Node<'_, '_>) -> Option<Identifier> {
    let id = Identifier {
        root: attr(node, "root"),
        extension: attr(node, "extension"),
    };
    (id.root.is_some() || id.extension.is_some()).then_some(id)
}

pub(crate) fn ids(node: Node<'_, '_>) -> Vec<Identifier> {
    children(node, "id").filter_map(identifier).collect()
}

/// Parses an HL7 TS (`YYYY[MM[DD[HH[MM[SS[.S]]]]]][+-ZZZZ]`) attribute `value`.
pub(crate) fn timestamp(node: Node<'_, '_>) -> Option<Timestamp> {
    parse_ts(&attr(node, "value")?)
}

/// Parses an HL7 TS string; `None` when it does not start with a 4-digit year.
pub fn parse_ts(raw: &str) -> Option<Timestamp> {
    let raw = raw.trim();
    let (main, zone) = match raw.find(['+', '-']) {
        Some(i) => (&raw[..i], Some(&raw[i..])),
        None => (raw, None),
    };
    let main = main.split('.').next().unwrap_or(main);
    if main.len() < 4 || !main.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let part = |a: usize, b: usize| main.get(a..b);
    let mut iso = part(0, 4)?.to_owned();
    for (a, b, sep) in [(4, 6, "-"), (6, 8, "-")] {
        if let Some(p) = part(a, b) {
            iso.push_str(sep);
            iso.push_str(p);
        }
    }
    if let Some(h) = part(8, 10) {
        iso.push('T');
        iso.push_str(h);
        iso.push(':');
        iso.push_str(part(10, 12).unwrap_or("00"));
        if let Some(s) = part(12, 14) {
            iso.push(':');
            iso.push_str(s);
        }
        if let Some(z) = zone.filter(|z| z.len() == 5 && z[1..].bytes().all(|b| b.is_ascii_digit()))
        {
            iso.push_str(&z[..3]);
            iso.push(':');
            iso.push_str(&z[3..]);
        }
    }
    Some(Timestamp {
        raw: raw.to_owned(),
        iso,
    })
}

fn period(node: Option<Node<'_, '_>>) -> Period {
    let Some(n) = node else {
        return Period::default();
    };
    Period {
        low: child(n, "low").and_then(timestamp).or_else(|| timestamp(n)),
        high: child(n, "high").and_then(timestamp),
    }
}

pub(crate) fn person_name(node: Node<'_, '_>) -> Option<PersonName> {
    let mut name = PersonName::default();
    for c in node.children().filter(Node::is_element) {
        let Some(value) = text_of(c) else { continue };
        let qualifier = attr(c, "qualifier");
        match c.tag_name().name() {
            "given" => name.given.push(NamePart { value, qualifier }),
            "family" => name.family.push(NamePart { value, qualifier }),
            "prefix" => name.prefix.push(value),
            "suffix" => name.suffix.push(value),
            _ => {}
        }
    }
    if name.given.is_empty() && name.family.is_empty() {
        name.text = node
            .children()
            .filter(Node::is_text)
            .filter_map(|t| t.text())
            .map(str::trim)
            .find(|t| !t.is_empty())
            .map(str::to_owned);
    }
    (!name.given.is_empty() || !name.family.is_empty() || name.text.is_some()).then_some(name)
}

fn address(node: Node<'_, '_>) -> Option<Address> {
    if node.attribute("nullFlavor").is_some() {
        return None;
    }
    let part = |n: &str| child(node, n).and_then(text_of);
    let mut lines = Vec::new();
    for l in children(node, "streetAddressLine").filter_map(text_of) {
        lines.push(l);
    }
    let street: Vec<String> = ["houseNumber", "streetName"]
        .iter()
        .filter_map(|n| part(n))
        .collect();
    if !street.is_empty() {
        lines.push(street.join(" "));
    }
    for n in ["unitID", "additionalLocator", "postBox"] {
        if let Some(v) = part(n) {
            lines.push(v);
        }
    }
    let city: Vec<String> = ["postalCode", "city"]
        .iter()
        .filter_map(|n| part(n))
        .collect();
    if !city.is_empty() {
        lines.push(city.join(" "));
    }
    if let Some(c) = part("country") {
        lines.push(c);
    }
    if lines.is_empty() {
        if let Some(t) = text_of(node) {
            lines.push(t);
        }
    }
    (!lines.is_empty()).then_some(Address { lines })
}

fn addresses(node: Node<'_, '_>) -> Vec<Address> {
    children(node, "addr").filter_map(address).collect()
}

fn telecoms(node: Node<'_, '_>) -> Vec<Telecom> {
    children(node, "telecom")
        .filter_map(|t| {
            let v = attr(t, "value")?;
            let (scheme, value) = match v.split_once(':') {
                Some((s, rest)) if !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphabetic()) => (
                    Some(s.to_ascii_lowercase()),
                    rest.trim_start_matches("//").to_owned(),
                ),
                _ => (None, v.clone()),
            };
            Some(Telecom {
                value,
                scheme,
                use_code: attr(t, "use"),
            })
        })
        .collect()
}

fn organization(node: Node<'_, '_>) -> Organization {
    Organization {
        name: child(node, "name").and_then(text_of),
        ids: ids(node),
        addresses: addresses(node),
        telecoms: telecoms(node),
    }
}

/// An assigned entity (`assignedAuthor`, `assignedEntity`, `intendedRecipient`…).
fn actor(assigned: Node<'_, '_>, time: Option<Timestamp>) -> Actor {
    let person = ["assignedPerson", "informationRecipient", "associatedPerson"]
        .iter()
        .find_map(|n| child(assigned, n))
        .and_then(|p| child(p, "name"))
        .and_then(person_name);
    let device = child(assigned, "assignedAuthoringDevice").map(|d| {
        ["manufacturerModelName", "softwareName"]
            .iter()
            .filter_map(|n| child(d, n).and_then(text_of))
            .collect::<Vec<_>>()
            .join(" ")
    });
    let organization = [
        "representedOrganization",
        "receivedOrganization",
        "scopingOrganization",
    ]
    .iter()
    .find_map(|n| child(assigned, n))
    .map(organization);
    Actor {
        person,
        device: device.filter(|d| !d.is_empty()),
        role: child(assigned, "code").and_then(code),
        ids: ids(assigned),
        organization,
        telecoms: telecoms(assigned),
        addresses: addresses(assigned),
        time,
    }
}

pub(crate) fn patient(cd: Node<'_, '_>) -> Option<Patient> {
    let role = path(cd, &["recordTarget", "patientRole"])?;
    let mut p = Patient {
        addresses: addresses(role),
        telecoms: telecoms(role),
        ..Patient::default()
    };
    for id in ids(role) {
        let kind = id.root.as_deref().and_then(InsKind::from_oid);
        match (kind, &id.extension, &p.ins) {
            (Some(kind), Some(value), None) => {
                p.ins = Some(Ins {
                    value: value.clone(),
                    oid: id.root.clone().unwrap_or_default(),
                    kind,
                });
            }
            _ => p.other_ids.push(id),
        }
    }
    if let Some(pat) = child(role, "patient") {
        p.names = children(pat, "name").filter_map(person_name).collect();
        p.birth_time = child(pat, "birthTime").and_then(timestamp);
        p.gender = child(pat, "administrativeGenderCode").and_then(code);
        p.birth_place = path(pat, &["birthplace", "place", "addr", "city"]).and_then(text_of);
        p.guardian = child(pat, "guardian").and_then(|g| {
            path(g, &["guardianPerson", "name"])
                .and_then(person_name)
                .map(|n| n.display())
                .or_else(|| path(g, &["guardianOrganization", "name"]).and_then(text_of))
        });
    }
    Some(p)
}

pub(crate) fn authors(cd: Node<'_, '_>) -> Vec<Actor> {
    children(cd, "author")
        .filter_map(|a| {
            let time = child(a, "time").and_then(timestamp);
            child(a, "assignedAuthor").map(|aa| actor(aa, time))
        })
        .collect()
}

pub(crate) fn custodian(cd: Node<'_, '_>) -> Option<Organization> {
    path(
        cd,
        &[
            "custodian",
            "assignedCustodian",
            "representedCustodianOrganization",
        ],
    )
    .map(organization)
}

pub(crate) fn legal_authenticator(cd: Node<'_, '_>) -> Option<Actor> {
    let la = child(cd, "legalAuthenticator")?;
    let time = child(la, "time").and_then(timestamp);
    child(la, "assignedEntity").map(|e| actor(e, time))
}

pub(crate) fn recipients(cd: Node<'_, '_>) -> Vec<Actor> {
    children(cd, "informationRecipient")
        .filter_map(|r| child(r, "intendedRecipient").map(|ir| actor(ir, None)))
        .collect()
}

pub(crate) fn informants(cd: Node<'_, '_>) -> Vec<RelatedPerson> {
    children(cd, "informant")
        .filter_map(|i| child(i, "relatedEntity"))
        .map(|re| RelatedPerson {
            class_code: attr(re, "classCode"),
            relation: child(re, "code").and_then(code),
            name: path(re, &["relatedPerson", "name"]).and_then(person_name),
            telecoms: telecoms(re),
        })
        .collect()
}

pub(crate) fn encounter(cd: Node<'_, '_>) -> Option<Encounter> {
    let e = path(cd, &["componentOf", "encompassingEncounter"])?;
    Some(Encounter {
        ids: ids(e),
        code: child(e, "code").and_then(code),
        period: period(child(e, "effectiveTime")),
        responsible: path(e, &["responsibleParty", "assignedEntity"]).map(|a| actor(a, None)),
        location: path(e, &["location", "healthCareFacility"]).and_then(|f| {
            path(f, &["location", "name"])
                .and_then(text_of)
                .or_else(|| path(f, &["serviceProviderOrganization", "name"]).and_then(text_of))
                .or_else(|| {
                    child(f, "code")
                        .and_then(code)
                        .and_then(|c| c.label().map(str::to_owned))
                })
        }),
    })
}

pub(crate) fn service_events(cd: Node<'_, '_>) -> Vec<ServiceEvent> {
    children(cd, "documentationOf")
        .filter_map(|d| child(d, "serviceEvent"))
        .map(|se| ServiceEvent {
            code: child(se, "code").and_then(code),
            period: period(child(se, "effectiveTime")),
            performers: children(se, "performer")
                .filter_map(|p| {
                    let time = path(p, &["time", "low"]).and_then(timestamp);
                    child(p, "assignedEntity").map(|a| actor(a, time))
                })
                .collect(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps() {
        assert_eq!(
            parse_ts("20240104160527+0100").unwrap().iso,
            "2024-01-04T16:05:27+01:00"
        );
        assert_eq!(parse_ts("19790328").unwrap().iso, "1979-03-28");
        assert_eq!(parse_ts("202401041605").unwrap().iso, "2024-01-04T16:05");
        assert_eq!(parse_ts("2024").unwrap().iso, "2024");
        assert!(parse_ts("hier").is_none());
    }
}
