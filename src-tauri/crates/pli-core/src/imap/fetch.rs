//! Fetching one whole message on demand (to open an attachment): `EXAMINE` (read-only, so
//! nothing changes on the server), `UID FETCH uid BODY.PEEK[]` (does not set `\Seen`).

use futures::TryStreamExt;

use super::runner::Endpoint;
use super::{connect, ImapError};

/// The exact bytes of message `uid` in `folder` of `account`; `None` when the server no
/// longer has it.
pub async fn fetch_raw(
    endpoint: &Endpoint,
    account: &str,
    folder: &str,
    uid: u32,
) -> Result<Option<Vec<u8>>, ImapError> {
    let mut session = connect(
        &endpoint.server,
        endpoint.tls.clone(),
        endpoint.credentials.as_ref(),
        account,
    )
    .await?;
    session.examine(folder).await?;
    let fetched: Vec<_> = session
        .uid_fetch(uid.to_string(), "(UID BODY.PEEK[])")
        .await?
        .try_collect()
        .await?;
    let raw = fetched
        .iter()
        .find(|f| f.uid == Some(uid))
        .and_then(|f| f.body())
        .map(<[u8]>::to_vec);
    session.logout().await.ok();
    Ok(raw)
}
