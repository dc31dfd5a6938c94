//! Reading async-imap's queue of unsolicited responses: folder statuses (LIST-STATUS),
//! VANISHED, or nothing.

use super::ImapSession;

/// A folder's state as `STATUS` (here: LIST-STATUS) or `SELECT` reports it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct FolderStatus {
    pub(super) uidvalidity: Option<u32>,
    pub(super) uidnext: Option<u32>,
    pub(super) highestmodseq: Option<u64>,
    pub(super) messages: Option<u32>,
}

/// Takes the `STATUS` responses queued as unsolicited (LIST-STATUS sends one per folder
/// after its LIST line), by folder name; everything else queued is dropped. async-imap's
/// queue is bounded (100): past that, statuses are lost and their folders are selected as
/// without LIST-STATUS.
pub(super) fn take_statuses(
    session: &mut ImapSession,
) -> std::collections::HashMap<String, FolderStatus> {
    use async_imap::imap_proto::StatusAttribute;
    use async_imap::types::UnsolicitedResponse;
    let mut out = std::collections::HashMap::new();
    while let Ok(r) = session.unsolicited_responses.try_recv() {
        if let UnsolicitedResponse::Status {
            mailbox,
            attributes,
        } = r
        {
            let mut st = FolderStatus::default();
            for a in attributes {
                match a {
                    StatusAttribute::UidValidity(v) => st.uidvalidity = Some(v),
                    StatusAttribute::UidNext(v) => st.uidnext = Some(v),
                    StatusAttribute::HighestModSeq(v) => st.highestmodseq = Some(v),
                    StatusAttribute::Messages(v) => st.messages = Some(v),
                    _ => {}
                }
            }
            out.insert(mailbox, st);
        }
    }
    out
}

/// Takes the UIDs of the `VANISHED` responses queued as unsolicited (RFC 7162 §3.2.10).
pub(super) fn take_vanished(session: &mut ImapSession) -> Vec<std::ops::RangeInclusive<u32>> {
    use async_imap::imap_proto::Response;
    use async_imap::types::UnsolicitedResponse;
    // Kept as ranges: a server may report ranges covering UIDs that never existed.
    let mut out = Vec::new();
    while let Ok(r) = session.unsolicited_responses.try_recv() {
        if let UnsolicitedResponse::Other(data) = r {
            if let Response::Vanished { uids, .. } = data.parsed() {
                out.extend(uids.iter().cloned());
            }
        }
    }
    out
}

/// Empties the session's unsolicited-response queue (bounded; we re-read state explicitly).
pub(crate) fn drain_unsolicited(session: &mut ImapSession) {
    while session.unsolicited_responses.try_recv().is_ok() {}
}
