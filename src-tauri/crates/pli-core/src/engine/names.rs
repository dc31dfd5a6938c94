//! How subjects and patients are shown.

/// Removes the `XDM/1.0/DDM+` prefix of MSSanté document messages (ECO.2.1.3): the list shows
/// the document's label and patient. Returns the shown subject and whether the prefix was
/// there.
pub fn shown_subject(subject: Option<&str>) -> (String, bool) {
    let s = subject.unwrap_or("").trim();
    const PREFIX: &str = "XDM/1.0/DDM";
    if s.get(..PREFIX.len())
        .is_some_and(|head| head.eq_ignore_ascii_case(PREFIX))
    {
        let rest = s[PREFIX.len()..].trim_start_matches('+').trim();
        return (rest.to_owned(), true);
    }
    (s.to_owned(), false)
}

/// Splits a Mon espace santé display name ("Léa MARTIN", "Jean-Pierre DUPONT-MOREAU") into
/// (birth name, first given name): the upper-case words are the name, the first other word is
/// the first given name. Mon espace santé puts the patient's name there (spec §3); which of
/// the birth or used name it is, is not documented: we show it as the name the patient gave.
pub fn split_patient_name(display: &str) -> (Option<String>, Option<String>) {
    let words: Vec<&str> = display.split_whitespace().collect();
    let is_upper =
        |w: &str| w.chars().any(char::is_alphabetic) && !w.chars().any(char::is_lowercase);
    let family: Vec<&str> = words.iter().copied().filter(|w| is_upper(w)).collect();
    let given = words.iter().copied().find(|w| !is_upper(w));
    let family = (!family.is_empty()).then(|| family.join(" "));
    match (family, given) {
        (None, Some(_)) if words.len() >= 2 => {
            // "Léa Martin": no upper-case word; the last word is taken as the name.
            (
                Some(words[words.len() - 1].to_uppercase()),
                Some(words[0].to_owned()),
            )
        }
        (f, g) => (f, g.map(str::to_owned)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_xdm_prefix_is_hidden() {
        assert_eq!(
            shown_subject(Some("XDM/1.0/DDM+CR de biologie MARTIN Léa 19920315")),
            ("CR de biologie MARTIN Léa 19920315".into(), true)
        );
        assert_eq!(shown_subject(Some("Bonjour")), ("Bonjour".into(), false));
        assert_eq!(shown_subject(None), (String::new(), false));
        assert_eq!(shown_subject(Some("XDM")), ("XDM".into(), false));
        // Multi-byte characters where the prefix would end.
        assert_eq!(
            shown_subject(Some("Facture d’honoraires")),
            ("Facture d’honoraires".into(), false)
        );
    }

    #[test]
    fn patient_names() {
        assert_eq!(
            split_patient_name("Léa MARTIN"),
            (Some("MARTIN".into()), Some("Léa".into()))
        );
        assert_eq!(
            split_patient_name("Jean-Pierre DUPONT-MOREAU"),
            (Some("DUPONT-MOREAU".into()), Some("Jean-Pierre".into()))
        );
        assert_eq!(
            split_patient_name("Noël CASANOVA ÉPOUSE"),
            (Some("CASANOVA ÉPOUSE".into()), Some("Noël".into()))
        );
        assert_eq!(
            split_patient_name("Léa Martin"),
            (Some("MARTIN".into()), Some("Léa".into()))
        );
        assert_eq!(split_patient_name(""), (None, None));
    }
}
