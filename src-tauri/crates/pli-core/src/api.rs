//! Types the engine hands to front-ends (the desktop UI over IPC, `pli --json`).
//!
//! The TypeScript twins in `ui/src/lib/generated/ipc.ts` are generated from these by ts-rs
//! when the crate's tests run; CI fails if the committed file differs.

use serde::Serialize;
use ts_rs::TS;

use crate::config::{Config, MailboxKind};

/// What the app shows about itself before any mail: version, environment, mailboxes.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export, export_to = "ipc.ts")]
pub struct AppInfo {
    /// Pli's version.
    pub version: String,
    /// `production`, `bas` or `sandbox`; absent without configuration.
    pub environment: Option<String>,
    /// The configuration file in use.
    pub config_path: Option<String>,
    /// Why the configuration could not be loaded, in French.
    pub config_error: Option<String>,
    /// Mailboxes configured in advance.
    pub accounts: Vec<AccountSummary>,
}

/// A configured mailbox, as listed in the side bar.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export, export_to = "ipc.ts")]
pub struct AccountSummary {
    /// Mailbox address.
    pub address: String,
    /// `PER`, `ORG`, `APP` or `CAB`.
    pub kind: String,
    /// Display name, if configured.
    pub display_name: Option<String>,
}

impl AppInfo {
    /// Builds the summary from a configuration load attempt.
    pub fn from_config(path: Option<&std::path::Path>, loaded: Result<&Config, String>) -> Self {
        let (environment, accounts, config_error) = match loaded {
            Ok(cfg) => (
                Some(
                    match cfg.environment {
                        crate::config::Environment::Production => "production",
                        crate::config::Environment::Bas => "bas",
                        crate::config::Environment::Sandbox => "sandbox",
                    }
                    .to_owned(),
                ),
                cfg.accounts
                    .iter()
                    .map(|a| AccountSummary {
                        address: a.address.clone(),
                        kind: match a.kind {
                            MailboxKind::Personal => "PER",
                            MailboxKind::Organisational => "ORG",
                            MailboxKind::Applicative => "APP",
                            MailboxKind::Cabinet => "CAB",
                        }
                        .to_owned(),
                        display_name: a.display_name.clone(),
                    })
                    .collect(),
                None,
            ),
            Err(e) => (None, Vec::new(), Some(e)),
        };
        Self {
            version: crate::VERSION.to_owned(),
            environment,
            config_path: path.map(|p| p.display().to_string()),
            config_error,
            accounts,
        }
    }
}
