//! A bearer token that cannot leak through `Debug`, `Display` or serde.

use std::fmt;

/// A PSC access token, kept in memory only (Ref#2 ECO.1.2.5). `Debug` prints a redacted
/// marker; the only way to the value is [`AccessToken::expose`], used where it goes on the wire.
#[derive(Clone, PartialEq, Eq)]
pub struct AccessToken(String);

impl AccessToken {
    /// Wraps a token.
    pub fn new(token: impl Into<String>) -> Self {
        Self(token.into())
    }

    /// The token itself, for the one place that sends it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AccessToken(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_token() {
        let t = AccessToken::new("eyJhbGciOiJSUzI1NiJ9.secret");
        let shown = format!("{t:?} {:?}", Some(&t));
        assert!(!shown.contains("secret"), "{shown}");
        assert_eq!(t.expose(), "eyJhbGciOiJSUzI1NiJ9.secret");
    }
}
