//! IHE XDM: variants seen in the wild are read; unsafe archives are refused.

mod common;

use std::io::Write;

use common::{cda_with_text, metadata_xml, raw_zip, RawEntry};
use pli_cda::xdm::{read, read_with_limits, sha1_hex, XdmLimits};
use pli_cda::XdmError;

fn package(entries: &[RawEntry<'_>]) -> Result<pli_cda::xdm::XdmPackage, XdmError> {
    read(&raw_zip(entries))
}

#[test]
fn ss000001_subset_stray_prefix_case_clash_and_no_index_are_tolerated() {
    let cda = cda_with_text("<paragraph>x</paragraph>", "");
    let meta = metadata_xml(
        "ns3",
        "doc0001.xml",
        &sha1_hex(cda.as_bytes()).to_uppercase(),
        cda.len(),
    );
    let pkg = package(&[
        RawEntry::file("IHE_XDM/SS000001/METADATA.XML", meta.as_bytes()),
        RawEntry::file("IHE_XDM/SS000001/DOC0001.XML", cda.as_bytes()),
        RawEntry::file("README.TXT", b"Envoi MSSante"),
    ])
    .unwrap();
    assert!(!pkg.has_index_htm);
    assert_eq!(pkg.readme.as_deref(), Some("Envoi MSSante"));
    assert_eq!(
        pkg.patient_id(),
        Some("279035121518989^^^&1.2.250.1.213.1.4.10&ISO")
    );
    let d = &pkg.documents[0];
    assert_eq!(d.subset, "SS000001");
    assert_eq!(d.path.as_deref(), Some("IHE_XDM/SS000001/DOC0001.XML"));
    assert_eq!((d.hash_ok, d.size_ok), (Some(true), Some(true)));
    assert!(pli_cda::parse(&d.bytes).is_ok());
}

#[test]
fn tampered_content_fails_the_hash_and_size_checks() {
    let cda = cda_with_text("<paragraph>x</paragraph>", "");
    let meta = metadata_xml(
        "",
        "DOC0001.XML",
        &sha1_hex(b"something else"),
        cda.len() + 1,
    );
    let pkg = package(&[
        RawEntry::file("IHE_XDM/SUBSET01/METADATA.XML", meta.as_bytes()),
        RawEntry::file("IHE_XDM/SUBSET01/DOC0001.XML", cda.as_bytes()),
    ])
    .unwrap();
    let d = &pkg.documents[0];
    assert_eq!((d.hash_ok, d.size_ok), (Some(false), Some(false)));
    assert!(!d.verified());
}

#[test]
fn missing_document_is_reported_not_invented() {
    let meta = metadata_xml("", "ABSENT.XML", "00", 1);
    let pkg = package(&[RawEntry::file(
        "IHE_XDM/SUBSET01/METADATA.XML",
        meta.as_bytes(),
    )])
    .unwrap();
    let d = &pkg.documents[0];
    assert_eq!(
        (d.path.as_deref(), d.hash_ok, d.size_ok),
        (None, None, None)
    );
}

#[test]
fn zip_slip_names_are_refused() {
    for name in [
        "../evil.xml",
        "IHE_XDM/../../evil.xml",
        "/etc/cron.d/evil",
        "C:\\Windows\\evil.xml",
        "..\\evil.xml",
    ] {
        let r = package(&[RawEntry::file(name, b"x")]);
        assert!(matches!(r, Err(XdmError::UnsafeName(_))), "{name}: {r:?}");
    }
}

#[test]
fn a_metadata_uri_cannot_climb_out_of_its_subset() {
    let meta = metadata_xml("", "../../SECRET.XML", "00", 1);
    let pkg = package(&[
        RawEntry::file("IHE_XDM/SUBSET01/METADATA.XML", meta.as_bytes()),
        RawEntry::file("SECRET.XML", b"secret"),
    ])
    .unwrap();
    assert!(pkg.documents[0].bytes.is_empty());
}

#[test]
fn symlinks_are_refused() {
    let r = package(&[RawEntry {
        name: "IHE_XDM/SUBSET01/DOC0001.XML",
        data: b"/etc/passwd",
        unix_mode: 0o120777,
    }]);
    assert!(matches!(r, Err(XdmError::Symlink(_))), "{r:?}");
}

#[test]
fn duplicate_names_are_refused_even_by_case() {
    let r = package(&[RawEntry::file("A.XML", b"1"), RawEntry::file("A.XML", b"2")]);
    assert!(matches!(r, Err(XdmError::DuplicateName(_))), "{r:?}");
    let r = package(&[
        RawEntry::file("IHE_XDM/SUBSET01/DOC.XML", b"1"),
        RawEntry::file("IHE_XDM/SUBSET01/doc.xml", b"2"),
    ]);
    assert!(matches!(r, Err(XdmError::DuplicateName(_))), "{r:?}");
}

#[test]
fn entry_count_is_capped() {
    let names: Vec<String> = (0..6).map(|i| format!("F{i}.TXT")).collect();
    let entries: Vec<RawEntry<'_>> = names.iter().map(|n| RawEntry::file(n, b"x")).collect();
    let limits = XdmLimits {
        max_entries: 5,
        ..XdmLimits::default()
    };
    let r = read_with_limits(&raw_zip(&entries), &limits);
    assert!(
        matches!(r, Err(XdmError::TooManyEntries { count: 6, limit: 5 })),
        "{r:?}"
    );
}

fn deflated_zip(name: &str, data: &[u8]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    w.start_file(name, opts).unwrap();
    w.write_all(data).unwrap();
    w.finish().unwrap().into_inner()
}

#[test]
fn expansion_bombs_are_refused() {
    // 4 MiB of zeros deflate to a few KiB: ratio far above 100:1.
    let zeros = vec![0u8; 4 << 20];
    let r = read(&deflated_zip("IHE_XDM/SUBSET01/BOMB.XML", &zeros));
    assert!(matches!(r, Err(XdmError::Bomb { .. })), "{r:?}");
    // Per-entry size cap, whatever the ratio.
    let limits = XdmLimits {
        max_entry_bytes: 1 << 20,
        ..XdmLimits::default()
    };
    let r = read_with_limits(&deflated_zip("BIG.BIN", &zeros), &limits);
    assert!(matches!(r, Err(XdmError::Bomb { .. })), "{r:?}");
    // Whole-package cap.
    let limits = XdmLimits {
        max_zip_bytes: 100,
        ..XdmLimits::default()
    };
    assert!(matches!(
        read_with_limits(&deflated_zip("X", b"x"), &limits),
        Err(XdmError::TooLarge { .. })
    ));
}

#[test]
fn garbage_and_missing_metadata_get_clear_errors() {
    assert!(matches!(read(b"not a zip at all"), Err(XdmError::Zip(_))));
    let r = package(&[RawEntry::file("INDEX.HTM", b"<script>alert(1)</script>")]);
    assert!(matches!(r, Err(XdmError::NoMetadata)), "{r:?}");
    let r = package(&[RawEntry::file(
        "IHE_XDM/SUBSET01/METADATA.XML",
        b"<!DOCTYPE x [<!ENTITY a 'b'>]><x>&a;</x>",
    )]);
    assert!(matches!(r, Err(XdmError::Metadata(_))), "{r:?}");
}
