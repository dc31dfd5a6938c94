//! IHE XDM packages (`IHE_XDM.ZIP`): read in memory, metadata checked against content.
//!
//! The zip is never extracted to disk; entries are read into memory under caps
//! (entry count, per-entry and total size, expansion ratio). Unsafe names
//! (absolute, `..`, drive letters), symbolic links, encrypted entries and
//! duplicate names (also case-insensitively) make the whole package refused.
//! `INDEX.HTM` is sender HTML: only its presence is recorded, never its content.

mod metadata;

use std::collections::HashMap;
use std::io::{Cursor, Read};

use serde::Serialize;
use sha1::{Digest, Sha1};

pub use metadata::{DocumentEntry, SubmissionSet, XdmCode};

use crate::error::XdmError;

/// Resource caps for reading a package.
#[derive(Debug, Clone)]
pub struct XdmLimits {
    /// Largest accepted zip, in bytes.
    pub max_zip_bytes: usize,
    /// Most entries in the central directory.
    pub max_entries: usize,
    /// Largest uncompressed entry, in bytes.
    pub max_entry_bytes: u64,
    /// Largest total of uncompressed entries, in bytes.
    pub max_total_bytes: u64,
    /// Largest uncompressed/compressed ratio for entries over 1 MiB.
    pub max_ratio: u64,
}

impl Default for XdmLimits {
    fn default() -> Self {
        Self {
            max_zip_bytes: 64 << 20,
            max_entries: 1_000,
            max_entry_bytes: 32 << 20,
            max_total_bytes: 128 << 20,
            max_ratio: 100,
        }
    }
}

/// One document of the package, with its metadata and integrity checks.
#[derive(Clone, Serialize)]
pub struct XdmDocument {
    /// The subset folder it is listed in (`SUBSET01`, `SS000001`…).
    pub subset: String,
    /// Its metadata entry.
    pub entry: DocumentEntry,
    /// Path of the matching zip entry, if found.
    pub path: Option<String>,
    /// The content (empty when no entry matched).
    #[serde(skip)]
    pub bytes: Vec<u8>,
    /// SHA-1 of the content equals the metadata `hash` (`None`: no hash, or no content).
    pub hash_ok: Option<bool>,
    /// Length of the content equals the metadata `size` (`None`: no size, or no content).
    pub size_ok: Option<bool>,
}

impl std::fmt::Debug for XdmDocument {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("XdmDocument")
            .field("subset", &self.subset)
            .field("uri", &self.entry.uri)
            .field("path", &self.path)
            .field("size", &self.bytes.len())
            .field("hash_ok", &self.hash_ok)
            .field("size_ok", &self.size_ok)
            .finish()
    }
}

impl XdmDocument {
    /// True when the content is present and both checks that could run passed.
    pub fn verified(&self) -> bool {
        !self.bytes.is_empty() && self.hash_ok != Some(false) && self.size_ok != Some(false)
    }
}

/// A read XDM package.
#[derive(Debug, Clone, Serialize)]
pub struct XdmPackage {
    /// The submission set (from the first METADATA.XML).
    pub submission_set: SubmissionSet,
    /// Every document entry of every subset.
    pub documents: Vec<XdmDocument>,
    /// Whether the sender included an `INDEX.HTM` (never rendered).
    pub has_index_htm: bool,
    /// `README.TXT`, as text, if present (capped at 64 KiB).
    pub readme: Option<String>,
}

impl XdmPackage {
    /// The patient id of the submission set, else of the first document.
    pub fn patient_id(&self) -> Option<&str> {
        self.submission_set.patient_id.as_deref().or_else(|| {
            self.documents
                .iter()
                .find_map(|d| d.entry.patient_id.as_deref())
        })
    }
}

/// Reads an XDM zip with the default [`XdmLimits`].
pub fn read(bytes: &[u8]) -> Result<XdmPackage, XdmError> {
    read_with_limits(bytes, &XdmLimits::default())
}

/// Normalises and checks an entry name; `None` when unsafe.
fn safe_name(raw: &str) -> Option<String> {
    let name = raw.replace('\\', "/");
    let bad = name.is_empty()
        || name.starts_with('/')
        || name.contains('\0')
        || name.contains(':')
        || name.split('/').any(|c| c == ".." || c == ".");
    (!bad).then_some(name)
}

