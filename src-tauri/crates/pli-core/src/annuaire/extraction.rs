//! Reading the public "Extraction Correspondance MSSanté" as published: a ZIP holding one
//! pipe-separated UTF-8 text file, or that text file itself.
//!
//! The archive comes from the network, so it is read defensively (decision 0024):
//! - it is recognised by its magic bytes, never by its name;
//! - every member name is checked, and one that could escape a folder (`..`, absolute,
//!   backslash, drive letter, control character) refuses the whole archive, even though
//!   nothing is ever written to disk from it;
//! - exactly one text member (`.txt` or `.csv`) is read; none or several is an error;
//! - the text is capped at [`ZipLimits::max_bytes`] and at [`ZipLimits::max_ratio`] times its
//!   compressed size (zip bombs), checked on the declared sizes first and again on the bytes
//!   actually inflated, since declared sizes can lie;
//! - encrypted members are refused.
//!
//! Nothing is imported unless all of this passes.

use std::io::{Cursor, Read};

/// Caps applied to an archive's text member.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ZipLimits {
    /// Most bytes of text accepted (the real extraction is a few hundred megabytes).
    pub max_bytes: u64,
    /// Most inflated bytes per compressed byte (text compresses about 10:1).
    pub max_ratio: u64,
    /// Below this size the ratio is not checked (tiny files compress oddly).
    pub ratio_floor: u64,
}

impl Default for ZipLimits {
    fn default() -> Self {
        Self {
            max_bytes: 1024 * 1024 * 1024,
            max_ratio: 100,
            ratio_floor: 1024 * 1024,
        }
    }
}

/// Why an extraction file cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum ExtractionError {
    /// Not a ZIP we can read.
    #[error("archive d'extraction illisible : {0}")]
    BadArchive(String),
    /// A member name that could escape a folder.
    #[error("archive d'extraction refusée : nom de fichier dangereux « {0} »")]
    UnsafeName(String),
    /// No text member.
    #[error("archive d'extraction refusée : aucun fichier .txt ou .csv dedans")]
    NoText,
    /// More than one text member.
    #[error("archive d'extraction refusée : plusieurs fichiers texte ({0}) ; une seule extraction attendue")]
    SeveralTexts(String),
    /// Encrypted member.
    #[error("archive d'extraction refusée : « {0} » est chiffré")]
    Encrypted(String),
    /// Too big, or inflates too much.
    #[error(
        "archive d'extraction refusée : « {name} » dépasse la limite ({why}) — \
         archive piégée ou corrompue ?"
    )]
    TooLarge {
        /// The member.
        name: String,
        /// Which limit.
        why: String,
    },
    /// Not UTF-8.
    #[error("l'extraction doit être du texte UTF-8 ({0})")]
    NotUtf8(String),
}

/// True when `bytes` start like a ZIP archive (local file header, or an empty archive).
pub fn is_zip(bytes: &[u8]) -> bool {
    bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(b"PK\x05\x06")
}

/// The extraction's text from `bytes`: the single text member of a ZIP (see the module
/// documentation), or the bytes themselves when they are not a ZIP.
pub fn extraction_text(bytes: Vec<u8>, limits: &ZipLimits) -> Result<String, ExtractionError> {
    let bytes = if is_zip(&bytes) {
        text_member(&bytes, limits)?
    } else {
        bytes
    };
    String::from_utf8(bytes).map_err(|e| ExtractionError::NotUtf8(e.utf8_error().to_string()))
}

/// A member name is safe when it stays inside the archive's folder on every platform.
fn unsafe_name(name: &str) -> bool {
    name.is_empty()
        || name.starts_with('/')
        || name.contains('\\')
        || name.contains(':')
        || name.chars().any(char::is_control)
        || name.split('/').any(|part| part == "..")
}

