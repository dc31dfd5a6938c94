//! Types the engine hands to front-ends (the desktop UI over IPC, `pli --json`).
//!
//! The TypeScript twins in `ui/src/lib/generated/ipc.ts` are generated from these by ts-rs
//! when the crate's tests run; CI fails if the committed file differs.

use serde::Serialize;
use ts_rs::TS;

use crate::config::{Config, MailboxKind};

/// Why a command failed, as the window receives it: a kind the UI can act on, and the French
/// sentence it shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(export, export_to = "ipc.ts")]
pub struct CommandError {
    /// What kind of failure.
    pub code: ErrorCode,
    /// The sentence to show (French).
    pub message: String,
}

/// Kinds of command failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export, export_to = "ipc.ts")]
pub enum ErrorCode {
    /// No session: log in first.
    NotLoggedIn,
    /// The session is locked or closed: the cache is not served until the user logs in again.
    Sealed,
    /// Not (or no longer) in the cache.
    NotFound,
    /// Bad input from the user.
    Invalid,
    /// Anything else (the message says what).
    Failed,
}

impl std::fmt::Display for CommandError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl From<String> for CommandError {
    fn from(message: String) -> Self {
        Self {
            code: ErrorCode::Failed,
            message,
        }
    }
}

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
    /// No configuration file was found at all: the first-run screen writes the user's own.
    pub needs_setup: bool,
}

/// What the first-run screen starts from (`pli_core::setup`).
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export, export_to = "ipc.ts")]
pub struct SetupDefaults {
    /// The environments offered, production first.
    pub environments: Vec<SetupEnvironment>,
    /// Where the file will be written.
    pub user_config_path: Option<String>,
}

/// One environment of the first-run screen.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export, export_to = "ipc.ts")]
pub struct SetupEnvironment {
    /// `production`, `bas` or `sandbox`.
    pub id: String,
    /// Its Pro Santé Connect issuer.
    pub psc_issuer: String,
    /// Its directory.
    pub directory: String,
    /// The PSC client identifier built into Pli for it; `None`: the user must give one.
    pub psc_client_id: Option<String>,
}

/// A mail server as the first-run screen shows and edits it.
#[derive(Debug, Clone, Serialize, serde::Deserialize, TS)]
#[ts(export, export_to = "ipc.ts")]
pub struct SetupEndpoint {
    /// Host name (checked against the server certificate).
    pub host: String,
    /// TCP port.
    pub port: u16,
    /// `starttls` or `tls`.
    pub security: String,
}

/// What DNS SRV gave for a mailbox address.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export, export_to = "ipc.ts")]
pub struct SetupDiscovery {
    /// The IMAP server, when published.
    pub imap: Option<SetupEndpoint>,
    /// The submission server, when published.
    pub smtp: Option<SetupEndpoint>,
    /// Why something is missing, in French.
    pub error: Option<String>,
}

/// The first-run screen's answers.
#[derive(Debug, Clone, serde::Deserialize, TS)]
#[ts(export, export_to = "ipc.ts")]
pub struct SetupRequest {
    /// `production`, `bas` or `sandbox`.
    pub environment: String,
    /// The mailbox address.
    pub address: String,
    /// Sender display name.
    pub display_name: Option<String>,
    /// `PER`, `CAB` or `ORG`.
    pub kind: String,
    /// IMAP server.
    pub imap: SetupEndpoint,
    /// Submission server.
    pub smtp: SetupEndpoint,
    /// Absolute path of the operator's trust anchors (PEM).
    pub trust_anchors: String,
    /// PSC client identifier, when the build carries none.
    pub psc_client_id: Option<String>,
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
            needs_setup: path.is_none(),
            config_error,
            accounts,
        }
    }
}

