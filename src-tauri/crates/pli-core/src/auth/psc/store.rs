//! The refresh token in the OS keyring, and nowhere else.
//!
//! Entries (service `fr.pli.app`):
//! - `psc-refresh:<env>:<national id>`: JSON `{client, sub, refresh_token, shown}`, where
//!   `shown` is who the header shows (name, profession), so that the app can show the cached
//!   mail of the person at start before PSC answers (or while it cannot be reached);
//! - `psc-current:<env>`: the national id of the last person who logged in, so that `whoami` and
//!   the app can resume without asking who it is (not secret, kept next to the secret so that
//!   clearing the keyring clears both).

use serde::{Deserialize, Serialize};

use super::provider::ClientKind;
use crate::config::Environment;
use crate::secrets::{self, SecretError};

/// What is kept for a session between runs.
#[derive(Clone, Serialize, Deserialize)]
pub(crate) struct StoredSession {
    pub client: ClientKind,
    pub sub: String,
    pub refresh_token: String,
    /// Absent in entries written before it existed.
    #[serde(default)]
    pub shown: Option<ShownIdentity>,
}

/// Who a stored session belongs to, as the app shows it (not secret).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShownIdentity {
    /// National id (RPPS/ADELI).
    pub national_id: String,
    /// Name as the header shows it (`Dr Anne LEFÈVRE`).
    pub display_name: String,
    /// Profession code of the first activity, if any.
    pub profession: Option<String>,
}

impl std::fmt::Debug for StoredSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredSession")
            .field("client", &self.client)
            .field("sub", &self.sub)
            .field("refresh_token", &"<redacted>")
            .finish()
    }
}

/// The environment's name in account names.
pub fn env_name(env: Environment) -> &'static str {
    match env {
        Environment::Production => "production",
        Environment::Bas => "bas",
        Environment::Sandbox => "sandbox",
    }
}

/// Keyring account of a person's refresh token.
pub fn refresh_account(env: Environment, national_id: &str) -> String {
    format!("psc-refresh:{}:{national_id}", env_name(env))
}

/// Keyring account naming the last person logged in.
pub fn current_account(env: Environment) -> String {
    format!("psc-current:{}", env_name(env))
}

pub(crate) fn save(
    env: Environment,
    national_id: &str,
    s: &StoredSession,
) -> Result<(), SecretError> {
    let json = serde_json::to_string(s).expect("serialisable");
    secrets::set(&refresh_account(env, national_id), &json)?;
    secrets::set(&current_account(env), national_id)
}

pub(crate) fn load(env: Environment, national_id: &str) -> Result<StoredSession, SecretError> {
    let account = refresh_account(env, national_id);
    let json = secrets::get(&account)?;
    serde_json::from_str(&json).map_err(|_| SecretError::NotFound(account))
}

/// The national id of the last login in this environment, if any.
pub fn current(env: Environment) -> Result<Option<String>, SecretError> {
    match secrets::get(&current_account(env)) {
        Ok(id) => Ok(Some(id)),
        Err(SecretError::NotFound(_)) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Forgets a person's session (and the "current" pointer if it names them).
pub(crate) fn clear(env: Environment, national_id: &str) -> Result<(), SecretError> {
    secrets::delete(&refresh_account(env, national_id))?;
    if current(env)?.as_deref() == Some(national_id) {
        secrets::delete(&current_account(env))?;
    }
    Ok(())
}

/// Who the last login of `env` was, as stored with its session, without any network: `None`
/// when there is no stored session, or one written before identities were kept.
pub fn stored_identity(env: Environment) -> Result<Option<ShownIdentity>, SecretError> {
    let Some(id) = current(env)? else {
        return Ok(None);
    };
    match load(env, &id) {
        Ok(s) => Ok(s.shown.filter(|shown| shown.national_id == id)),
        Err(SecretError::NotFound(_)) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Forgets the stored session of `national_id` (or of the last login) without contacting the
/// provider: the local half of a logout when PSC cannot be reached.
pub fn forget(env: Environment, national_id: Option<&str>) -> Result<(), SecretError> {
    let id = match national_id {
        Some(n) => n.to_owned(),
        None => match current(env)? {
            Some(n) => n,
            None => return Ok(()),
        },
    };
    clear(env, &id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accounts_are_namespaced_by_environment_and_person() {
        assert_eq!(
            refresh_account(Environment::Bas, "810100000001"),
            "psc-refresh:bas:810100000001"
        );
        assert_eq!(
            current_account(Environment::Production),
            "psc-current:production"
        );
        let s = StoredSession {
            client: ClientKind::Ciba,
            sub: "f:x:1".into(),
            refresh_token: "rt-secret".into(),
            shown: None,
        };
        // Entries written before `shown` existed still load.
        let old: StoredSession =
            serde_json::from_str(r#"{"client":"ciba","sub":"s","refresh_token":"r"}"#).unwrap();
        assert!(old.shown.is_none());
        assert!(!format!("{s:?}").contains("rt-secret"));
    }
}