fn text_member(bytes: &[u8], limits: &ZipLimits) -> Result<Vec<u8>, ExtractionError> {
    let bad = |e: zip::result::ZipError| ExtractionError::BadArchive(e.to_string());
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).map_err(bad)?;
    let mut texts = Vec::new();
    for i in 0..zip.len() {
        let m = zip.by_index_raw(i).map_err(bad)?;
        let name = String::from_utf8_lossy(m.name_raw()).into_owned();
        if unsafe_name(&name) {
            return Err(ExtractionError::UnsafeName(name.escape_debug().to_string()));
        }
        if m.is_dir() || name.starts_with("__MACOSX/") {
            continue;
        }
        let lower = name.to_ascii_lowercase();
        if lower.ends_with(".txt") || lower.ends_with(".csv") {
            texts.push((i, name, m.size(), m.compressed_size(), m.encrypted()));
        }
    }
    let (index, name, size, compressed, encrypted) = match texts.len() {
        0 => return Err(ExtractionError::NoText),
        1 => texts.remove(0),
        _ => {
            let names = texts.iter().map(|t| t.1.as_str()).collect::<Vec<_>>();
            return Err(ExtractionError::SeveralTexts(names.join(", ")));
        }
    };
    if encrypted {
        return Err(ExtractionError::Encrypted(name));
    }
    let by_ratio = compressed
        .saturating_mul(limits.max_ratio)
        .max(limits.ratio_floor);
    let cap = limits.max_bytes.min(by_ratio);
    let too_large = |got: u64| ExtractionError::TooLarge {
        name: name.clone(),
        why: if got > limits.max_bytes {
            format!("{} Mo au plus", limits.max_bytes / (1024 * 1024))
        } else {
            format!(
                "plus de {} fois sa taille compressée ({compressed} octets)",
                limits.max_ratio
            )
        },
    };
    // Declared sizes first (cheap), then what really comes out.
    if size > cap {
        return Err(too_large(size));
    }
    let member = zip.by_index(index).map_err(bad)?;
    let mut out = Vec::with_capacity(size.min(cap) as usize);
    member
        .take(cap + 1)
        .read_to_end(&mut out)
        .map_err(|e| ExtractionError::BadArchive(format!("{name} : {e}")))?;
    if out.len() as u64 > cap {
        return Err(too_large(out.len() as u64));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn zip_of(members: &[(&str, &[u8])]) -> Vec<u8> {
        let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let opts = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        for (name, data) in members {
            w.start_file(*name, opts).unwrap();
            w.write_all(data).unwrap();
        }
        w.finish().unwrap().into_inner()
    }

    const TEXT: &str = "Adresse BAL|Nom d'exercice\nanne@x.mssante.fr|LEFÈVRE\n";

    #[test]
    fn plain_text_and_a_single_member_zip_give_the_same_text() {
        let limits = ZipLimits::default();
        assert_eq!(extraction_text(TEXT.into(), &limits).unwrap(), TEXT);
        let z = zip_of(&[
            ("Extraction/", b""),
            (
                "Extraction/Extraction_Correspondance_MSSante.txt",
                TEXT.as_bytes(),
            ),
            ("LISEZMOI.pdf", b"%PDF"),
        ]);
        assert!(is_zip(&z));
        assert_eq!(extraction_text(z, &limits).unwrap(), TEXT);
    }

    #[test]
    fn dangerous_names_refuse_the_whole_archive() {
        for name in [
            "../extraction.txt",
            "a/../../extraction.txt",
            "/etc/extraction.txt",
            "..\\extraction.txt",
            "C:extraction.txt",
            "a\u{0}b.txt",
        ] {
            let z = zip_of(&[("ok.txt", TEXT.as_bytes()), (name, b"x")]);
            let e = extraction_text(z, &ZipLimits::default()).unwrap_err();
            assert!(matches!(e, ExtractionError::UnsafeName(_)), "{name:?}: {e}");
        }
    }

    #[test]
    fn none_or_several_texts_are_refused() {
        let e = extraction_text(zip_of(&[("a.pdf", b"x")]), &ZipLimits::default()).unwrap_err();
        assert!(matches!(e, ExtractionError::NoText), "{e}");
        let z = zip_of(&[("a.txt", b"x"), ("b.CSV", b"y")]);
        let e = extraction_text(z, &ZipLimits::default()).unwrap_err();
        assert!(e.to_string().contains("a.txt, b.CSV"), "{e}");
    }

    #[test]
    fn bombs_and_oversized_members_stop_early() {
        // 8 MiB of zeros deflates to a few kilobytes: a ratio far above 100.
        let zeros = vec![0u8; 8 * 1024 * 1024];
        let z = zip_of(&[("bomb.txt", &zeros)]);
        assert!(z.len() < 64 * 1024, "{}", z.len());
        let e = extraction_text(z.clone(), &ZipLimits::default()).unwrap_err();
        assert!(matches!(e, ExtractionError::TooLarge { .. }), "{e}");
        assert!(e.to_string().contains("fois sa taille compressée"), "{e}");
        // The absolute cap, with the ratio check out of the way.
        let limits = ZipLimits {
            max_bytes: 1024 * 1024,
            max_ratio: u64::MAX,
            ratio_floor: 0,
        };
        let e = extraction_text(z, &limits).unwrap_err();
        assert!(e.to_string().contains("1 Mo au plus"), "{e}");
    }

    #[test]
    fn a_lying_declared_size_is_caught_while_inflating() {
        // Patch the sizes the archive declares (local header and central directory) down to
        // 10 bytes: the check on the inflated bytes must still stop the read.
        let data = vec![b'a'; 4 * 1024 * 1024];
        let mut z = zip_of(&[("big.txt", &data)]);
        let real = (data.len() as u32).to_le_bytes();
        let fake = 10u32.to_le_bytes();
        let mut patched = 0;
        for i in 0..z.len() - 4 {
            if z[i..i + 4] == real {
                z[i..i + 4].copy_from_slice(&fake);
                patched += 1;
            }
        }
        assert_eq!(patched, 2, "local header and central directory");
        let limits = ZipLimits {
            max_bytes: 1024 * 1024,
            max_ratio: u64::MAX,
            ratio_floor: 0,
        };
        let e = extraction_text(z, &limits).unwrap_err();
        // Either our cap or the archive reader's own size check stops it: never the text.
        assert!(
            matches!(
                e,
                ExtractionError::TooLarge { .. } | ExtractionError::BadArchive(_)
            ),
            "{e}"
        );
    }

    #[test]
    fn not_utf8_and_not_a_zip_are_clear() {
        let e = extraction_text(vec![0xff, 0xfe, b'a'], &ZipLimits::default()).unwrap_err();
        assert!(e.to_string().contains("UTF-8"), "{e}");
        let e = extraction_text(b"PK\x03\x04garbage".to_vec(), &ZipLimits::default()).unwrap_err();
        assert!(matches!(e, ExtractionError::BadArchive(_)), "{e}");
    }
}
