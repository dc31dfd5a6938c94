//! Proof that the PDF rendition (ECO.2.1.5) is a PDF other software reads:
//! poppler's `pdftotext` and `pdfinfo` (package poppler-utils, installed by
//! `scripts/install-deps`) must parse every rendition without a complaint and
//! give back the patient, the section titles and the results.

mod common;

use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

use common::{fixture, fixtures};
use pli_cda::pdf::{attached_pdf, DEFAULT_MAX_PAGES};
use pli_cda::{parse, render_pdf, rendition_file_name, PdfOptions};

const CR_BIO: &str = "BIO-CR-BIO_2024.01_Microbiologie_V2.xml";

/// Runs a poppler tool on the PDF (`args`, then the file, then `extra`) and
/// returns its stdout. Fails the test when the tool is missing, exits
/// non-zero, or writes anything on stderr (poppler reports every syntax
/// problem, even the ones it repairs, on stderr).
fn poppler(tool: &str, args: &[&str], pdf: &[u8], extra: &[&str]) -> String {
    static N: AtomicUsize = AtomicUsize::new(0);
    let path: PathBuf = std::env::temp_dir().join(format!(
        "pli-cda-pdf-{}-{}.pdf",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::write(&path, pdf).unwrap();
    let out = Command::new(tool)
        .args(args)
        .arg(&path)
        .args(extra)
        .output();
    let _ = std::fs::remove_file(&path);
    let out = out.unwrap_or_else(|e| {
        panic!(
            "cannot run `{tool}` ({e}): this test needs poppler-utils \
             (`apt-get install -y poppler-utils`; scripts/install-deps installs it)"
        )
    });
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{tool} failed: {stderr}");
    assert!(stderr.trim().is_empty(), "{tool} complained: {stderr}");
    String::from_utf8(out.stdout).expect("UTF-8 output")
}

fn pdftotext(pdf: &[u8], layout: bool) -> String {
    let mut args = vec!["-enc", "UTF-8"];
    if layout {
        args.push("-layout");
    }
    poppler("pdftotext", &args, pdf, &["-"])
}

fn pdfinfo(pdf: &[u8]) -> String {
    poppler("pdfinfo", &[], pdf, &[])
}

/// Whitespace runs become one space (lines wrap where the layout decided).
fn squash(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The CR-BIO sample with accented patient names (the ANS sample's are plain ASCII).
fn cr_bio_with_accents() -> pli_cda::Document {
    let xml = String::from_utf8(fixture(CR_BIO))
        .unwrap()
        .replace("PAT-TROIS", "LŒUVRE-BÉRÉGOVOY")
        .replace("DOMINIQUE", "HÉLÈNE");
    parse(xml.as_bytes()).unwrap()
}

#[test]
fn cr_bio_rendition_reads_back_with_poppler() {
    let doc = cr_bio_with_accents();
    let pdf = render_pdf(&doc, &PdfOptions::default());

    let info = pdfinfo(&pdf);
    assert!(info.contains("PDF version:     1.4"), "{info}");
    assert!(info.contains("(A4)"), "{info}");
    assert!(info.contains("JavaScript:      no"), "{info}");
    assert!(info.contains("Title:           Compte rendu d'examens biologiques"));
    let pages: usize = info
        .lines()
        .find_map(|l| l.strip_prefix("Pages:"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();

    let text = pdftotext(&pdf, false);
    let flat = squash(&text);
    // Patient, accents included, in the patient block and the page footers.
    assert!(flat.contains("Nom de naissance LŒUVRE-BÉRÉGOVOY"), "{flat}");
    assert!(flat.contains("Prénom(s) HÉLÈNE MARIE-LOUISE"), "{flat}");
    assert!(flat.contains("Date de naissance 28/03/1979"));
    assert!(flat.contains("Sexe Féminin"));
    assert!(flat.contains("INS de test 279035121518989 (OID 1.2.250.1.213.1.4.10)"));
    assert_eq!(
        text.matches("LŒUVRE-BÉRÉGOVOY HÉLÈNE MARIE-LOUISE · né(e) le 28/03/1979")
            .count(),
        pages,
        "one footer per page"
    );
    for n in 1..=pages {
        assert!(flat.contains(&format!("Page {n} / {pages}")));
    }
    // Author, organisation, date.
    assert!(flat
        .contains("Marcel CAMPARINI – Médecin - Biologie médicale (SM) – Laboratoire des charmes"));
    assert!(flat.contains("Date du document 04/01/2024 à 16:05"));
    // Section titles.
    for title in [
        "Compte rendu d'examens biologiques",
        "Examen cytobactériologique des urines (ECBU)",
        "Résultats structurés",
        "Version PDF",
    ] {
        assert!(flat.contains(title), "section title {title:?} missing");
    }
    // Narrative text, from the document's own tables.
    assert!(flat.contains("Coloration de Gram nombreux Gram - ; quelques Gram +"));
    assert!(flat.contains("Résultats validés par Jean DE SANTS"));

    // Results: value and unit on the row of their analysis, in column order
    // (layout mode keeps the columns on one line).
    let layout = pdftotext(&pdf, true);
    let row = |analysis: &str, value: &str| {
        layout
            .lines()
            .find(|l| {
                l.contains(analysis) && l.find(value).is_some_and(|v| v > l.find(analysis).unwrap())
            })
            .unwrap_or_else(|| panic!("no row {analysis} … {value} in:\n{layout}"))
            .to_owned()
    };
    let leuco = row("Leucocytes", "500");
    assert!(
        leuco.find("/mL").unwrap() > leuco.find("500").unwrap(),
        "{leuco}"
    );
    let germs = row("Dénombrement de germes", "120000");
    assert!(
        germs.find("/mL").unwrap() > germs.find("120000").unwrap(),
        "{germs}"
    );
    // A value outside WinAnsi (≥) and a French decimal comma, then unit and flag.
    let amox = row("Amoxicilline", ">= 0,512");
    let (v, u, f) = (
        amox.find(">= 0,512").unwrap(),
        amox.find("ug/mL").unwrap(),
        amox.find("Résistant").unwrap(),
    );
    assert!(v < u && u < f, "{amox}");
    // The narrative's own antibiogram: the rowspan keeps values under "Résultat".
    let narrative = row("Amoxicilline", ">=0,512 µg/ml");
    assert!(narrative.trim_end().ends_with('R'), "{narrative}");
}

#[test]
fn every_n3_fixture_renders_a_readable_pdf() {
    let mut n3 = 0;
    for path in fixtures("xml") {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let doc = parse(&std::fs::read(&path).unwrap()).unwrap();
        if doc.level() != "N3" {
            continue;
        }
        n3 += 1;
        let pdf = render_pdf(&doc, &PdfOptions::default());
        assert_eq!(
            pdf,
            render_pdf(&doc, &PdfOptions::default()),
            "{name}: deterministic"
        );
        let flat = squash(&pdftotext(&pdf, false));
        let family = doc.patient.as_ref().unwrap().names[0]
            .birth_family()
            .unwrap();
        assert!(flat.contains(family), "{name}: patient");
        assert!(flat.contains(&squash(&doc.title)), "{name}: title");
        for s in doc.sections().iter().filter(|s| !s.is_pdf_copy()) {
            if let Some(t) = s.title.as_deref() {
                assert!(flat.contains(&squash(t)), "{name}: section {t:?}");
            }
        }
        assert!(flat.contains("Page 1 / "), "{name}: page numbers");
        let file = rendition_file_name(&doc, None);
        assert!(file.ends_with("_PAT-TROIS_DOMINIQUE.pdf"), "{name}: {file}");
    }
    assert!(n3 >= 7, "N3 fixtures missing");
}

#[test]
fn n1_fixture_attaches_its_embedded_pdf_unchanged() {
    let doc = parse(&fixture("DOC_NON_STRUCTURE_CDA-R2-N1.xml")).unwrap();
    let embedded = doc.pdf().unwrap().bytes.clone();
    assert_eq!(&*attached_pdf(&doc, &PdfOptions::default()), &embedded[..]);
    // The N3 CR-BIO carries a PDF copy too, but gets a rendition.
    let n3 = parse(&fixture(CR_BIO)).unwrap();
    let pdf = attached_pdf(&n3, &PdfOptions::default());
    assert_ne!(&*pdf, &n3.pdf().unwrap().bytes[..]);
    assert!(pdf.starts_with(b"%PDF-1.4"));
}

#[test]
fn hostile_and_huge_documents_stay_valid_pdfs() {
    let evil =
        "<paragraph>) Tj ET endstream endobj trailer &lt;&lt; /OpenAction &lt;&lt; /S /JavaScript \
                /JS (app.alert\\(1\\)) &gt;&gt; &gt;&gt; %%EOF \\ ( \u{202E} 漢字 😀</paragraph>";
    let xml = common::cda_with_text(&evil.repeat(20), "");
    let doc = parse(xml.as_bytes()).unwrap();
    let pdf = render_pdf(&doc, &PdfOptions::default());
    let info = pdfinfo(&pdf);
    assert!(info.contains("JavaScript:      no"), "{info}");
    let text = pdftotext(&pdf, false);
    assert!(text.contains(") Tj ET endstream endobj trailer << /OpenAction << /S /JavaScript"));
    assert!(text.contains("%%EOF \\ ( ? ?? ?"), "{text}");

    // Far more text than the page cap allows: the cap holds and says so.
    let big = "<paragraph>Compte rendu très long, ligne après ligne, pour dépasser la limite.</paragraph>"
        .repeat(60_000);
    let doc = parse(common::cda_with_text(&big, "").as_bytes()).unwrap();
    let started = std::time::Instant::now();
    let pdf = render_pdf(&doc, &PdfOptions::default());
    let elapsed = started.elapsed();
    let info = pdfinfo(&pdf);
    assert!(
        info.contains(&format!("Pages:           {DEFAULT_MAX_PAGES}\n")),
        "{info}"
    );
    let page = DEFAULT_MAX_PAGES.to_string();
    let last = poppler(
        "pdftotext",
        &["-enc", "UTF-8", "-f", &page, "-l", &page],
        &pdf,
        &["-"],
    );
    assert!(
        squash(&last)
            .contains("Document tronqué : la limite de 500 pages du rendu PDF est atteinte."),
        "{last}"
    );
    assert!(elapsed.as_secs() < 60, "{elapsed:?}");
}

#[test]
fn deep_nesting_renders() {
    for (open, close, n) in [
        ("<list><item>niveau ", "</item></list>", 110),
        ("<sup>x", "</sup>", 230),
        (
            "<table><tbody><tr><td>case ",
            "</td></tr></tbody></table>",
            58,
        ),
        (
            "<paragraph><content styleCode=\"Bold\">p ",
            "</content></paragraph>",
            115,
        ),
    ] {
        let inner = format!("{}fond{}", open.repeat(n), close.repeat(n));
        let doc = parse(common::cda_with_text(&inner, "").as_bytes())
            .unwrap_or_else(|e| panic!("{open}: {e}"));
        let pdf = render_pdf(&doc, &PdfOptions::default());
        let text = pdftotext(&pdf, false);
        assert!(text.contains("fond"), "{open}: {text}");
    }
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    fn xml_escape(s: &str) -> String {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
    }

    /// Text biased towards PDF syntax: string delimiters, escapes, operators,
    /// object and file markers, plus WinAnsi characters outside ASCII.
    fn pdf_nasty() -> impl Strategy<Value = String> {
        let atoms = prop::sample::select(vec![
            "(",
            ")",
            "\\",
            "\\)",
            ")Tj",
            " Tj ET ",
            "endstream",
            "endobj",
            "/JavaScript",
            "/OpenAction",
            "%%EOF",
            "<<",
            ">>",
            "\r",
            "\t",
            "é",
            "€",
            "«",
            "œ",
            " ",
        ]);
        prop::collection::vec(
            prop_oneof![atoms.prop_map(str::to_owned), "[ -~]{0,8}"],
            0..16,
        )
        .prop_map(|v| v.concat())
    }

    fn no_space(s: &str) -> String {
        s.chars().filter(|c| !c.is_whitespace()).collect()
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 24, failure_persistence: None, ..ProptestConfig::default() })]

        #[test]
        fn any_text_reads_back_from_a_valid_pdf(text in pdf_nasty(), cell in pdf_nasty()) {
            let inner = format!(
                "<paragraph>{t}</paragraph><table><tbody><tr><td>{c}</td><td>{t}</td></tr></tbody></table>\
                 <list><item>{c}</item></list>",
                t = xml_escape(&text),
                c = xml_escape(&cell)
            );
            let doc = parse(common::cda_with_text(&inner, "").as_bytes()).unwrap();
            let pdf = render_pdf(&doc, &PdfOptions::default());
            // poppler parses it without a single complaint…
            let out = no_space(&pdftotext(&pdf, false));
            // …and every character comes back as text, none as syntax.
            prop_assert!(out.contains(&no_space(&text)), "{text:?} not in {out:?}");
            prop_assert!(out.contains(&no_space(&cell)), "{cell:?} not in {out:?}");
        }
    }
}
