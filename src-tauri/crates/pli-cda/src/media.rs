//! Embedded media: base64 decoding under limits, and type sniffing.
//!
//! The declared `mediaType` is only informative: what the renderer does with a
//! medium depends on the type recognised from its bytes. (The corpus has a PNG
//! declared as `image/jpeg`; a hostile sender can declare HTML as an image.)

use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::DecodePaddingMode;
use base64::Engine as _;

use crate::error::CdaError;

/// Lenient base64: standard alphabet, padding optional, trailing bits tolerated.
const B64: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_decode_padding_mode(DecodePaddingMode::Indifferent)
        .with_decode_allow_trailing_bits(true),
);

/// Decodes base64 text (whitespace anywhere is ignored), refusing anything that
/// would decode to more than `max_bytes`.
pub(crate) fn decode_base64(text: &str, max_bytes: usize) -> Result<Vec<u8>, CdaError> {
    let compact: Vec<u8> = text.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    let estimated = compact.len() / 4 * 3 + 3;
    if estimated > max_bytes.saturating_add(3) {
        return Err(CdaError::Media(format!(
            "an embedded file decodes to about {estimated} bytes (limit {max_bytes})"
        )));
    }
    B64.decode(&compact)
        .map_err(|e| CdaError::Media(format!("invalid base64: {e}")))
}

/// Encodes bytes as standard base64 (for `data:` URIs of images).
pub(crate) fn encode_base64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Recognises a media type from the first bytes.
///
/// Returns one of: `application/pdf`, `image/png`, `image/jpeg`, `image/gif`,
/// `image/webp`, `image/tiff`, `application/dicom`, `application/rtf`,
/// `application/zip`, `application/gzip`, `text/html`, `image/svg+xml`,
/// `application/xml`, `text/plain`, `application/octet-stream`.
pub fn sniff(bytes: &[u8]) -> &'static str {
    let starts = |m: &[u8]| bytes.starts_with(m);
    if starts(b"%PDF-") {
        return "application/pdf";
    }
    if starts(b"\x89PNG\r\n\x1a\n") {
        return "image/png";
    }
    if starts(&[0xFF, 0xD8, 0xFF]) {
        return "image/jpeg";
    }
    if starts(b"GIF87a") || starts(b"GIF89a") {
        return "image/gif";
    }
    if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        return "image/webp";
    }
    if starts(b"II*\0") || starts(b"MM\0*") {
        return "image/tiff";
    }
    if bytes.len() >= 132 && &bytes[128..132] == b"DICM" {
        return "application/dicom";
    }
    if starts(b"{\\rtf") {
        return "application/rtf";
    }
    if starts(b"PK\x03\x04") {
        return "application/zip";
    }
    if starts(&[0x1F, 0x8B]) {
        return "application/gzip";
    }
    let body = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let head = &body[..body.len().min(1024)];
    let head_text = String::from_utf8_lossy(head).to_ascii_lowercase();
    let trimmed = head_text.trim_start();
    if trimmed.starts_with('<') {
        // Markup: anything that a browser could treat as active content.
        if [
            "<svg",
            "<html",
            "<!doctype html",
            "<script",
            "<body",
            "<head",
            "<iframe",
        ]
        .iter()
        .any(|m| head_text.contains(m))
        {
            return if head_text.contains("<svg") && !head_text.contains("<html") {
                "image/svg+xml"
            } else {
                "text/html"
            };
        }
        if trimmed.starts_with("<?xml") {
            return "application/xml";
        }
    }
    let text_like = std::str::from_utf8(body).is_ok()
        && !body
            .iter()
            .any(|&b| b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r' | 0x0C));
    if text_like {
        return "text/plain";
    }
    "application/octet-stream"
}

/// True for the image types a webview displays without running anything.
pub fn is_inline_image(sniffed: &str) -> bool {
    matches!(
        sniffed,
        "image/png" | "image/jpeg" | "image/gif" | "image/webp"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffing() {
        assert_eq!(sniff(b"%PDF-1.7\n"), "application/pdf");
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\nxxxx"), "image/png");
        assert_eq!(sniff(&[0xFF, 0xD8, 0xFF, 0xE0]), "image/jpeg");
        assert_eq!(sniff(b"<html><script>alert(1)</script>"), "text/html");
        assert_eq!(
            sniff(b"  <?xml version='1.0'?><svg xmlns='x'/>"),
            "image/svg+xml"
        );
        assert_eq!(sniff(b"<?xml version='1.0'?><a/>"), "application/xml");
        assert_eq!(sniff("Compte rendu\n".as_bytes()), "text/plain");
        assert_eq!(sniff(&[0, 1, 2, 3]), "application/octet-stream");
    }

    #[test]
    fn base64_is_lenient_but_bounded() {
        assert_eq!(decode_base64("JVBE\nRi0=", 100).unwrap(), b"%PDF-");
        assert_eq!(decode_base64("JVBERi0", 100).unwrap(), b"%PDF-");
        assert!(decode_base64("QUFB".repeat(100).as_str(), 10).is_err());
        assert!(decode_base64("!!!", 10).is_err());
    }
}
