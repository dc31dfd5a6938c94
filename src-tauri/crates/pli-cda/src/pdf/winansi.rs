//! Unicode → WinAnsiEncoding (PDF 1.4, Annex D), and the glyph widths of the
//! standard Helvetica fonts in that encoding.
//!
//! The rendition uses the standard Type 1 fonts, which every PDF reader has, so
//! text must be written as single bytes of WinAnsiEncoding (Windows-1252 as PDF
//! defines it). The mapping:
//! - ASCII printable characters and Latin-1 (U+00A0–U+00FF) map to themselves;
//! - the 27 characters PDF places at 0x80–0x9F (`€ ‚ ƒ „ … † ‡ ˆ ‰ Š ‹ Œ Ž ‘ ’
//!   “ ” • – — ˜ ™ š › œ ž Ÿ`) map there;
//! - a few common characters outside WinAnsi get a readable substitute:
//!   `≤ ≥ ≠` → `<= >= !=`, `→ ←` → `-> <-`, Unicode minus and hyphens → `-`,
//!   the figure dash and horizontal bar → `–`/`—`, primes → `'`/`"`,
//!   Greek `μ` → `µ`, `α β γ δ κ λ` → `alpha beta gamma delta kappa lambda`,
//!   subscript digits → digits, superscripts other than `¹ ² ³` → `^` and digits
//!   (`10⁹` → `10^9`), the typographic spaces → space (the narrow no-break space
//!   of French typography → no-break space), Latin Extended-A letters and
//!   `Ș ș Ț ț` → their base letter (`Ł` → `L`, `ő` → `o`, `ĳ` → `ij`),
//!   a base letter followed by a combining accent is composed when Latin-1 has
//!   the result (`e` + U+0301 → `é`), other combining marks are dropped;
//! - soft hyphens, zero-width characters and control characters are dropped
//!   (tab, line feed and carriage return become a space);
//! - **every other character becomes `?`** (CJK, emoji, Cyrillic…): the standard
//!   fonts have no glyph for them. Embedding a font would lift this limit.

/// Unicode scalar of each WinAnsi byte 0x80–0x9F (`None`: unused code).
const HIGH: [Option<char>; 32] = [
    Some('\u{20AC}'), // 0x80 €
    None,
    Some('\u{201A}'), // ‚
    Some('\u{0192}'), // ƒ
    Some('\u{201E}'), // „
    Some('\u{2026}'), // …
    Some('\u{2020}'), // †
    Some('\u{2021}'), // ‡
    Some('\u{02C6}'), // ˆ
    Some('\u{2030}'), // ‰
    Some('\u{0160}'), // Š
    Some('\u{2039}'), // ‹
    Some('\u{0152}'), // Œ
    None,
    Some('\u{017D}'), // Ž
    None,
    None,             // 0x90
    Some('\u{2018}'), // ‘
    Some('\u{2019}'), // ’
    Some('\u{201C}'), // “
    Some('\u{201D}'), // ”
    Some('\u{2022}'), // •
    Some('\u{2013}'), // –
    Some('\u{2014}'), // —
    Some('\u{02DC}'), // ˜
    Some('\u{2122}'), // ™
    Some('\u{0161}'), // š
    Some('\u{203A}'), // ›
    Some('\u{0153}'), // œ
    None,
    Some('\u{017E}'), // ž
    Some('\u{0178}'), // Ÿ
];

/// The WinAnsi byte of a character, when WinAnsi has it.
pub(crate) fn byte_of(c: char) -> Option<u8> {
    let u = u32::from(c);
    match u {
        0x20..=0x7E | 0xA0..=0xFF => u8::try_from(u).ok(),
        _ => HIGH
            .iter()
            .position(|h| *h == Some(c))
            .and_then(|i| u8::try_from(0x80 + i).ok()),
    }
}

/// The character a WinAnsi byte stands for.
#[cfg(test)]
pub(crate) fn char_of(b: u8) -> Option<char> {
    match b {
        0x20..=0x7E | 0xA0..=0xFF => Some(char::from(b)),
        0x80..=0x9F => HIGH[usize::from(b - 0x80)],
        _ => None,
    }
}

/// Base letters of Latin Extended-A, U+0100–U+017F (`*`: handled elsewhere).
const LATIN_EXT_A: &[u8; 128] = b"AaAaAaCcCcCcCcDd\
DdEeEeEeEeEeGgGg\
GgGgHhHhIiIiIiIi\
Ii**JjKkkLlLlLlL\
lLlNnNnNn*NnOoOo\
OoOoRrRrRrSsSsSs\
SsTtTtTtUuUuUuUu\
UuUuWwYyYZzZzZzs";

