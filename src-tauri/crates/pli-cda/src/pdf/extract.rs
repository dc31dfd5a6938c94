//! Text of embedded PDFs, for the search index and a preview.

use std::panic::{catch_unwind, AssertUnwindSafe};

use thiserror::Error;

/// Why no text could be taken from a PDF.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum PdfError {
    /// The bytes do not start with `%PDF-`.
    #[error("not a PDF (no %PDF- header)")]
    NotPdf,
    /// The extractor reported an error.
    #[error("PDF text extraction failed: {0}")]
    Extraction(String),
    /// The extractor gave up on malformed input (it panicked; the panic was contained).
    #[error("PDF text extraction failed on malformed input")]
    Malformed,
}

/// Extracts the text of a PDF with pdf-extract.
///
/// pdf-extract may panic on malformed files; the panic is caught and reported as
/// [`PdfError::Malformed`] (the default panic hook still prints a line on stderr).
pub fn pdf_text(bytes: &[u8]) -> Result<String, PdfError> {
    if !bytes.starts_with(b"%PDF-") {
        return Err(PdfError::NotPdf);
    }
    match catch_unwind(AssertUnwindSafe(|| {
        pdf_extract::extract_text_from_mem(bytes)
    })) {
        Ok(Ok(text)) => Ok(text),
        Ok(Err(e)) => Err(PdfError::Extraction(e.to_string())),
        Err(_) => Err(PdfError::Malformed),
    }
}