/// Who is logged in (or not), always visible in the app's header.
#[derive(Debug, Clone, Default, Serialize, TS)]
#[ts(export, export_to = "ipc.ts")]
pub struct SessionInfo {
    /// A Pro Santé Connect session is open.
    pub logged_in: bool,
    /// `production`, `bas` or `sandbox`.
    pub environment: String,
    /// "Dr Anne LEFÈVRE"-like name built from the PSC claims.
    pub display_name: Option<String>,
    /// National id (RPPS/ADELI-based).
    pub national_id: Option<String>,
    /// Profession code of the first practice, when known.
    pub profession: Option<String>,
    /// Why the session could not be resumed (French), when it was tried and failed for a
    /// reason other than "no session".
    pub error: Option<String>,
}

/// A mailbox in the side bar with its folders.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export, export_to = "ipc.ts")]
pub struct MailboxView {
    /// Mailbox address.
    pub address: String,
    /// `PER`, `ORG`, `APP` or `CAB`.
    pub kind: String,
    /// Display name.
    pub display_name: Option<String>,
    /// Unread messages in every folder.
    pub unread: i64,
    /// Folders, INBOX first.
    pub folders: Vec<FolderView>,
}

/// A folder with its counts.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export, export_to = "ipc.ts")]
pub struct FolderView {
    /// Row id, used to list its messages.
    pub id: i64,
    /// Server name (`INBOX`, `Sent`, …).
    pub name: String,
    /// `\Sent`, `\Trash`, … (RFC 6154), when the server says.
    pub special_use: Option<String>,
    /// Unread messages.
    pub unread: i64,
    /// All messages.
    pub total: i64,
}

/// Which messages a list shows.
#[derive(Debug, Clone, serde::Deserialize, TS)]
#[ts(export, export_to = "ipc.ts")]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ListScope {
    /// One folder.
    Folder {
        /// Folder row id.
        folder_id: i64,
    },
    /// Every INBOX of every mailbox (professional mail only: patients have their own pane).
    Unified,
    /// Messages exchanged with one patient, both ways, every mailbox.
    Patient {
        /// The patient's INS.
        ins: String,
    },
    /// A full-text search with filters.
    Search {
        /// Words (all required; `word*` for a prefix).
        query: String,
        /// Only unread.
        unread: bool,
        /// Only messages carrying a health document.
        has_documents: bool,
    },
}

/// One row of the message list.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export, export_to = "ipc.ts")]
pub struct MessageRow {
    /// Row id.
    pub id: i64,
    /// Mailbox address.
    pub account: String,
    /// Folder name.
    pub folder: String,
    /// Sender address.
    pub from_addr: Option<String>,
    /// Sender display name.
    pub from_name: Option<String>,
    /// First recipient (shown instead of the sender in Sent).
    pub to_first: Option<String>,
    /// Subject as shown: the `XDM/1.0/DDM+` prefix is removed.
    pub subject: String,
    /// Date (Unix seconds): the Date header, else the arrival.
    pub date: Option<i64>,
    /// Not yet read.
    pub unread: bool,
    /// Flagged.
    pub flagged: bool,
    /// Answered.
    pub answered: bool,
    /// A PDF, CDA or IHE XDM is attached.
    pub has_documents: bool,
    /// The subject carried the `XDM/1.0/DDM+` prefix (an MSSanté document message).
    pub xdm: bool,
    /// The patient's INS: from `X-MSS-INS`-bearing documents, or the patient's address.
    pub patient_ins: Option<String>,
    /// The sender is a patient (Mon espace santé).
    pub from_patient: bool,
    /// The first words of the text.
    pub snippet: Option<String>,
    /// Reports received about it (a sent message): `failed`, `read`, `delivered` or
    /// `delayed`, the most pressing of all recipients.
    pub receipt: Option<String>,
}

/// A window of a message list (the list is virtualised: the UI asks for what it shows).
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export, export_to = "ipc.ts")]
pub struct MessagePage {
    /// Rows in the whole list.
    pub total: i64,
    /// Index of the first row of `rows`.
    pub offset: i64,
    /// The rows.
    pub rows: Vec<MessageRow>,
}