/// Reads an XDM zip with explicit limits.
pub fn read_with_limits(bytes: &[u8], limits: &XdmLimits) -> Result<XdmPackage, XdmError> {
    if bytes.len() > limits.max_zip_bytes {
        return Err(XdmError::TooLarge {
            size: bytes.len(),
            limit: limits.max_zip_bytes,
        });
    }
    let mut zip =
        zip::ZipArchive::new(Cursor::new(bytes)).map_err(|e| XdmError::Zip(e.to_string()))?;
    if zip.len() > limits.max_entries {
        return Err(XdmError::TooManyEntries {
            count: zip.len(),
            limit: limits.max_entries,
        });
    }

    // Pass 1: names and declared sizes, without decompressing anything.
    let mut by_lower: HashMap<String, (usize, String)> = HashMap::new();
    let mut declared_total = 0u64;
    for i in 0..zip.len() {
        let f = zip
            .by_index_raw(i)
            .map_err(|e| XdmError::Zip(e.to_string()))?;
        let raw = String::from_utf8_lossy(f.name_raw()).into_owned();
        let name = safe_name(&raw).ok_or_else(|| XdmError::UnsafeName(raw.clone()))?;
        if f.is_symlink() {
            return Err(XdmError::Symlink(raw));
        }
        if f.encrypted() {
            return Err(XdmError::Encrypted(raw));
        }
        if f.is_dir() {
            continue;
        }
        check_declared(&raw, f.size(), f.compressed_size(), limits)?;
        declared_total += f.size();
        if declared_total > limits.max_total_bytes {
            return Err(XdmError::Bomb {
                name: raw,
                reason: format!("package expands beyond {} bytes", limits.max_total_bytes),
            });
        }
        if by_lower.insert(name.to_lowercase(), (i, name)).is_some() {
            return Err(XdmError::DuplicateName(raw));
        }
    }
    if zip.has_duplicate_names() {
        return Err(XdmError::DuplicateName("(central directory)".into()));
    }

    let mut read_entry = |index: usize| -> Result<Vec<u8>, XdmError> {
        let f = zip
            .by_index(index)
            .map_err(|e| XdmError::Zip(e.to_string()))?;
        let name = f.name().map(|n| n.into_owned()).unwrap_or_default();
        let mut out = Vec::with_capacity(f.size().min(limits.max_entry_bytes) as usize);
        // Headers can lie about sizes: read at most one byte past the limit.
        f.take(limits.max_entry_bytes + 1)
            .read_to_end(&mut out)
            .map_err(|e| XdmError::Zip(format!("{name}: {e}")))?;
        if out.len() as u64 > limits.max_entry_bytes {
            return Err(XdmError::Bomb {
                name,
                reason: format!("more than {} bytes once inflated", limits.max_entry_bytes),
            });
        }
        Ok(out)
    };

    let has_index_htm = by_lower.contains_key("index.htm") || by_lower.contains_key("index.html");
    let readme = match by_lower.get("readme.txt") {
        Some((i, _)) => {
            let b = read_entry(*i)?;
            Some(String::from_utf8_lossy(&b[..b.len().min(64 << 10)]).into_owned())
        }
        None => None,
    };

    // METADATA.XML of every subset, in name order for stable output.
    let mut metas: Vec<(String, usize)> = by_lower
        .iter()
        .filter_map(|(lower, (i, name))| {
            let rest = lower.strip_prefix("ihe_xdm/")?;
            let (subset, file) = rest.split_once('/')?;
            (file == "metadata.xml" && !subset.is_empty()).then(|| {
                let subset_name = name.split('/').nth(1).unwrap_or(subset).to_owned();
                (subset_name, *i)
            })
        })
        .collect();
    metas.sort();
    if metas.is_empty() {
        return Err(XdmError::NoMetadata);
    }

    let mut submission_set = None;
    let mut documents = Vec::new();
    let mut total_read = 0u64;
    for (subset, meta_index) in metas {
        let meta_bytes = read_entry(meta_index)?;
        let parsed = metadata::parse(&meta_bytes)?;
        if submission_set.is_none() {
            submission_set = Some(parsed.submission_set);
        }
        for entry in parsed.entries {
            let found = entry.uri.as_deref().and_then(safe_name).and_then(|uri| {
                let wanted = format!("ihe_xdm/{}/{}", subset.to_lowercase(), uri.to_lowercase());
                by_lower.get(&wanted).cloned()
            });
            let (path, bytes) = match found {
                Some((i, name)) => (Some(name), read_entry(i)?),
                None => (None, Vec::new()),
            };
            total_read += bytes.len() as u64;
            if total_read > limits.max_total_bytes {
                return Err(XdmError::Bomb {
                    name: path.unwrap_or_default(),
                    reason: format!("package expands beyond {} bytes", limits.max_total_bytes),
                });
            }
            let present = path.is_some();
            let hash_ok = entry
                .hash
                .as_deref()
                .filter(|_| present)
                .map(|h| h.trim().eq_ignore_ascii_case(&sha1_hex(&bytes)));
            let size_ok = entry
                .size
                .filter(|_| present)
                .map(|s| s == bytes.len() as u64);
            documents.push(XdmDocument {
                subset: subset.clone(),
                entry,
                path,
                bytes,
                hash_ok,
                size_ok,
            });
        }
    }
    Ok(XdmPackage {
        submission_set: submission_set.unwrap_or_default(),
        documents,
        has_index_htm,
        readme,
    })
}

fn check_declared(
    name: &str,
    size: u64,
    compressed: u64,
    limits: &XdmLimits,
) -> Result<(), XdmError> {
    if size > limits.max_entry_bytes {
        return Err(XdmError::Bomb {
            name: name.to_owned(),
            reason: format!("declares {size} bytes (limit {})", limits.max_entry_bytes),
        });
    }
    if size > 1 << 20 && size / compressed.max(1) > limits.max_ratio {
        return Err(XdmError::Bomb {
            name: name.to_owned(),
            reason: format!(
                "ratio {}:1 (limit {}:1)",
                size / compressed.max(1),
                limits.max_ratio
            ),
        });
    }
    Ok(())
}

/// Lower-case hex SHA-1, as XDS metadata carries it.
pub fn sha1_hex(bytes: &[u8]) -> String {
    let digest = Sha1::digest(bytes);
    let mut s = String::with_capacity(40);
    for b in digest {
        use std::fmt::Write as _;
        let _ = write!(s, "{b:02x}");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(
            safe_name("IHE_XDM/SUBSET01/DOC0001.XML").as_deref(),
            Some("IHE_XDM/SUBSET01/DOC0001.XML")
        );
        assert_eq!(
            safe_name("IHE_XDM\\SUBSET01\\A.XML").as_deref(),
            Some("IHE_XDM/SUBSET01/A.XML")
        );
        for bad in [
            "../evil",
            "a/../../b",
            "/etc/passwd",
            "C:/x",
            "\\\\server\\x",
            "a/./b",
            "",
        ] {
            assert!(safe_name(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn sha1() {
        assert_eq!(sha1_hex(b"abc"), "a9993e364706816aba3e25717850c26c9cd0d89d");
    }
}
