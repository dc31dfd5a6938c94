//! Benchmark driver for `tests/bench/cda/run` (a separate command, not a test).
//!
//! `cda-bench all <fixtures-dir> <work-dir>` prints one JSON object:
//! - per fixture (plus a synthetic ~1 MB N3 document): median parse+render time
//!   and peak memory, each measured in a fresh child process (`VmHWM` from
//!   `/proc/self/status`, with the process baseline reported beside it);
//! - per N1 PDF: median text extraction time with pdf-extract (in process) and
//!   with poppler's `pdftotext` (child process, the way it is used), same run.
//!
//! Child modes: `cda-bench render <file> <iterations>`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

const RENDER_ITERATIONS: usize = 30;
const PDF_ITERATIONS: usize = 7;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    match args.get(1).map(String::as_str) {
        Some("render") => child_render(
            Path::new(&args[2]),
            args[3].parse().unwrap_or(RENDER_ITERATIONS),
        ),
        Some("all") => all(Path::new(&args[2]), Path::new(&args[3])),
        _ => {
            eprintln!(
                "usage: cda-bench all <fixtures-dir> <work-dir> | render <file> <iterations>"
            );
            std::process::exit(2);
        }
    }
}

fn median(mut v: Vec<Duration>) -> f64 {
    v.sort();
    v[v.len() / 2].as_secs_f64() * 1000.0
}

