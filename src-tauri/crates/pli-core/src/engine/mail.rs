//! Reading the cache for the UI: mailboxes and counts, list pages, one message (with its HTML
//! sanitised), flags, patient conversations, search, the audit trail.

use std::borrow::Cow;
use std::sync::atomic::{AtomicBool, Ordering};

use super::names::{shown_subject, split_patient_name};
use super::{Engine, EngineError, Result};
use crate::api::{
    AttachmentView, AuditRow, FolderView, ListScope, MailboxView, MessageDetail, MessagePage,
    MessageRow, PatientConversation, PatientRef,
};
use crate::mssante::patient_ins_of;
use crate::store::{LocalOp, PageScope, RowData, SearchFilter};

/// The most rows one page may ask for.
const MAX_PAGE: i64 = 500;

/// Sanitises untrusted mail HTML: an allow-list of tags and attributes (ammonia), no script,
/// style sheet link, form, frame or event handler; links get `rel="noopener noreferrer"`;
/// images and other resources from the network are removed unless `allow_remote` (tracking
/// pixels, ECO privacy); returns the HTML and whether something remote was removed.
pub fn sanitize_html(html: &str, allow_remote: bool) -> (String, bool) {
    let blocked = std::sync::Arc::new(AtomicBool::new(false));
    let flag = blocked.clone();
    let clean = ammonia::Builder::default()
        .link_rel(Some("noopener noreferrer"))
        .url_relative(ammonia::UrlRelative::Deny)
        .attribute_filter(move |element, attribute, value| {
            let remote = value.trim_start().to_ascii_lowercase();
            let is_remote = remote.starts_with("http:")
                || remote.starts_with("https:")
                || remote.starts_with("//");
            if element != "a" && matches!(attribute, "src" | "srcset" | "background") && is_remote {
                if allow_remote {
                    return Some(Cow::Borrowed(value));
                }
                flag.store(true, Ordering::Relaxed);
                return None;
            }
            Some(Cow::Borrowed(value))
        })
        .clean(html)
        .to_string();
    (clean, blocked.load(Ordering::Relaxed))
}

impl Engine {
    pub(super) fn patient_domain(&self) -> &str {
        &self.inner.cfg.operator.patient_domain
    }

    /// The patient a cached message is from or about.
    fn patient_of(&self, r: &RowData) -> Option<PatientRef> {
        let domain = self.patient_domain();
        let from_ins = r
            .from_addr
            .as_deref()
            .and_then(|a| patient_ins_of(a, domain));
        if let Some(ins) = from_ins {
            let (birth_name, given_name) = r
                .from_name
                .as_deref()
                .map(split_patient_name)
                .unwrap_or((None, None));
            return Some(PatientRef {
                address: ins.patient_address(domain),
                ins: ins.as_str().to_owned(),
                birth_name,
                given_name,
            });
        }
        let to_ins = r
            .to_addrs
            .as_deref()
            .unwrap_or("")
            .split(',')
            .find_map(|a| patient_ins_of(a.trim(), domain));
        if let Some(ins) = to_ins {
            return Some(PatientRef {
                address: ins.patient_address(domain),
                ins: ins.as_str().to_owned(),
                birth_name: None,
                given_name: None,
            });
        }
        // X-MSS-INS is only a flag (`O`/`N`) on MSSanté mail; a value is used only when it is
        // a valid INS.
        let ins = crate::mssante::InsNumber::parse(r.patient_ins.as_deref()?).ok()?;
        Some(PatientRef {
            address: ins.patient_address(domain),
            ins: ins.as_str().to_owned(),
            birth_name: None,
            given_name: None,
        })
    }

    fn message_row(&self, r: &RowData) -> MessageRow {
        let (subject, xdm) = shown_subject(r.subject.as_deref());
        let domain = self.patient_domain();
        let from_patient = r
            .from_addr
            .as_deref()
            .is_some_and(|a| patient_ins_of(a, domain).is_some());
        let has_flag = |f: &str| r.flags.split(' ').any(|x| x.eq_ignore_ascii_case(f));
        MessageRow {
            id: r.id,
            account: r.account.clone(),
            folder: r.folder.clone(),
            from_addr: r.from_addr.clone(),
            from_name: r.from_name.clone(),
            to_first: r
                .to_addrs
                .as_deref()
                .and_then(|t| t.split(',').next())
                .map(|t| t.trim().to_owned())
                .filter(|t| !t.is_empty()),
            subject,
            date: r.sent_at.or(r.received_at),
            unread: !r.seen,
            flagged: r.flagged,
            answered: has_flag("\\Answered"),
            has_documents: r.has_documents,
            xdm,
            patient_ins: self.patient_of(r).map(|p| p.ins),
            from_patient,
            snippet: r.snippet.clone(),
            receipt: r.report.clone(),
        }
    }

