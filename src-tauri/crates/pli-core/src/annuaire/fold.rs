//! Accent- and case-insensitive comparison, the way a French user types names.

use unicode_normalization::UnicodeNormalization;

/// Lower-cases and strips diacritics (NFD, combining marks dropped), and expands the
/// ligatures French names use (`œ` → `oe`, `æ` → `ae`): `LEFÈVRE` → `lefevre`.
pub fn fold(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.nfd() {
        match c {
            '\u{0300}'..='\u{036f}' => {}
            'œ' | 'Œ' => out.push_str("oe"),
            'æ' | 'Æ' => out.push_str("ae"),
            c => out.extend(c.to_lowercase()),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::fold;

    #[test]
    fn folds_french_names() {
        assert_eq!(fold("LEFÈVRE"), "lefevre");
        assert_eq!(fold("Hélène Œuvray-Ça"), "helene oeuvray-ca");
        assert_eq!(fold("Zoë"), "zoe");
    }
}