/// An attachment of a message.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export, export_to = "ipc.ts")]
pub struct AttachmentView {
    /// Index among the message's attachments (used to open it).
    pub index: u32,
    /// File name.
    pub name: Option<String>,
    /// MIME type.
    pub mime_type: String,
    /// Size in bytes.
    pub size: i64,
    /// PDF, CDA or IHE XDM.
    pub is_document: bool,
}

/// A message opened in the reading pane.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export, export_to = "ipc.ts")]
pub struct MessageDetail {
    /// The list row.
    pub row: MessageRow,
    /// Message-ID.
    pub message_id: Option<String>,
    /// To addresses.
    pub to: Vec<String>,
    /// Cc addresses.
    pub cc: Vec<String>,
    /// Plain text.
    pub text: String,
    /// HTML sanitised by the engine (no script, no style sheet links, no event handler, no
    /// form; remote images removed unless `allow_remote`), to show in a sandboxed frame.
    pub html: Option<String>,
    /// The HTML referred to remote content that was blocked.
    pub remote_blocked: bool,
    /// The body is in the cache (false: headers only so far).
    pub body_available: bool,
    /// Attachments.
    pub attachments: Vec<AttachmentView>,
    /// The patient this message is about or from, when known.
    pub patient: Option<PatientRef>,
    /// The sender asks for a read receipt that was not answered yet.
    pub receipt_request: Option<ReceiptRequest>,
    /// Delivery and read reports received about this message, per recipient.
    pub deliveries: Vec<DeliveryView>,
}

/// What one report says about one recipient of a sent message.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export, export_to = "ipc.ts")]
pub struct DeliveryView {
    /// The recipient.
    pub recipient: Option<String>,
    /// `read`, `delivered`, `failed`, `delayed` or `other`.
    pub state: String,
    /// The MDN disposition or the DSN status code (e.g. `5.1.1`).
    pub detail: Option<String>,
    /// For a failed or delayed delivery: what it means, in French.
    pub explanation: Option<String>,
    /// When the report arrived (Unix seconds).
    pub at: Option<i64>,
}

/// A read receipt asked by the sender (RFC 8098), waiting for the user's decision.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export, export_to = "ipc.ts")]
pub struct ReceiptRequest {
    /// Where the receipt would go.
    pub to: String,
    /// That address is not the message's Return-Path: possibly not the sender (warn).
    pub differs_from_return_path: bool,
}

/// A patient as named in the app (ECO.3.1.2: birth name, first given name, INS).
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export, export_to = "ipc.ts")]
pub struct PatientRef {
    /// INS (NIR or NIA).
    pub ins: String,
    /// Mon espace santé address built from the INS.
    pub address: String,
    /// Birth (family) name, when known.
    pub birth_name: Option<String>,
    /// First given name, when known.
    pub given_name: Option<String>,
}

/// One conversation of the patient pane.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export, export_to = "ipc.ts")]
pub struct PatientConversation {
    /// Who.
    pub patient: PatientRef,
    /// Messages, both ways.
    pub messages: i64,
    /// Unread messages from the patient.
    pub unread: i64,
    /// Last message (Unix seconds).
    pub last_at: Option<i64>,
    /// When the exchange was ended (Unix seconds); `None` while it is open.
    pub ended_at: Option<i64>,
    /// The mailbox the patient wrote to.
    pub account: String,
}

/// A health document opened from an attachment.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export, export_to = "ipc.ts")]
pub struct DocumentView {
    /// `cda`, `xdm`, `pdf` or `file`.
    pub kind: String,
    /// Attachment file name.
    pub name: String,
    /// Self-contained safe HTML rendered by pli-cda (for a CDA, or the first CDA of an XDM).
    pub html: Option<String>,
    /// PDF bytes in base64 (a standalone PDF, or the PDF inside an N1 CDA).
    pub pdf_base64: Option<String>,
    /// Document title.
    pub title: Option<String>,
    /// `N1` or `N3`.
    pub level: Option<String>,
    /// The patient named in the document.
    pub patient: Option<PatientRef>,
    /// Why the document's patient differs from the message's (French), if it does.
    pub patient_mismatch: Option<String>,
    /// Documents of an XDM package.
    pub xdm_documents: Vec<XdmDocumentView>,
    /// Checks that failed (hash, size) and other warnings, in French.
    pub warnings: Vec<String>,
}