    /// The side bar: every mailbox with its folders and unread counts.
    pub async fn mailboxes(&self) -> Result<Vec<MailboxView>> {
        self.readable().await?;
        let store = &self.inner.store;
        let mut out = Vec::new();
        for (id, address, kind) in store.accounts().await? {
            let configured = self
                .inner
                .cfg
                .accounts
                .iter()
                .find(|a| a.address.eq_ignore_ascii_case(&address))
                .and_then(|a| a.display_name.clone());
            let display_name = match configured {
                Some(n) => Some(n),
                None => store.account_display_name(&address).await?,
            };
            let folders: Vec<FolderView> = store
                .folder_counts(id, self.patient_domain())
                .await?
                .into_iter()
                .map(|f| FolderView {
                    id: f.id,
                    name: f.name,
                    special_use: f.special_use,
                    unread: f.unread,
                    total: f.total,
                })
                .collect();
            out.push(MailboxView {
                unread: folders.iter().map(|f| f.unread).sum(),
                address,
                kind,
                display_name,
                folders,
            });
        }
        Ok(out)
    }

    /// Reads the unified inbox's first page (as the desktop window asks for it: 100 rows)
    /// once and drops it. The desktop app starts this while its window loads, so that the
    /// window's first list request finds the cache's pages in memory: on a cold start the
    /// count and the rows read a few megabytes of the file (tests/bench/app).
    pub async fn warm_first_page(&self) {
        let domain = self.patient_domain().to_owned();
        if let Err(e) = self
            .inner
            .store
            .page(&PageScope::Unified, &domain, 0, 100)
            .await
        {
            tracing::debug!(error = %e, "first page not read ahead");
        }
    }

    /// A window of a list.
    pub async fn list(&self, scope: ListScope, offset: i64, limit: i64) -> Result<MessagePage> {
        self.readable().await?;
        let limit = limit.clamp(1, MAX_PAGE);
        let offset = offset.max(0);
        let page_scope = match scope {
            ListScope::Folder { folder_id } => PageScope::Folder(folder_id),
            ListScope::Unified => PageScope::Unified,
            ListScope::Patient { ins } => {
                let ins = crate::mssante::InsNumber::parse(&ins)?;
                PageScope::Patient(ins.patient_address(self.patient_domain()))
            }
            ListScope::Search {
                query,
                unread,
                has_documents,
            } => {
                let hits = self
                    .inner
                    .store
                    .search(&SearchFilter {
                        query,
                        unread,
                        has_documents,
                        limit: Some(MAX_PAGE * 4),
                        ..Default::default()
                    })
                    .await?;
                PageScope::Ids(hits.into_iter().map(|h| h.id).collect())
            }
        };
        let (total, rows) = self
            .inner
            .store
            .page(&page_scope, self.patient_domain(), offset, limit)
            .await?;
        Ok(MessagePage {
            total,
            offset,
            rows: rows.iter().map(|r| self.message_row(r)).collect(),
        })
    }

    /// Opens a message: marks it read (journaled for the server) and returns its content.
    pub async fn message(&self, id: i64, allow_remote: bool) -> Result<MessageDetail> {
        self.readable().await?;
        let store = &self.inner.store;
        let mut r = store
            .row(id)
            .await?
            .ok_or_else(|| EngineError::NotFound("ce message".into()))?;
        if !r.seen
            && store
                .apply_local(&r.account, &r.folder, r.uid, LocalOp::Seen)
                .await?
        {
            r.seen = true;
            store.nudge(&r.account).notify_one();
        }
        let parts = store.body_parts(id).await?;
        let (html, remote_blocked) = match parts.html.as_deref() {
            Some(h) => {
                let (clean, blocked) = sanitize_html(h, allow_remote);
                (Some(clean), blocked)
            }
            None => (None, false),
        };
        let split = |s: &Option<String>| -> Vec<String> {
            s.as_deref()
                .unwrap_or("")
                .split(',')
                .map(|a| a.trim().to_owned())
                .filter(|a| !a.is_empty())
                .collect()
        };
        let patient = self.named_patient_of(&r).await?;
        Ok(MessageDetail {
            row: self.message_row(&r),
            message_id: r.message_id.clone(),
            to: split(&r.to_addrs),
            cc: split(&r.cc_addrs),
            text: parts.text.unwrap_or_default(),
            html,
            remote_blocked,
            body_available: r.body_state > 0,
            attachments: parts
                .attachments
                .into_iter()
                .map(
                    |(index, name, mime_type, size, is_document)| AttachmentView {
                        index,
                        name,
                        mime_type,
                        size,
                        is_document,
                    },
                )
                .collect(),
            receipt_request: self.receipt_request(&r),
            deliveries: match &r.message_id {
                Some(mid) => store
                    .reports_for(mid)
                    .await?
                    .into_iter()
                    .map(|(state, recipient, detail, at)| {
                        let patient = recipient
                            .as_deref()
                            .is_some_and(|r| r.ends_with(&format!("@{}", self.patient_domain())));
                        crate::api::DeliveryView {
                            explanation: crate::mssante::receipts::explain_delivery(
                                &state,
                                detail.as_deref(),
                                patient,
                            ),
                            recipient,
                            state,
                            detail,
                            at,
                        }
                    })
                    .collect(),
                None => Vec::new(),
            },
            patient,
        })
    }

