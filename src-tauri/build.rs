//! Declares Pli's own commands to Tauri's access control, so the window may call only those
//! its capability (`capabilities/default.json`) allows: each command gets an `allow-<name>`
//! permission, and nothing is allowed by default.

/// Every command of `src/commands/`, as registered in `lib.rs`.
const COMMANDS: &[&str] = &[
    "app_info",
    "setup_defaults",
    "setup_discover",
    "setup_complete",
    "session_info",
    "session_resume",
    "login_ciba",
    "login_browser",
    "logout",
    "touch",
    "mailboxes",
    "list_messages",
    "read_message",
    "set_flag",
    "patients",
    "sync_now",
    "answer_receipt",
    "add_mailbox",
    "open_attachment",
    "save_attachment_pdf",
    "send_message",
    "save_draft",
    "load_draft",
    "delete_draft",
    "resume_draft",
    "end_exchange",
    "directory_suggest",
    "directory_search",
    "outbox_items",
    "retry_outbox",
    "discard_outbox",
    "audit_entries",
    "export_audit",
    "take_compose_requests",
];

fn main() {
    tauri_build::try_build(
        tauri_build::Attributes::new()
            .app_manifest(tauri_build::AppManifest::new().commands(COMMANDS)),
    )
    .expect("tauri-build");
}
