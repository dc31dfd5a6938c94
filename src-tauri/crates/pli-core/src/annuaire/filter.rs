//! Typed directory queries and their RFC 4515 LDAP filters.
//!
//! User text never reaches a filter unescaped: `*`, `(`, `)`, `\` and NUL become `\2a`,
//! `\28`, `\29`, `\5c`, `\00`, so no input can change the filter's structure.

use serde::{Deserialize, Serialize};

use crate::config::{DirectoryAttributes, MailboxKind};

/// What the user asks the directory for. Every field narrows the search (AND).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Query {
    /// Free text over names (family, given, full and display name) and the address; each
    /// word must match.
    pub name: Option<String>,
    /// Profession code (e.g. `10` médecin, `60` infirmier).
    pub profession: Option<String>,
    /// Specialty (savoir-faire) code (e.g. `SM04`).
    pub specialty: Option<String>,
    /// City name (prefix).
    pub city: Option<String>,
    /// Postal code (prefix: `25` finds the whole Doubs).
    pub postal_code: Option<String>,
    /// Department code (`25`, `2A`, `971`).
    pub department: Option<String>,
    /// Mailbox type.
    pub kind: Option<MailboxKind>,
    /// Organisation name (substring).
    pub organisation: Option<String>,
    /// A fragment of the mailbox address (substring, case ignored).
    #[serde(default)]
    pub mail: Option<String>,
}

/// Escapes a value for use inside an RFC 4515 filter assertion.
pub fn escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '*' => out.push_str("\\2a"),
            '(' => out.push_str("\\28"),
            ')' => out.push_str("\\29"),
            '\\' => out.push_str("\\5c"),
            '\0' => out.push_str("\\00"),
            c => out.push(c),
        }
    }
    out
}

/// The words of a free-text query: split on spaces and apostrophes, empty parts dropped.
/// Hyphens stay inside words (`Dupré-Gauthier`, `Jean-François`).
///
/// Control characters (NUL included) are removed first: no name contains one, and some
/// servers end an assertion value at an escaped NUL (`\00`), which would turn `a\0b` into
/// the much wider `a*` (seen with OpenLDAP in the sandbox).
pub fn words(text: &str) -> Vec<String> {
    let text: String = text.chars().filter(|c| !c.is_control()).collect();
    text.split(|c: char| c.is_whitespace() || c == '\'' || c == '’')
        .map(str::trim)
        .filter(|w| !w.is_empty())
        .map(str::to_owned)
        .collect()
}

/// A criterion's value without control characters or surrounding spaces (see [`words`]).
fn clean(v: &str) -> String {
    v.chars()
        .filter(|c| !c.is_control())
        .collect::<String>()
        .trim()
        .to_owned()
}

/// The mailbox type's code in the directory.
pub fn kind_code(kind: MailboxKind) -> &'static str {
    match kind {
        MailboxKind::Personal => "PER",
        MailboxKind::Organisational => "ORG",
        MailboxKind::Applicative => "APP",
        MailboxKind::Cabinet => "CAB",
    }
}

impl Query {
    /// True when no criterion is set (such a query is refused: it would only hit the cap).
    pub fn is_empty(&self) -> bool {
        self == &Query::default()
    }

