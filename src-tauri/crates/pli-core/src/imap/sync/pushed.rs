//! Changes the server pushes during IDLE, applied to the cache from the responses alone.

use super::{SyncError, SyncReport};
use crate::store::Store;

/// What the server pushed while a folder was selected and idling: `VANISHED` (RFC 7162
/// §3.2.10; QRESYNC is enabled, so no sequence-number `EXPUNGE`) and `FETCH` responses
/// carrying UID and FLAGS (RFC 7162 §3.2.4, with MODSEQ). Anything else (`EXISTS`, an `EXPUNGE`
/// by sequence number, a FETCH without UID) is left to the sync that follows, which remains
/// the reference.
#[derive(Debug, Default)]
pub struct Pushed {
    /// UID ranges reported vanished (matched against the cache, never expanded).
    vanished: Vec<std::ops::RangeInclusive<u32>>,
    /// (uid, flags, modseq) of flag changes.
    flags: Vec<(u32, Vec<String>, Option<u64>)>,
}

impl Pushed {
    /// Records one untagged response.
    pub fn add(&mut self, r: &async_imap::imap_proto::Response<'_>) {
        use async_imap::imap_proto::{AttributeValue, Response};
        match r {
            Response::Vanished { uids, .. } => self.vanished.extend(uids.iter().cloned()),
            Response::Fetch(_, attrs) => {
                let (mut uid, mut flags, mut modseq) = (None, None, None);
                for a in attrs {
                    match a {
                        AttributeValue::Uid(u) => uid = Some(*u),
                        AttributeValue::Flags(f) => {
                            flags = Some(f.iter().map(|x| x.to_string()).collect::<Vec<_>>())
                        }
                        AttributeValue::ModSeq(m) => modseq = Some(*m),
                        _ => {}
                    }
                }
                if let (Some(uid), Some(flags)) = (uid, flags) {
                    self.flags.push((uid, flags, modseq));
                }
            }
            _ => {}
        }
    }

    /// Nothing the cache can apply was pushed.
    pub fn is_empty(&self) -> bool {
        self.vanished.is_empty() && self.flags.is_empty()
    }

    /// Applies the changes to the cached folder `folder_id`. The caller guarantees the
    /// responses are the folder's (sent after its SELECT) and that its UIDVALIDITY is the
    /// cached one.
    pub async fn apply(&self, store: &Store, folder_id: i64) -> Result<SyncReport, SyncError> {
        let mut report = SyncReport {
            idle: true,
            qresync: true,
            ..Default::default()
        };
        if !self.vanished.is_empty() {
            let gone: Vec<u32> = store
                .local_uids(folder_id)
                .await?
                .into_iter()
                .filter(|u| self.vanished.iter().any(|r| r.contains(u)))
                .collect();
            if !gone.is_empty() {
                let n = store.remove_uids(folder_id, &gone).await?;
                report.expunged += n;
                report.vanished += n;
            }
        }
        // A flag change of a UID that vanished in the same burst matches no row any more.
        if !self.flags.is_empty() {
            report.flag_changes += store.update_flags(folder_id, &self.flags).await?;
        }
        Ok(report)
    }
}
