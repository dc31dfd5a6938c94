//! The cache key: 256 random bits, generated once and kept in the OS keyring.

use std::fmt;
use std::path::Path;

use super::StoreError;
use crate::secrets::{self, SecretError};

/// A SQLCipher raw key (32 bytes, hex). Its `Debug` never shows the value.
#[derive(Clone, PartialEq, Eq)]
pub struct CacheKey(String);

impl fmt::Debug for CacheKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CacheKey(<redacted>)")
    }
}

impl CacheKey {
    /// A fresh random key from the operating system's CSPRNG (through rustls' provider).
    pub fn generate() -> Self {
        let mut bytes = [0u8; 32];
        rustls::crypto::ring::default_provider()
            .secure_random
            .fill(&mut bytes)
            .expect("the operating system's random generator works");
        Self(bytes.iter().map(|b| format!("{b:02x}")).collect())
    }

    /// A key from its 64-hex-digit form; `None` if malformed.
    pub fn from_hex(hex: &str) -> Option<Self> {
        (hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()))
            .then(|| Self(hex.to_ascii_lowercase()))
    }

    /// The keyring account holding the key of `profile`.
    pub fn keyring_account(profile: &str) -> String {
        format!("cache-key:{profile}")
    }

    /// Reads the profile's key from the keyring; when the database does not exist yet and no
    /// key is stored, generates and stores one. A database without its key is an error (never
    /// silently replaced: that would make the existing file unreadable).
    pub fn from_keyring(profile: &str, db: &Path) -> Result<Self, StoreError> {
        let account = Self::keyring_account(profile);
        let binding = db.to_string_lossy();
        match secrets::get(&account) {
            Ok(hex) => {
                let key = Self::from_hex(hex.trim()).ok_or(StoreError::WrongKey {
                    path: db.to_owned(),
                })?;
                secrets::session::put(&account, &binding, &key.0);
                Ok(key)
            }
            Err(SecretError::NotFound(_)) if !db.exists() => {
                let key = Self::generate();
                secrets::set(&account, &key.0)?;
                secrets::session::put(&account, &binding, &key.0);
                Ok(key)
            }
            Err(SecretError::NotFound(_)) => Err(StoreError::KeyMissing {
                account,
                path: db.to_owned(),
            }),
            Err(e) => Err(e.into()),
        }
    }

    /// The session copy of the profile's key for the database `db` (`secrets::session`), if
    /// one is there: only to open an existing file, never to create one.
    pub fn from_session_copy(profile: &str, db: &Path) -> Option<Self> {
        let hex = secrets::session::get(&Self::keyring_account(profile), &db.to_string_lossy())?;
        Self::from_hex(&hex)
    }

    /// Drops the session copy of the profile's key (it did not open the file).
    pub fn forget_session_copy(profile: &str) {
        secrets::session::forget(&Self::keyring_account(profile));
    }

    /// The value of `PRAGMA key`: a raw key, so SQLCipher skips passphrase derivation.
    pub(crate) fn pragma_value(&self) -> String {
        format!("\"x'{}'\"", self.0)
    }
}