    /// A pending read-receipt request: asked, not answered, and not one of our own messages.
    fn receipt_request(&self, r: &RowData) -> Option<crate::api::ReceiptRequest> {
        let to = r.mdn_to.clone()?;
        let own = r
            .from_addr
            .as_deref()
            .is_some_and(|f| f.eq_ignore_ascii_case(&r.account));
        (r.mdn_state == 0 && !own).then_some(crate::api::ReceiptRequest {
            to,
            differs_from_return_path: r.mdn_differs,
        })
    }

    async fn patient_name(
        &self,
        address: &str,
    ) -> Result<Option<(Option<String>, Option<String>)>> {
        Ok(self
            .inner
            .store
            .latest_sender_name(address)
            .await?
            .map(|n| split_patient_name(&n)))
    }

    /// The patient of a cached message, named (for a message sent to the patient, from the
    /// latest message the patient sent). No side effect: the message stays as it is.
    pub(super) async fn named_patient_of(&self, r: &RowData) -> Result<Option<PatientRef>> {
        let mut patient = self.patient_of(r);
        if let Some(p) = patient.as_mut() {
            if p.birth_name.is_none() {
                if let Some(named) = self.patient_name(&p.address).await? {
                    p.birth_name = named.0;
                    p.given_name = named.1;
                }
            }
        }
        Ok(patient)
    }

    /// Marks read/unread, flags, deletes: applied in the cache at once, journaled, replayed
    /// on the server by the sync. `op`: `seen`, `unseen`, `flag`, `unflag`, `delete`.
    pub async fn set_flag(&self, id: i64, op: &str) -> Result<()> {
        self.readable().await?;
        let r = self
            .inner
            .store
            .row(id)
            .await?
            .ok_or_else(|| EngineError::NotFound("ce message".into()))?;
        let op = match op {
            "seen" => LocalOp::Seen,
            "unseen" => LocalOp::Unseen,
            "flag" => LocalOp::Flag,
            "unflag" => LocalOp::Unflag,
            "delete" => LocalOp::Delete,
            other => return Err(EngineError::Invalid(format!("action inconnue : {other}"))),
        };
        // Deleting the server copy of a draft deletes the draft: otherwise the compose window
        // would bring it back, and its next save put it on the server again.
        if op == LocalOp::Delete {
            let store = &self.inner.store;
            if let Some(key) = store
                .draft_key_of_copy(&r.account, &r.folder, r.uid)
                .await?
            {
                if let Some(account) = store.delete_draft(&key).await? {
                    store.nudge(&account).notify_one();
                }
                return Ok(());
            }
        }
        self.inner
            .store
            .apply_local(&r.account, &r.folder, r.uid, op)
            .await?;
        // The watch loop replays it now rather than at the next server change.
        self.inner.store.nudge(&r.account).notify_one();
        Ok(())
    }

    /// The patient pane: one conversation per patient and mailbox, latest first, each with
    /// the date the exchange was ended, if it was.
    pub async fn patients(&self) -> Result<Vec<PatientConversation>> {
        self.readable().await?;
        let domain = self.patient_domain().to_owned();
        let mut out = Vec::new();
        for t in self.inner.store.patient_threads(&domain).await? {
            let Some(ins) = patient_ins_of(&t.address, &domain) else {
                continue;
            };
            let (birth_name, given_name) = t
                .name
                .as_deref()
                .map(split_patient_name)
                .unwrap_or((None, None));
            let ended_at = self
                .inner
                .store
                .exchange_ended_at(&t.account, ins.as_str())
                .await?;
            // A message from the patient after the end re-opens nothing (the patient cannot
            // reply), but a new message from the professional does: ended only if the end is
            // the latest outgoing word.
            out.push(PatientConversation {
                patient: PatientRef {
                    ins: ins.as_str().to_owned(),
                    address: t.address.clone(),
                    birth_name,
                    given_name,
                },
                messages: t.messages,
                unread: t.unread,
                last_at: t.last_at,
                ended_at,
                account: t.account,
            });
        }
        Ok(out)
    }

