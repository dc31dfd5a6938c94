//! `pli-cda`: CDA R2 (levels N1 and N3) and IHE XDM, parsed and rendered safely.
//!
//! This crate is pure: bytes in, a document model and self-contained HTML out.
//! No I/O, no network, no global state (see `docs/architecture.md`).
//!
//! ```no_run
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let bytes = std::fs::read("cr-bio.xml")?;
//! let doc = pli_cda::parse(&bytes)?;
//! let html = pli_cda::render_html(&doc, &pli_cda::RenderOptions::default());
//! let summary = pli_cda::Summary::of(&doc); // serde-serialisable
//! # let _ = (html, summary); Ok(()) }
//! ```
//!
//! Safety model, in two halves:
//! - parsing refuses DTDs (hence entities), caps size, node count, depth and
//!   embedded media, never runs the XSLT of "auto-presentable" documents and
//!   converts the narrative into a closed tree of allow-listed elements
//!   ([`narrative`]);
//! - rendering writes markup only from that tree, escapes every string, embeds
//!   images as `data:` URIs whose type is sniffed from the bytes, and emits no
//!   script, no event handler, no URL a browser would fetch or follow on its own
//!   (external links carry their target in `data-pli-href`, for the app to open
//!   after an explicit user action). A Content-Security-Policy meta tag is the
//!   belt to those braces.

pub mod error;
mod header;
mod lab;
pub mod media;
pub mod model;
pub mod narrative;
mod parse;
pub mod pdf;
mod render;
mod summary;
mod terms;
pub mod xdm;
mod xml;

pub use error::{CdaError, XdmError};
pub use header::parse_ts;
pub use model::Document;
pub use pdf::{pdf_text, render_pdf, rendition_file_name, PdfError, PdfOptions};
pub use render::{render_html, Lang, RenderOptions};
pub use summary::Summary;

/// Resource caps applied while parsing. The defaults fit the real corpus
/// (1–2 MB documents with several images) with a wide margin.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Largest accepted document, in bytes.
    pub max_document_bytes: usize,
    /// Largest number of XML nodes.
    pub max_nodes: u32,
    /// Deepest element nesting.
    pub max_depth: usize,
    /// Most embedded media (`observationMedia`) in one document.
    pub max_media: usize,
    /// Largest decoded medium, in bytes.
    pub max_media_bytes: usize,
    /// Largest total of decoded media, in bytes.
    pub max_total_media_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_document_bytes: 64 << 20,
            max_nodes: 2_000_000,
            max_depth: 256,
            max_media: 64,
            max_media_bytes: 32 << 20,
            max_total_media_bytes: 64 << 20,
        }
    }
}

/// Parses a CDA R2 document (plain, XAdES-wrapped or auto-presentable) with the
/// default [`Limits`].
pub fn parse(bytes: &[u8]) -> Result<Document, CdaError> {
    parse_with_limits(bytes, &Limits::default())
}

/// Parses a CDA R2 document with explicit limits.
pub fn parse_with_limits(bytes: &[u8], limits: &Limits) -> Result<Document, CdaError> {
    parse::parse_with_limits(bytes, limits)
}
