//! The SASL XOAUTH2 initial response (Ref#2 ECO.1.2.1):
//! `base64("user=" BAL "\x01auth=Bearer " token "\x01\x01")`.

use std::fmt;

use base64::Engine as _;

use super::AccessToken;

/// An XOAUTH2 initial response for one mailbox. Redacted in `Debug`.
#[derive(Clone)]
pub struct Xoauth2 {
    user: String,
    token: AccessToken,
}

impl Xoauth2 {
    /// Credentials for mailbox `user` (the BAL address) with a PSC access token.
    pub fn new(user: &str, token: &AccessToken) -> Self {
        Self {
            user: user.to_owned(),
            token: token.clone(),
        }
    }

    /// The mailbox address.
    pub fn user(&self) -> &str {
        &self.user
    }

    /// The access token (for SMTP, where lettre builds the string itself).
    pub fn token(&self) -> &AccessToken {
        &self.token
    }

    /// The raw (not yet base64) response, as IMAP's AUTHENTICATE continuation expects.
    pub fn raw(&self) -> String {
        format!(
            "user={}\x01auth=Bearer {}\x01\x01",
            self.user,
            self.token.expose()
        )
    }

    /// The base64 form, as sent on the wire.
    pub fn encoded(&self) -> String {
        base64::engine::general_purpose::STANDARD.encode(self.raw())
    }
}

impl fmt::Debug for Xoauth2 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Xoauth2")
            .field("user", &self.user)
            .field("token", &self.token)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn string_follows_the_xoauth2_layout() {
        let x = Xoauth2::new(
            "anne.lefevre@pli-sandbox.mssante.fr",
            &AccessToken::new("abc.def"),
        );
        assert_eq!(
            x.raw(),
            "user=anne.lefevre@pli-sandbox.mssante.fr\u{1}auth=Bearer abc.def\u{1}\u{1}"
        );
        // Known-answer: base64 of the string above, computed independently (Python base64).
        assert_eq!(
            x.encoded(),
            "dXNlcj1hbm5lLmxlZmV2cmVAcGxpLXNhbmRib3gubXNzYW50ZS5mcgFhdXRoPUJlYXJlciBhYmMuZGVmAQE="
        );
        assert!(!format!("{x:?}").contains("abc.def"));
    }
}