    /// The user's audit trail since `since` (Unix seconds), newest first.
    pub async fn audit(&self, since: Option<i64>) -> Result<Vec<AuditRow>> {
        self.readable().await?;
        let mut rows: Vec<AuditRow> = self
            .inner
            .store
            .audit_entries(since)
            .await?
            .into_iter()
            .map(|e| AuditRow {
                at: e.at,
                actor: e.actor,
                account: e.account,
                action: e.action,
                request: e.request,
                outcome: e.outcome,
            })
            .collect();
        rows.reverse();
        Ok(rows)
    }

    /// Writes the audit trail as CSV into the user's downloads folder (`XDG_DOWNLOAD_DIR`,
    /// else `~/Téléchargements` or `~/Downloads` when present, else the data directory) and
    /// returns the file's path.
    pub async fn export_audit(&self, since: Option<i64>) -> Result<String> {
        self.readable().await?;
        let rows = self.audit(since).await?;
        let dir = self.downloads_dir();
        std::fs::create_dir_all(&dir).map_err(|e| EngineError::Other(e.to_string()))?;
        let stamp = crate::store::format_time(crate::store::now()).replace([':', ' '], "-");
        let path = dir.join(format!("pli-journal-{stamp}.csv"));
        std::fs::write(&path, audit_csv(&rows))
            .map_err(|e| EngineError::Other(format!("{} : {e}", path.display())))?;
        self.inner
            .store
            .audit(
                &self.actor().await,
                None,
                "audit-export",
                &path.display().to_string(),
                "ok",
            )
            .await
            .ok();
        Ok(path.display().to_string())
    }
}

/// The audit trail as CSV (RFC 4180, `;` separated as French spreadsheets expect, UTF-8 with
/// a byte-order mark so Excel reads the accents).
pub fn audit_csv(rows: &[AuditRow]) -> String {
    fn field(s: &str) -> String {
        if s.contains([';', '"', '\n', '\r']) {
            format!("\"{}\"", s.replace('"', "\"\""))
        } else {
            s.to_owned()
        }
    }
    let mut out = String::from("\u{feff}date;acteur;boîte;action;requête;résultat\r\n");
    for r in rows {
        let line = [
            crate::store::format_time(r.at),
            r.actor.clone(),
            r.account.clone().unwrap_or_default(),
            r.action.clone(),
            r.request.clone(),
            r.outcome.clone(),
        ]
        .iter()
        .map(|s| field(s))
        .collect::<Vec<_>>()
        .join(";");
        out.push_str(&line);
        out.push_str("\r\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_html_is_defanged_and_remote_images_blocked() {
        let (h, blocked) = sanitize_html(
            r#"<p onclick="x()">Bonjour<script>alert(1)</script></p><img src="https://t.example/p.gif">
               <a href="javascript:alert(1)">x</a><a href="https://ans.fr">ok</a><iframe src="https://e"></iframe>
               <form action="https://e"><input></form><style>@import url(https://e)</style>"#,
            false,
        );
        assert!(blocked);
        for bad in [
            "script",
            "onclick",
            "javascript:",
            "t.example",
            "iframe",
            "<form",
            "@import",
        ] {
            assert!(!h.contains(bad), "{bad} left in {h}");
        }
        assert!(h.contains(r#"href="https://ans.fr""#));
        assert!(h.contains("noopener"));
        let (h, blocked) = sanitize_html(r#"<img src="https://t.example/p.gif">"#, true);
        assert!(!blocked);
        assert!(h.contains("t.example"));
    }

    #[test]
    fn csv_quotes_what_needs_it() {
        let rows = vec![AuditRow {
            at: 0,
            actor: "810100000001".into(),
            account: Some("a@b.fr".into()),
            action: "send".into(),
            request: "RCPT TO:<x>; \"y\"".into(),
            outcome: "ok".into(),
        }];
        let csv = audit_csv(&rows);
        assert!(csv.starts_with('\u{feff}'));
        assert!(csv.contains("\"RCPT TO:<x>; \"\"y\"\"\""));
        assert_eq!(csv.lines().count(), 2);
    }
}