/// Latin-1 letters made of a base letter and a combining mark.
const COMPOSE: &[(char, &str, &str)] = &[
    ('\u{0300}', "AEIOUaeiou", "ÀÈÌÒÙàèìòù"),
    ('\u{0301}', "AEIOUYaeiouy", "ÁÉÍÓÚÝáéíóúý"),
    ('\u{0302}', "AEIOUaeiou", "ÂÊÎÔÛâêîôû"),
    ('\u{0303}', "ANOano", "ÃÑÕãñõ"),
    ('\u{0308}', "AEIOUYaeiouy", "ÄËÏÖÜŸäëïöüÿ"),
    ('\u{030A}', "Aa", "Åå"),
    ('\u{030C}', "SsZz", "ŠšŽž"),
    ('\u{0327}', "Cc", "Çç"),
];

fn compose(base: char, mark: char) -> Option<char> {
    let (_, bases, composed) = COMPOSE.iter().find(|(m, _, _)| *m == mark)?;
    let i = bases.chars().position(|b| b == base)?;
    composed.chars().nth(i)
}

/// The ASCII stand-in for a superscript character, if it is one.
fn superscript(c: char) -> Option<char> {
    Some(match c {
        '\u{2070}' => '0',
        '\u{00B9}' => '1',
        '\u{00B2}' => '2',
        '\u{00B3}' => '3',
        '\u{2074}'..='\u{2079}' => char::from_digit(u32::from(c) - 0x2070, 10)?,
        '\u{207A}' => '+',
        '\u{207B}' => '-',
        _ => return None,
    })
}

/// A readable substitute for a character WinAnsi lacks; `None` when there is none.
fn substitute(c: char) -> Option<&'static str> {
    Some(match c {
        '\u{2264}' => "<=",
        '\u{2265}' => ">=",
        '\u{2260}' => "!=",
        '\u{2192}' => "->",
        '\u{2190}' => "<-",
        '\u{2194}' => "<->",
        '\u{2212}' | '\u{2010}' | '\u{2011}' | '\u{2043}' => "-",
        '\u{2012}' => "\u{2013}",
        '\u{2015}' => "\u{2014}",
        '\u{2032}' | '\u{02BC}' => "'",
        '\u{2033}' => "\"",
        '\u{03BC}' => "\u{00B5}",
        '\u{03B1}' => "alpha",
        '\u{03B2}' => "beta",
        '\u{03B3}' => "gamma",
        '\u{03B4}' => "delta",
        '\u{03BA}' => "kappa",
        '\u{03BB}' => "lambda",
        '\u{2044}' | '\u{2215}' => "/",
        '\u{2217}' => "*",
        '\u{2219}' | '\u{22C5}' => "\u{00B7}",
        '\u{202F}' | '\u{2007}' => "\u{00A0}",
        '\u{2000}'..='\u{200A}' | '\u{205F}' | '\u{3000}' => " ",
        '\u{2080}'..='\u{2089}' => {
            const DIGITS: [&str; 10] = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"];
            DIGITS[(u32::from(c) - 0x2080) as usize]
        }
        '\u{0218}' => "S",
        '\u{0219}' => "s",
        '\u{021A}' => "T",
        '\u{021B}' => "t",
        '\u{0132}' => "IJ",
        '\u{0133}' => "ij",
        '\u{0149}' => "'n",
        _ => return None,
    })
}

fn push_str(out: &mut Vec<u8>, s: &str) {
    out.extend(s.chars().filter_map(byte_of));
}