    /// Builds the LDAP filter. Every entry with a mailbox has `mail`, so `(mail=*)` anchors
    /// the query without assuming the national directory's object classes.
    ///
    /// Names are matched by prefix on family and given names, by substring on the full and
    /// display names, and also approximately (`~=`) on the family name: OpenLDAP-style
    /// servers fold case but not accents, so `lefevre` reaches `LEFÈVRE` only through the
    /// approximate match; [`super::refine`] then keeps the entries that really match once
    /// accents are folded.
    pub fn to_filter(&self, a: &DirectoryAttributes) -> String {
        let mut parts = vec![format!("({}=*)", a.mail)];
        if let Some(text) = &self.name {
            for w in words(text) {
                let e = escape(&w);
                // Approximate (phonetic) matching only for real words: on short or odd
                // fragments it matches thousands of entries and hits the size limit.
                let approx =
                    if w.chars().count() >= 4 && w.chars().all(|c| c.is_alphabetic() || c == '-') {
                        format!(
                            "({sn}~={e})({gn}~={e})",
                            sn = a.family_name,
                            gn = a.given_name
                        )
                    } else {
                        String::new()
                    };
                parts.push(format!(
                    "(|({sn}={e}*){approx}({gn}={e}*)({cn}=*{e}*)({dn}=*{e}*)({mail}={e}*))",
                    sn = a.family_name,
                    gn = a.given_name,
                    cn = a.common_name,
                    dn = a.display_name,
                    mail = a.mail,
                ));
            }
        }
        let mut eq = |attr: &str, v: &Option<String>| {
            if let Some(v) = v.as_deref().map(clean).filter(|v| !v.is_empty()) {
                parts.push(format!("({attr}={})", escape(&v)));
            }
        };
        eq(&a.profession, &self.profession);
        eq(&a.specialty, &self.specialty);
        eq(&a.department, &self.department);
        if let Some(v) = self
            .city
            .as_deref()
            .map(str::trim)
            .filter(|v| !v.is_empty())
        {
            parts.push(format!("({}={}*)", a.city, escape(v)));
        }
        if let Some(v) = self
            .postal_code
            .as_deref()
            .map(str::trim)
            .filter(|v| !v.is_empty())
        {
            parts.push(format!("({}={}*)", a.postal_code, escape(v)));
        }
        if let Some(v) = self
            .organisation
            .as_deref()
            .map(str::trim)
            .filter(|v| !v.is_empty())
        {
            parts.push(format!("({}=*{}*)", a.organisation, escape(v)));
        }
        if let Some(k) = self.kind {
            parts.push(format!("({}={})", a.mailbox_type, kind_code(k)));
        }
        if let Some(v) = self.mail.as_deref().map(clean).filter(|v| !v.is_empty()) {
            parts.push(format!("({}=*{}*)", a.mail, escape(&v)));
        }
        format!("(&{})", parts.concat())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_covers_every_special_character() {
        assert_eq!(escape("a*b(c)d\\e\0f"), "a\\2ab\\28c\\29d\\5ce\\00f");
        assert_eq!(escape("Lefèvre"), "Lefèvre");
    }

    #[test]
    fn injection_cannot_change_the_filter_structure() {
        let a = DirectoryAttributes::default();
        let q = Query {
            name: Some("*)(mail=*".into()),
            ..Query::default()
        };
        let f = q.to_filter(&a);
        // The only unescaped parentheses are ours: balanced, and the input's are escaped.
        assert!(f.contains("\\2a\\29\\28mail=\\2a"), "{f}");
        let depth = f.chars().try_fold(0i32, |d, c| match c {
            '(' => Some(d + 1),
            ')' if d > 0 => Some(d - 1),
            ')' => None,
            _ => Some(d),
        });
        assert_eq!(depth, Some(0), "{f}");
    }

    #[test]
    fn criteria_are_combined_with_and() {
        let a = DirectoryAttributes::default();
        let q = Query {
            name: Some("Jean-François Dupré".into()),
            profession: Some("10".into()),
            specialty: Some("SM04".into()),
            postal_code: Some("25".into()),
            kind: Some(MailboxKind::Personal),
            ..Query::default()
        };
        let f = q.to_filter(&a);
        assert!(f.starts_with("(&(mail=*)(|(sn=Jean-François*)"), "{f}");
        assert!(
            f.contains("(|(sn=Dupré*)(sn~=Dupré)(givenName~=Dupré)"),
            "{f}"
        );
        assert!(f.contains("(mssProfession=10)(mssSpecialite=SM04)"), "{f}");
        assert!(f.contains("(postalCode=25*)"), "{f}");
        assert!(f.ends_with("(mssTypeBAL=PER))"), "{f}");
        let by_mail = Query {
            mail: Some(" secretariat@ch-*".into()),
            ..Query::default()
        };
        assert_eq!(
            by_mail.to_filter(&a),
            "(&(mail=*)(mail=*secretariat@ch-\\2a*))"
        );
    }

    #[test]
    fn words_keep_hyphens_and_split_apostrophes() {
        assert_eq!(words(" d'Estaing  Jean-Luc "), ["d", "Estaing", "Jean-Luc"]);
        assert!(Query::default().is_empty());
    }
}