/// One document of an IHE XDM package.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export, export_to = "ipc.ts")]
pub struct XdmDocumentView {
    /// Path in the package.
    pub path: Option<String>,
    /// MIME type.
    pub mime_type: Option<String>,
    /// SHA-1 of METADATA.XML matches (when declared).
    pub hash_ok: Option<bool>,
}

/// A file the user attached in the compose window.
#[derive(Debug, Clone, Serialize, serde::Deserialize, TS)]
#[ts(export, export_to = "ipc.ts")]
pub struct FileInput {
    /// File name.
    pub name: String,
    /// Contents, base64.
    pub base64: String,
}

/// What the compose window sends (to send it, or to save it as a draft).
#[derive(Debug, Clone, Default, Serialize, serde::Deserialize, TS)]
#[ts(export, export_to = "ipc.ts")]
pub struct DraftInput {
    /// Sending mailbox (default: the personal mailbox).
    pub from: Option<String>,
    /// Recipients.
    pub to: Vec<String>,
    /// Copies.
    pub cc: Vec<String>,
    /// A patient recipient, by INS (the address is built from it, never typed).
    pub patient_ins: Option<String>,
    /// Subject (replaced by the `XDM/1.0/DDM+` form when CDA documents are attached).
    pub subject: String,
    /// Text.
    pub body: String,
    /// Ask for a read receipt (`Disposition-Notification-To`, RFC 8098; ECO.3.1.6 on the
    /// other side).
    pub receipt: bool,
    /// Ask for delivery receipts (DSN, RFC 3461, ECO.2.3.1: `NOTIFY=SUCCESS,FAILURE,DELAY`
    /// where the server offers DSN). Absent from drafts saved before it existed: off.
    #[serde(default)]
    pub delivery_receipt: bool,
    /// The message answered (row id), for `In-Reply-To`/`References`.
    pub reply_to_message: Option<i64>,
    /// Attached files; CDA documents are packaged as IHE XDM.
    pub attachments: Vec<FileInput>,
}

/// A draft saved in the cache.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export, export_to = "ipc.ts")]
pub struct SavedDraft {
    /// The fields and files as last saved.
    pub draft: DraftInput,
    /// When (Unix seconds).
    pub updated_at: i64,
}

/// What became of a message handed to the outbox.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export, export_to = "ipc.ts")]
pub struct SendResult {
    /// Message-ID.
    pub message_id: String,
    /// Final subject.
    pub subject: String,
    /// `sent`, `queued` (in the outbox, retried later) or `failed`.
    pub state: String,
    /// Why it is not sent yet or failed (French).
    pub error: Option<String>,
    /// Recipients the server refused, with its reason.
    pub refused: Vec<RefusedRecipient>,
}

/// A recipient refused by the server.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export, export_to = "ipc.ts")]
pub struct RefusedRecipient {
    /// Address.
    pub address: String,
    /// The server's reason.
    pub reason: String,
}

/// A directory query from the compose window or the directory dialog.
#[derive(Debug, Clone, Default, serde::Deserialize, TS)]
#[ts(export, export_to = "ipc.ts")]
pub struct DirectoryQueryInput {
    /// Name words.
    pub text: Option<String>,
    /// Profession code.
    pub profession: Option<String>,
    /// Specialty code.
    pub specialty: Option<String>,
    /// City.
    pub city: Option<String>,
    /// Postal code prefix.
    pub postal_code: Option<String>,
    /// `PER`, `ORG`, `APP` or `CAB`.
    pub kind: Option<String>,
}

/// A directory answer.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export, export_to = "ipc.ts")]
pub struct DirectoryAnswer {
    /// Entries, recent correspondents first.
    pub entries: Vec<crate::annuaire::DirectoryEntry>,
    /// Incomplete: refine the search.
    pub truncated: bool,
    /// Where the directory part came from: `ldap`, `fhir` or `local` (the offline copy).
    pub source: String,
    /// Why the answer is not LDAP's, when it fell back (LDAP unreachable or silent), in the
    /// user's words.
    pub notice: Option<String>,
}