/// Encodes text as WinAnsi bytes (see the module documentation for the rules).
/// The result holds no byte below 0x20 and none of the unused codes.
pub(crate) fn encode(text: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len());
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        i += 1;
        // A run of superscripts with one WinAnsi lacks: `^` and plain characters.
        if superscript(c).is_some() {
            let end = chars[i - 1..]
                .iter()
                .position(|&x| superscript(x).is_none())
                .map_or(chars.len(), |p| i - 1 + p);
            let run = &chars[i - 1..end];
            if run.iter().all(|&x| byte_of(x).is_some()) {
                out.extend(run.iter().filter_map(|&x| byte_of(x)));
            } else {
                out.push(b'^');
                out.extend(run.iter().filter_map(|&x| superscript(x)).map(|d| d as u8));
            }
            i = end;
            continue;
        }
        if let Some(b) = byte_of(c) {
            if b == 0xAD {
                continue; // soft hyphen: an invisible break hint
            }
            // Compose a following combining mark when Latin-1 has the letter.
            if let Some(&mark) = chars.get(i) {
                if let Some(composed) = compose(c, mark).and_then(byte_of) {
                    out.push(composed);
                    i += 1;
                    continue;
                }
            }
            out.push(b);
            continue;
        }
        match c {
            '\t' | '\n' | '\r' => out.push(b' '),
            '\u{0300}'..='\u{036F}' => {} // combining mark that did not compose
            '\u{200B}'..='\u{200D}' | '\u{2060}' | '\u{FEFF}' => {}
            c if c.is_control() => {}
            '\u{0100}'..='\u{017F}' => {
                let base = LATIN_EXT_A[(u32::from(c) - 0x100) as usize];
                if base == b'*' {
                    push_str(&mut out, substitute(c).unwrap_or("?"));
                } else {
                    out.push(base);
                }
            }
            c => match substitute(c) {
                Some(s) => push_str(&mut out, s),
                None => out.push(b'?'),
            },
        }
    }
    out
}

/// Helvetica (and Helvetica-Oblique) advance widths, 1/1000 em, bytes 0x20–0xFF
/// in WinAnsiEncoding. From Adobe's Core 14 AFM metrics (0 = unused code).
#[rustfmt::skip]
pub(crate) const HELVETICA: [u16; 224] = [
    278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278, // 0x20
    556, 556, 556, 556, 556, 556, 556, 556, 556, 556, 278, 278, 584, 584, 584, 556, // 0x30
    1015, 667, 667, 722, 722, 667, 611, 778, 722, 278, 500, 667, 556, 833, 722, 778, // 0x40
    667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 278, 278, 278, 469, 556, // 0x50
    333, 556, 556, 500, 556, 556, 278, 556, 556, 222, 222, 500, 222, 833, 556, 556, // 0x60
    556, 556, 333, 500, 278, 556, 500, 722, 500, 500, 500, 334, 260, 334, 584, 0, // 0x70
    556, 0, 222, 556, 333, 1000, 556, 556, 333, 1000, 667, 333, 1000, 0, 611, 0, // 0x80
    0, 222, 222, 333, 333, 350, 556, 1000, 333, 1000, 500, 333, 944, 0, 500, 667, // 0x90
    278, 333, 556, 556, 556, 556, 260, 556, 333, 737, 370, 556, 584, 333, 737, 333, // 0xA0
    400, 584, 333, 333, 333, 556, 537, 278, 333, 333, 365, 556, 834, 834, 834, 611, // 0xB0
    667, 667, 667, 667, 667, 667, 1000, 722, 667, 667, 667, 667, 278, 278, 278, 278, // 0xC0
    722, 722, 778, 778, 778, 778, 778, 584, 778, 722, 722, 722, 722, 667, 667, 611, // 0xD0
    556, 556, 556, 556, 556, 556, 889, 500, 556, 556, 556, 556, 278, 278, 278, 278, // 0xE0
    556, 556, 556, 556, 556, 556, 556, 584, 611, 556, 556, 556, 556, 500, 556, 500, // 0xF0
];

/// Helvetica-Bold (and Helvetica-BoldOblique) advance widths, as [`HELVETICA`].
#[rustfmt::skip]
pub(crate) const HELVETICA_BOLD: [u16; 224] = [
    278, 333, 474, 556, 556, 889, 722, 238, 333, 333, 389, 584, 278, 333, 278, 278, // 0x20
    556, 556, 556, 556, 556, 556, 556, 556, 556, 556, 333, 333, 584, 584, 584, 611, // 0x30
    975, 722, 722, 722, 722, 667, 611, 778, 722, 278, 556, 722, 611, 833, 722, 778, // 0x40
    667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 333, 278, 333, 584, 556, // 0x50
    333, 556, 611, 556, 611, 556, 333, 611, 611, 278, 278, 556, 278, 889, 611, 611, // 0x60
    611, 611, 389, 556, 333, 611, 556, 778, 556, 556, 500, 389, 280, 389, 584, 0, // 0x70
    556, 0, 278, 556, 500, 1000, 556, 556, 333, 1000, 667, 333, 1000, 0, 611, 0, // 0x80
    0, 278, 278, 500, 500, 350, 556, 1000, 333, 1000, 556, 333, 944, 0, 500, 667, // 0x90
    278, 333, 556, 556, 556, 556, 280, 556, 333, 737, 370, 556, 584, 333, 737, 333, // 0xA0
    400, 584, 333, 333, 333, 611, 556, 278, 333, 333, 365, 556, 834, 834, 834, 611, // 0xB0
    722, 722, 722, 722, 722, 722, 1000, 722, 667, 667, 667, 667, 278, 278, 278, 278, // 0xC0
    722, 722, 778, 778, 778, 778, 778, 584, 778, 722, 722, 722, 722, 667, 667, 611, // 0xD0
    556, 556, 556, 556, 556, 556, 889, 556, 556, 556, 556, 556, 278, 278, 278, 278, // 0xE0
    611, 611, 611, 611, 611, 611, 611, 584, 611, 611, 611, 611, 611, 556, 611, 556, // 0xF0
];

