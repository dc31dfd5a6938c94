//! Errors. Every refusal says, in one line, what was refused and why.

use thiserror::Error;

/// Why a CDA document could not be read.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum CdaError {
    /// The input is larger than [`crate::Limits::max_document_bytes`].
    #[error("document too large: {size} bytes (limit {limit})")]
    TooLarge {
        /// Size of the input.
        size: usize,
        /// The limit in force.
        limit: usize,
    },
    /// The bytes are not UTF-8 (CDA documents of the CI-SIS are UTF-8).
    #[error("document is not valid UTF-8 text")]
    NotUtf8,
    /// A `<!DOCTYPE>` declaration: CDA needs none, and DTDs carry entity attacks.
    #[error("DOCTYPE declarations are refused (entities and DTDs are not allowed in CDA)")]
    Doctype,
    /// The XML is not well-formed (or exceeds the parser's node limit).
    #[error("malformed XML: {0}")]
    Xml(String),
    /// Elements nested deeper than [`crate::Limits::max_depth`].
    #[error("document nested too deeply (more than {0} levels)")]
    TooDeep(usize),
    /// The root is not a ClinicalDocument, nor a known wrapper around one.
    #[error("not a CDA document: root element is <{0}>")]
    NotCda(String),
    /// The document has no `component` with a structured or non-XML body.
    #[error("CDA document has no body")]
    NoBody,
    /// Too many embedded media, or one too large once decoded.
    #[error("embedded media refused: {0}")]
    Media(String),
}

/// Why an IHE XDM package could not be read.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum XdmError {
    /// The zip is larger than [`crate::xdm::XdmLimits::max_zip_bytes`].
    #[error("XDM package too large: {size} bytes (limit {limit})")]
    TooLarge {
        /// Size of the input.
        size: usize,
        /// The limit in force.
        limit: usize,
    },
    /// The bytes are not a readable zip archive.
    #[error("not a readable zip archive: {0}")]
    Zip(String),
    /// More entries than allowed.
    #[error("too many entries in the zip: {count} (limit {limit})")]
    TooManyEntries {
        /// Entries in the central directory.
        count: usize,
        /// The limit in force.
        limit: usize,
    },
    /// An entry whose name is absolute, climbs out (`..`) or is otherwise unsafe.
    #[error("unsafe entry name refused: {0:?}")]
    UnsafeName(String),
    /// A symbolic link entry.
    #[error("symbolic link entry refused: {0:?}")]
    Symlink(String),
    /// Two entries with the same name (exactly, or differing only by case).
    #[error("duplicate entry name refused: {0:?}")]
    DuplicateName(String),
    /// An encrypted entry.
    #[error("encrypted entry refused: {0:?}")]
    Encrypted(String),
    /// An entry that inflates beyond the size or ratio limits (zip bomb).
    #[error("entry {name:?} expands too much ({reason})")]
    Bomb {
        /// Entry name.
        name: String,
        /// Which limit was hit.
        reason: String,
    },
    /// No `IHE_XDM/<subset>/METADATA.XML` in the package.
    #[error("no IHE_XDM/<subset>/METADATA.XML in the package")]
    NoMetadata,
    /// METADATA.XML could not be read.
    #[error("METADATA.XML unreadable: {0}")]
    Metadata(String),
}