/// One line of the audit trail.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export, export_to = "ipc.ts")]
pub struct AuditRow {
    /// Unix seconds.
    pub at: i64,
    /// National id, or `pli` for the engine.
    pub actor: String,
    /// Mailbox.
    pub account: Option<String>,
    /// What was done.
    pub action: String,
    /// The server request, without secrets.
    pub request: String,
    /// Outcome.
    pub outcome: String,
}

/// Engine events pushed to the UI (Tauri event `pli://engine`).
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export, export_to = "ipc.ts")]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum EngineEvent {
    /// Sync progress in a folder.
    SyncProgress {
        /// Mailbox.
        account: String,
        /// Folder.
        folder: String,
        /// `headers` or `bodies`.
        phase: String,
        /// Done so far.
        done: i64,
        /// To do.
        total: i64,
    },
    /// A sync pass ended: lists and counts may have changed.
    MailChanged {
        /// Mailbox.
        account: String,
        /// New incoming messages: in folders that receive mail (not Sent, Drafts, Trash…),
        /// read and delivery reports folded into their message left out (they call for no
        /// notification).
        new: i64,
    },
    /// A sync pass failed (it is retried with back-off).
    SyncFailed {
        /// Mailbox.
        account: String,
        /// Why (French).
        error: String,
    },
    /// CIBA started: show the binding message the phone or card shows.
    CibaStarted {
        /// Words shown on the e-CPS app too.
        binding_message: String,
        /// Seconds before the request expires.
        expires_in: i64,
    },
    /// The outbox changed (queued, sent, failed).
    OutboxChanged {
        /// Mailbox.
        account: String,
    },
    /// The session ended (logout, refused refresh): back to the login screen.
    SessionEnded,
    /// The session locked after inactivity: mail is hidden and the person must log in again
    /// (the stored refresh token was forgotten, so nothing resumes without them).
    Locked {
        /// Who was logged in, to pre-fill the login.
        national_id: Option<String>,
        /// The inactivity delay, in minutes.
        after_minutes: i64,
    },
}

/// A compose window asked for from outside: a `mailto:` link, or a `pli://compose` link from
/// patient-record software (to a patient by INS, with documents). Never sent by itself.
#[derive(Debug, Clone, Default, Serialize, TS)]
#[ts(export, export_to = "ipc.ts")]
pub struct ComposeRequest {
    /// Recipients.
    pub to: Vec<String>,
    /// Copies.
    pub cc: Vec<String>,
    /// Patient recipient, by INS (key checked).
    pub patient_ins: Option<String>,
    /// Subject.
    pub subject: String,
    /// Text.
    pub body: String,
    /// Files named by the link, read from disk; the compose window shows their full path.
    pub attachments: Vec<LinkedFile>,
    /// What could not be taken from the link (French), shown to the user.
    pub problems: Vec<String>,
}

/// A file named by a link.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export, export_to = "ipc.ts")]
pub struct LinkedFile {
    /// Full path as given.
    pub path: String,
    /// File name.
    pub name: String,
    /// Contents, base64.
    pub base64: String,
}

/// A message in the outbox (not yet accepted by the server, or refused for good).
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export, export_to = "ipc.ts")]
pub struct OutboxItem {
    /// Row id.
    pub id: i64,
    /// Sending mailbox.
    pub account: String,
    /// Message-ID.
    pub message_id: String,
    /// Subject (from the queued bytes).
    pub subject: String,
    /// Recipients.
    pub recipients: Vec<String>,
    /// `pending` (waiting for a retry), `sending`, `submitted` (accepted, copy to Sent
    /// pending) or `failed` (refused for good).
    pub state: String,
    /// Attempts so far.
    pub attempts: i64,
    /// The last error, in the server's or the engine's words.
    pub last_error: Option<String>,
}
