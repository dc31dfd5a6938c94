//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::PathBuf;

/// `tests/fixtures/cda` at the repository root.
pub fn fixtures_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../tests/fixtures/cda")
}

/// Every fixture file with this extension, sorted.
pub fn fixtures(ext: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(fixtures_dir())
        .expect("fixtures dir")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e.eq_ignore_ascii_case(ext)))
        .collect();
    v.sort();
    v
}

pub fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(fixtures_dir().join(name)).expect(name)
}

/// Asserts that rendered HTML holds nothing active or remote.
///
/// Text content is escaped by the renderer, so every raw `<` opens a real tag:
/// the checks look at tags (names and attributes), where an attack would have
/// to be, and at the one stylesheet.
pub fn assert_safe(html: &str) {
    let lower = html.to_ascii_lowercase();
    assert_eq!(
        lower.matches("<style").count(),
        1,
        "exactly one (own) stylesheet"
    );
    let css_start = lower.find("<style>").unwrap();
    let css = &lower[css_start..lower[css_start..].find("</style>").unwrap() + css_start];
    assert!(!css.contains("url(") && !css.contains("@import") && !css.contains("expression("));

    let mut rest = &lower[..];
    while let Some(start) = rest.find('<') {
        let end = rest[start..]
            .find('>')
            .map_or(rest.len(), |e| start + e + 1);
        let tag = &rest[start..end];
        let name: String = tag[1..]
            .trim_start_matches('/')
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect();
        assert!(
            !matches!(
                name.as_str(),
                "script"
                    | "iframe"
                    | "object"
                    | "embed"
                    | "link"
                    | "base"
                    | "form"
                    | "svg"
                    | "math"
                    | "frame"
                    | "frameset"
                    | "applet"
                    | "input"
                    | "textarea"
            ),
            "forbidden element in {tag:?}"
        );
        if name == "meta" {
            assert!(!tag.contains("refresh"), "meta refresh: {tag:?}");
        }
        for bad in [
            "javascript:",
            "vbscript:",
            "data:text/html",
            "data:image/svg",
            "url(",
            " src=\"http",
            " src='http",
            " href=\"http",
            " href='http",
            " href=\"//",
            " src=\"//",
            " style=",
        ] {
            assert!(!tag.contains(bad), "{bad:?} in tag {tag:?}");
        }
        // No on* attribute: whitespace, "on", letters, "=".
        let bytes = tag.as_bytes();
        for i in 1..bytes.len().saturating_sub(2) {
            if bytes[i - 1].is_ascii_whitespace() && bytes[i] == b'o' && bytes[i + 1] == b'n' {
                let attr: String = tag[i..]
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric())
                    .collect();
                let after = tag[i + attr.len()..].trim_start();
                // Inside a quoted value " on..." is text, not an attribute: values never
                // hold raw quotes, so count quotes before position i.
                let quotes = tag[..i].matches('"').count();
                assert!(
                    quotes % 2 == 1 || !after.starts_with('='),
                    "event handler attribute in tag {tag:?}"
                );
            }
        }
        rest = &rest[end..];
    }
}

/// A minimal CDA with the given section text (inner XML) and extra body XML.
pub fn cda_with_text(text_inner: &str, entries: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<ClinicalDocument xmlns="urn:hl7-org:v3" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
  <code code="11488-4" codeSystem="2.16.840.1.113883.6.1" displayName="CR de consultation"/>
  <title>Essai</title>
  <effectiveTime value="20240101120000+0100"/>
  <recordTarget><patientRole><id root="1.2.250.1.213.1.4.8" extension="123456789012345"/>
    <patient><name><family qualifier="BR">TESTFAMILLE</family><given>Jeanne</given></name>
    <administrativeGenderCode code="F"/><birthTime value="19800101"/></patient></patientRole></recordTarget>
  <author><time value="20240101"/><assignedAuthor><assignedPerson><name><given>Paul</given><family>AUTEUR</family></name></assignedPerson></assignedAuthor></author>
  <component><structuredBody><component><section ID="s1">
    <code code="11348-0" codeSystem="2.16.840.1.113883.6.1"/>
    <title>Section</title>
    <text>{text_inner}</text>
    {entries}
  </section></component></structuredBody></component>
</ClinicalDocument>"#
    )
}