/// Width of one WinAnsi byte in a width table, 1/1000 em.
pub(crate) fn width(table: &[u16; 224], b: u8) -> u16 {
    b.checked_sub(0x20).map_or(0, |i| table[usize::from(i)])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(bytes: &[u8]) -> String {
        bytes.iter().map(|&b| char_of(b).unwrap()).collect()
    }

    #[test]
    fn french_text_maps_to_winansi() {
        let text = "Hélène Lœuvre, née à Besançon : « ça va » – coût 3 € — l’œuf ; Ÿ ß ÿ";
        let bytes = encode(text);
        assert_eq!(round_trip(&bytes), text);
        assert!(!bytes.contains(&b'?'));
        // A few exact bytes from the PDF specification's table.
        assert_eq!(encode("é"), [0xE9]);
        assert_eq!(encode("è"), [0xE8]);
        assert_eq!(encode("ê"), [0xEA]);
        assert_eq!(encode("à"), [0xE0]);
        assert_eq!(encode("ç"), [0xE7]);
        assert_eq!(encode("œ"), [0x9C]);
        assert_eq!(encode("Œ"), [0x8C]);
        assert_eq!(encode("«»"), [0xAB, 0xBB]);
        assert_eq!(encode("–—"), [0x96, 0x97]);
        assert_eq!(encode("’"), [0x92]);
        assert_eq!(encode("€"), [0x80]);
        assert_eq!(encode("…•"), [0x85, 0x95]);
        assert_eq!(encode("µ°±"), [0xB5, 0xB0, 0xB1]);
    }

    #[test]
    fn every_winansi_byte_round_trips() {
        for b in 0x20..=0xFFu8 {
            if let Some(c) = char_of(b) {
                let expected = if b == 0xAD { vec![] } else { vec![b] };
                assert_eq!(encode(&c.to_string()), expected, "{b:#x} {c:?}");
                assert_eq!(byte_of(c), Some(b));
                assert!(width(&HELVETICA, b) > 0 && width(&HELVETICA_BOLD, b) > 0);
            } else {
                assert!(matches!(b, 0x7F | 0x81 | 0x8D | 0x8F | 0x90 | 0x9D));
                assert_eq!(width(&HELVETICA, b), 0);
            }
        }
    }

    #[test]
    fn outside_winansi() {
        assert_eq!(encode("≥ 0,5 ≤ 1"), b">= 0,5 <= 1");
        assert_eq!(
            encode("10⁹/L, 10¹²/L, 10⁻³"),
            b"10^9/L, 10\xB9\xB2/L, 10^-3"
        );
        assert_eq!(
            encode("H₂O β-HCG γGT 5 μg"),
            b"H2O beta-HCG gammaGT 5 \xB5g"
        );
        assert_eq!(
            encode("Łukasz Ștefan Dvořák ĳ"),
            b"Lukasz Stefan Dvor\xE1k ij"
        );
        // Decomposed accents (NFD) are composed; unknown marks vanish.
        assert_eq!(
            encode("He\u{301}le\u{300}ne c\u{327}a q\u{301}"),
            encode("Hélène ça q")
        );
        // Typographic spaces; the French narrow no-break space stays non-breaking.
        assert_eq!(encode("a\u{2009}b\u{202F}:"), b"a b\xA0:");
        // No glyph: a question mark each.
        assert_eq!(encode("Привет 漢字 😀"), b"?????? ?? ?");
        // Controls vanish or become spaces; soft hyphen and zero-width vanish.
        assert_eq!(
            encode("a\u{0}b\u{7}c\td\ne\u{AD}f\u{200B}g\u{FEFF}"),
            b"abc d efg"
        );
        assert!(encode("\u{80}\u{9F}\u{7F}").is_empty());
    }

    #[test]
    fn encoded_bytes_are_always_printable() {
        let all: String = (0u32..0x3000).filter_map(char::from_u32).collect();
        for b in encode(&all) {
            assert!(char_of(b).is_some(), "{b:#x}");
        }
    }
}
