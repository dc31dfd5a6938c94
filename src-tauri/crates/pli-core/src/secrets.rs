//! Secrets in the OS keyring only (macOS Keychain, Windows Credential Manager, Secret Service).
//!
//! Every entry lives under the service name [`SERVICE`] with an account name that says what
//! it is: `psc-refresh:<env>:<national id>`, `cache-key:<profile>`, `psc-client-secret:<name>`.

/// A short-lived copy of a secret in the Linux kernel's key-retention service (see there).
pub mod session;

/// The keyring service under which Pli stores everything.
pub const SERVICE: &str = "fr.pli.app";

/// Keyring errors.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    /// The platform store is unavailable (no Secret Service on Linux, locked keychain, …).
    #[error("trousseau du système indisponible : {0}")]
    Unavailable(String),
    /// The entry does not exist.
    #[error("aucun secret enregistré pour {0}")]
    NotFound(String),
}

fn map(account: &str, e: keyring::Error) -> SecretError {
    match e {
        keyring::Error::NoEntry => SecretError::NotFound(account.to_owned()),
        other => SecretError::Unavailable(other.to_string()),
    }
}

fn entry(account: &str) -> Result<keyring::Entry, SecretError> {
    keyring::Entry::new(SERVICE, account).map_err(|e| map(account, e))
}

/// Stores `secret` under `account`, replacing any previous value.
pub fn set(account: &str, secret: &str) -> Result<(), SecretError> {
    session::forget(account);
    entry(account)?
        .set_password(secret)
        .map_err(|e| map(account, e))
}

/// Reads the secret stored under `account`.
pub fn get(account: &str) -> Result<String, SecretError> {
    entry(account)?.get_password().map_err(|e| map(account, e))
}

/// Deletes the secret under `account`; deleting a missing entry is not an error.
pub fn delete(account: &str) -> Result<(), SecretError> {
    session::forget(account);
    match entry(account)?.delete_credential() {
        Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
        Err(e) => Err(map(account, e)),
    }
}