/// CRC-32 (IEEE), bitwise.
fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// One entry of a hand-built zip.
pub struct RawEntry<'a> {
    pub name: &'a str,
    pub data: &'a [u8],
    /// Unix mode (e.g. 0o120777 for a symlink); 0 for none.
    pub unix_mode: u32,
}

impl<'a> RawEntry<'a> {
    pub fn file(name: &'a str, data: &'a [u8]) -> Self {
        Self {
            name,
            data,
            unix_mode: 0o100644,
        }
    }
}

/// Builds a stored (uncompressed) zip byte by byte, so tests can make archives
/// that normal writers refuse to make (duplicates, `..`, symlinks).
pub fn raw_zip(entries: &[RawEntry<'_>]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut central = Vec::new();
    for e in entries {
        let offset = out.len() as u32;
        let crc = crc32(e.data);
        let (n, len) = (e.name.len() as u16, e.data.len() as u32);
        out.extend_from_slice(&0x0403_4b50u32.to_le_bytes());
        out.extend_from_slice(&20u16.to_le_bytes());
        out.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0, 0]); // flags, method, time, date
        out.extend_from_slice(&crc.to_le_bytes());
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&n.to_le_bytes());
        out.extend_from_slice(&0u16.to_le_bytes());
        out.extend_from_slice(e.name.as_bytes());
        out.extend_from_slice(e.data);

        central.extend_from_slice(&0x0201_4b50u32.to_le_bytes());
        central.extend_from_slice(&((3u16 << 8) | 20).to_le_bytes()); // made by: unix
        central.extend_from_slice(&20u16.to_le_bytes());
        central.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0, 0]);
        central.extend_from_slice(&crc.to_le_bytes());
        central.extend_from_slice(&len.to_le_bytes());
        central.extend_from_slice(&len.to_le_bytes());
        central.extend_from_slice(&n.to_le_bytes());
        central.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0, 0]); // extra, comment, disk, internal attrs
        central.extend_from_slice(&(e.unix_mode << 16).to_le_bytes());
        central.extend_from_slice(&offset.to_le_bytes());
        central.extend_from_slice(e.name.as_bytes());
    }
    let cd_offset = out.len() as u32;
    out.extend_from_slice(&central);
    out.extend_from_slice(&0x0605_4b50u32.to_le_bytes());
    out.extend_from_slice(&[0, 0, 0, 0]);
    out.extend_from_slice(&(entries.len() as u16).to_le_bytes());
    out.extend_from_slice(&(entries.len() as u16).to_le_bytes());
    out.extend_from_slice(&(central.len() as u32).to_le_bytes());
    out.extend_from_slice(&cd_offset.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out
}

/// A METADATA.XML listing one document.
pub fn metadata_xml(prefix: &str, uri: &str, hash: &str, size: usize) -> String {
    let p = if prefix.is_empty() {
        String::new()
    } else {
        format!("{prefix}:")
    };
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<{p}SubmitObjectsRequest><{p}RegistryObjectList>
<{p}ExtrinsicObject id="doc1" mimeType="text/xml">
 <{p}Slot name="URI"><{p}ValueList><{p}Value>{uri}</{p}Value></{p}ValueList></{p}Slot>
 <{p}Slot name="hash"><{p}ValueList><{p}Value>{hash}</{p}Value></{p}ValueList></{p}Slot>
 <{p}Slot name="size"><{p}ValueList><{p}Value>{size}</{p}Value></{p}ValueList></{p}Slot>
 <{p}ExternalIdentifier identificationScheme="urn:uuid:58a6f841-87b3-4a3e-92fd-a8ffeff98427" value="279035121518989^^^&amp;1.2.250.1.213.1.4.10&amp;ISO"/>
</{p}ExtrinsicObject>
<{p}RegistryPackage id="ss">
 <{p}ExternalIdentifier identificationScheme="urn:uuid:6b5aea1a-874d-4603-a4bc-96a0a7b38446" value="279035121518989^^^&amp;1.2.250.1.213.1.4.10&amp;ISO"/>
</{p}RegistryPackage>
</{p}RegistryObjectList></{p}SubmitObjectsRequest>"#
    )
}
