//! `pli cda …`: health documents. Owned by the pli-cda work (issue 3).
//!
//! `pli cda render <file.xml|file.zip> [--out FILE.html] [--lang fr|en] [--json]`
//! renders a CDA R2 document, or the first CDA document of an IHE XDM package,
//! as one self-contained HTML page (stdout, or `--out`). With `--json` the
//! document summary (and, for a zip, the XDM checks) is printed on stdout.
//! Refused input exits non-zero with a one-line reason.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context};
use clap::{Args, Subcommand, ValueEnum};
use pli_cda::{Document, Lang, RenderOptions, Summary};
use serde::Serialize;

/// Subcommands of `pli cda`.
#[derive(Debug, Subcommand)]
pub enum CdaCommand {
    /// Render a CDA document (.xml) or an IHE XDM package (.zip) as HTML.
    Render(RenderArgs),
}

/// Arguments of `pli cda render`.
#[derive(Debug, Args)]
pub struct RenderArgs {
    /// The CDA document (.xml) or IHE XDM package (.zip).
    file: PathBuf,
    /// Write the HTML page to this file (default: stdout, unless --json).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Label language.
    #[arg(long, value_enum, default_value_t = LangArg::Fr)]
    lang: LangArg,
    /// Print the document model summary as JSON on stdout.
    #[arg(long)]
    json: bool,
    /// Show only the last characters of the INS.
    #[arg(long)]
    mask_ins: bool,
}

/// `--lang` values.
#[derive(Debug, Clone, Copy, ValueEnum)]
enum LangArg {
    Fr,
    En,
}

/// XDM part of the JSON output.
#[derive(Debug, Serialize)]
struct XdmJson {
    patient_id: Option<String>,
    has_index_htm: bool,
    documents: Vec<XdmDocJson>,
}

#[derive(Debug, Serialize)]
struct XdmDocJson {
    uri: Option<String>,
    path: Option<String>,
    mime_type: Option<String>,
    hash_ok: Option<bool>,
    size_ok: Option<bool>,
}

/// Runs a `pli cda` subcommand.
pub fn run(cmd: CdaCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        CdaCommand::Render(args) => render(args),
    }
}

fn render(args: RenderArgs) -> anyhow::Result<ExitCode> {
    let bytes = std::fs::read(&args.file)
        .with_context(|| format!("cannot read {}", args.file.display()))?;
    let is_zip = bytes.starts_with(b"PK\x03\x04")
        || args
            .file
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("zip"));

    let (doc, xdm) = if is_zip {
        let pkg = pli_cda::xdm::read(&bytes).context("XDM package refused")?;
        let mut first: Option<Document> = None;
        let mut last_err = None;
        for d in pkg.documents.iter().filter(|d| !d.bytes.is_empty()) {
            match pli_cda::parse(&d.bytes) {
                Ok(doc) => {
                    first = Some(doc);
                    break;
                }
                Err(e) => last_err = Some(e),
            }
        }
        let Some(doc) = first else {
            match last_err {
                Some(e) => bail!("no readable CDA document in the XDM package: {e}"),
                None => bail!("no CDA document in the XDM package"),
            }
        };
        let xdm = XdmJson {
            patient_id: pkg.patient_id().map(str::to_owned),
            has_index_htm: pkg.has_index_htm,
            documents: pkg
                .documents
                .iter()
                .map(|d| XdmDocJson {
                    uri: d.entry.uri.clone(),
                    path: d.path.clone(),
                    mime_type: d.entry.mime_type.clone(),
                    hash_ok: d.hash_ok,
                    size_ok: d.size_ok,
                })
                .collect(),
        };
        (doc, Some(xdm))
    } else {
        (
            pli_cda::parse(&bytes).context("CDA document refused")?,
            None,
        )
    };

    let options = RenderOptions {
        lang: match args.lang {
            LangArg::Fr => Lang::Fr,
            LangArg::En => Lang::En,
        },
        mask_ins: args.mask_ins,
        pdf_preview_text: if doc.level() == "N1" {
            quiet_pdf_text(&doc)
        } else {
            None
        },
    };

    let wants_html = args.out.is_some() || !args.json;
    if wants_html {
        let html = pli_cda::render_html(&doc, &options);
        match &args.out {
            Some(path) => std::fs::write(path, html)
                .with_context(|| format!("cannot write {}", path.display()))?,
            None => print!("{html}"),
        }
    }
    if args.json {
        let mut value = serde_json::to_value(Summary::of(&doc))?;
        if let (Some(xdm), Some(obj)) = (xdm, value.as_object_mut()) {
            obj.insert("xdm".into(), serde_json::to_value(xdm)?);
        }
        println!("{}", serde_json::to_string_pretty(&value)?);
    }
    Ok(ExitCode::SUCCESS)
}

/// PDF text for the preview; the extractor's panics on malformed PDFs are
/// contained by pli-cda, and their default message is silenced here.
/// The N1 PDF's text, quietly: a hostile PDF neither prints a panic nor hangs the command.
fn quiet_pdf_text(doc: &Document) -> Option<String> {
    let pdf = doc.pdf()?;
    pli_core::imap::parse::quiet_pdf_text(
        &pdf.bytes,
        std::time::Instant::now() + std::time::Duration::from_secs(30),
    )
}