/// `VmHWM` / `VmRSS` from /proc/self/status, in KiB.
fn proc_status(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// A tiny N3 document, and the same inside a one-file XDM zip, for warming up.
const TINY: &str = r#"<ClinicalDocument xmlns="urn:hl7-org:v3"><title>t</title>
<recordTarget><patientRole><patient><name><family>X</family></name></patient></patientRole></recordTarget>
<component><structuredBody><component><section><title>s</title><text><table><tbody><tr><td>c</td></tr></tbody></table></text></section></component></structuredBody></component></ClinicalDocument>"#;

fn tiny_zip() -> Vec<u8> {
    use std::io::Write as _;
    let meta = String::from(
        r#"<SubmitObjectsRequest><RegistryObjectList><ExtrinsicObject id="d"><Slot name="URI"><ValueList><Value>D.XML</Value></ValueList></Slot></ExtrinsicObject></RegistryObjectList></SubmitObjectsRequest>"#,
    );
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    w.start_file("IHE_XDM/SUBSET01/METADATA.XML", opts).unwrap();
    w.write_all(meta.as_bytes()).unwrap();
    w.start_file("IHE_XDM/SUBSET01/D.XML", opts).unwrap();
    w.write_all(TINY.as_bytes()).unwrap();
    w.finish().unwrap().into_inner()
}

/// Child: parse + render a document (or the first CDA of an XDM zip) N times.
///
/// The baseline is taken after a warm-up on a tiny document and a tiny zip, so
/// that code pages and allocator set-up are not charged to the measured document.
fn child_render(path: &Path, iterations: usize) {
    let zip_bytes = tiny_zip();
    let pkg = pli_cda::xdm::read(&zip_bytes).expect("warm-up zip");
    let doc = pli_cda::parse(&pkg.documents[0].bytes).expect("warm-up cda");
    drop(pli_cda::render_html(
        &doc,
        &pli_cda::RenderOptions::default(),
    ));
    drop((pkg, doc, zip_bytes));
    let baseline_kib = proc_status("VmRSS:");
    let bytes = std::fs::read(path).expect("read");
    let mut times = Vec::with_capacity(iterations);
    let mut html_len = 0;
    for _ in 0..iterations {
        let t = Instant::now();
        let doc = if bytes.starts_with(b"PK") {
            let pkg = pli_cda::xdm::read(&bytes).expect("xdm");
            pli_cda::parse(&pkg.documents[0].bytes).expect("cda")
        } else {
            pli_cda::parse(&bytes).expect("cda")
        };
        let html = pli_cda::render_html(&doc, &pli_cda::RenderOptions::default());
        times.push(t.elapsed());
        html_len = html.len();
        drop(html);
        drop(doc);
    }
    let out = json!({
        "median_ms": median(times),
        "peak_rss_kib": proc_status("VmHWM:"),
        "baseline_rss_kib": baseline_kib,
        "html_bytes": html_len,
    });
    println!("{out}");
}

/// A ~1 MB N3 document: the imaging report's body repeated three times.
fn synthesize_1mb(fixtures: &Path, work: &Path) -> PathBuf {
    let src =
        std::fs::read_to_string(fixtures.join("IMG_CR_IMG_2024.01.xml")).expect("IMG fixture");
    let open = src.find("<structuredBody>").expect("body") + "<structuredBody>".len();
    let close = src.find("</structuredBody>").expect("body end");
    let body = &src[open..close];
    let mut doc = String::with_capacity(src.len() * 3);
    doc.push_str(&src[..open]);
    while doc.len() + body.len() < (1 << 20) - (src.len() - close) {
        doc.push_str(body);
    }
    doc.push_str(&src[close..]);
    let path = work.join("synthetic-N3-1MB.xml");
    std::fs::write(&path, doc).expect("write synthetic");
    path
}

fn all(fixtures: &Path, work: &Path) {
    std::fs::create_dir_all(work).expect("work dir");
    let exe = std::env::current_exe().expect("exe");
    let mut files: Vec<PathBuf> = std::fs::read_dir(fixtures)
        .expect("fixtures")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| matches!(p.extension().and_then(|e| e.to_str()), Some("xml" | "zip")))
        .collect();
    files.sort();
    files.push(synthesize_1mb(fixtures, work));

    let mut renders = Vec::new();
    for f in &files {
        let size = std::fs::metadata(f).map(|m| m.len()).unwrap_or(0);
        let out = Command::new(&exe)
            .arg("render")
            .arg(f)
            .arg(RENDER_ITERATIONS.to_string())
            .output()
            .expect("child");
        let child: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
        let peak = child["peak_rss_kib"].as_u64().unwrap_or(0) * 1024;
        let base = child["baseline_rss_kib"].as_u64().unwrap_or(0) * 1024;
        renders.push(json!({
            "file": f.file_name().unwrap().to_string_lossy(),
            "bytes": size,
            "median_render_ms": child["median_ms"],
            "peak_rss_bytes": peak,
            "baseline_rss_bytes": base,
            "peak_minus_baseline_bytes": peak.saturating_sub(base),
            "peak_over_size": ratio(peak.saturating_sub(base) as f64, size as f64),
        }));
    }

    let mut pdfs = Vec::new();
    for f in &files {
        let Ok(bytes) = std::fs::read(f) else {
            continue;
        };
        let Ok(doc) = pli_cda::parse(&bytes) else {
            continue;
        };
        let Some(pdf) = doc
            .non_xml_body()
            .filter(|m| m.sniffed_type == "application/pdf")
        else {
            continue;
        };
        let pdf_path = work.join(format!("{}.pdf", f.file_stem().unwrap().to_string_lossy()));
        std::fs::write(&pdf_path, &pdf.bytes).expect("write pdf");
        let ours: Vec<Duration> = (0..PDF_ITERATIONS)
            .map(|_| {
                let t = Instant::now();
                let _ = pli_cda::pdf_text(&pdf.bytes);
                t.elapsed()
            })
            .collect();
        let theirs: Vec<Duration> = (0..PDF_ITERATIONS)
            .map(|_| {
                let t = Instant::now();
                let ok = Command::new("pdftotext")
                    .arg(&pdf_path)
                    .arg("-")
                    .output()
                    .is_ok_and(|o| o.status.success());
                assert!(ok, "pdftotext failed (poppler-utils installed?)");
                t.elapsed()
            })
            .collect();
        let (o, p) = (median(ours), median(theirs));
        let chars = pli_cda::pdf_text(&pdf.bytes)
            .map(|t| t.trim().chars().count())
            .unwrap_or(0);
        pdfs.push(json!({
            "file": f.file_name().unwrap().to_string_lossy(),
            "pdf_bytes": pdf.bytes.len(),
            "text_chars": chars,
            "pdf_extract_median_ms": o,
            "pdftotext_median_ms": p,
            "ratio": ratio(o, p),
        }));
    }

    let n3_1mb = renders.last().cloned().unwrap_or(Value::Null);
    let worst_mem = renders
        .iter()
        .filter_map(|r| r["peak_over_size"].as_f64())
        .fold(0.0f64, f64::max);
    let worst_pdf = pdfs
        .iter()
        .filter_map(|p| p["ratio"].as_f64())
        .fold(0.0f64, f64::max);
    let report = json!({
        "render": renders,
        "n1_text_extraction": pdfs,
        "targets": {
            "median_render_1mb_n3_ms": { "measured": n3_1mb["median_render_ms"], "target": 20.0 },
            "peak_memory_over_size_worst": { "measured": worst_mem, "target": 10.0,
                "note": "peak RSS (VmHWM) minus the RSS after a warm-up on a tiny document, over the input size" },
            "pdf_text_over_pdftotext_worst": { "measured": worst_pdf, "target": 2.0,
                "note": "pdf-extract in process vs pdftotext as a child process, wall time" },
        },
    });
    println!("{}", serde_json::to_string_pretty(&report).unwrap());
}

fn ratio(a: f64, b: f64) -> f64 {
    if b > 0.0 {
        (a / b * 100.0).round() / 100.0
    } else {
        0.0
    }
}
