//! Drafts' server copies (migration 0012, decision 0031): revisions, uploads, the journaled
//! deletion of replaced and abandoned copies.

use super::*;

#[tokio::test]
async fn drafts_keep_files_unless_replaced_and_are_encrypted() {
    let (dir, store, key) = fresh().await;
    assert_eq!(store.draft("new").await.unwrap(), None);
    let files = r#"[{"name":"cr.pdf","base64":"JVBERi0="}]"#;
    store
        .save_draft(
            "new",
            Some("a@x.test"),
            r#"{"subject":"Avis Zébulon"}"#,
            Some(files),
        )
        .await
        .unwrap();
    // A later save of the fields only keeps the files.
    store
        .save_draft(
            "new",
            Some("a@x.test"),
            r#"{"subject":"Avis Zébulon 2"}"#,
            None,
        )
        .await
        .unwrap();
    let d = store.draft("new").await.unwrap().unwrap();
    assert_eq!(d.content, r#"{"subject":"Avis Zébulon 2"}"#);
    assert_eq!(d.files.as_deref(), Some(files));
    // Files replaced by an empty list when the window says they changed.
    store
        .save_draft("new", None, r#"{"subject":"Avis Zébulon 3"}"#, Some("[]"))
        .await
        .unwrap();
    let d = store.draft("new").await.unwrap().unwrap();
    assert_eq!((d.account, d.files.as_deref()), (None, Some("[]")));
    // Other drafts are separate; deleting is idempotent.
    store
        .save_draft("reply-7", None, r#"{"subject":"Re"}"#, None)
        .await
        .unwrap();
    store.delete_draft("new").await.unwrap();
    store.delete_draft("new").await.unwrap();
    assert_eq!(store.draft("new").await.unwrap(), None);
    assert!(store.draft("reply-7").await.unwrap().is_some());
    store.close().await;
    // Survives a reopen, and the file on disk does not show the text.
    let store = Store::open(&dir.path().join(DB_FILE), &key).await.unwrap();
    assert!(store.draft("reply-7").await.unwrap().is_some());
    store.close().await;
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        let bytes = std::fs::read(entry.unwrap().path()).unwrap();
        assert!(
            !bytes.windows(8).any(|w| w == "Zébulon".as_bytes()),
            "draft text in clear on disk"
        );
    }
}

const ACCOUNT: &str = "a@x.test";

/// A cache with a@x.test, its Drafts folder (UIDVALIDITY 7): (dir, store, Drafts folder id).
async fn with_drafts_folder() -> (tempfile::TempDir, Store, i64) {
    let (dir, store, acc, _inbox) = fresh_inbox().await;
    let f = store
        .upsert_folder(acc, "Brouillons", Some("/"), Some("\\Drafts"), true)
        .await
        .unwrap();
    store.reset_folder(f, 7).await.unwrap();
    (dir, store, f)
}

fn copy(uid: u32) -> ServerCopy {
    ServerCopy {
        account: ACCOUNT.into(),
        folder: "Brouillons".into(),
        uidvalidity: 7,
        uid,
        message_id: format!("d{uid}@x.test"),
    }
}

async fn save(store: &Store, key: &str, subject: &str) {
    store
        .save_draft(
            key,
            Some(ACCOUNT),
            &format!(r#"{{"subject":"{subject}"}}"#),
            None,
        )
        .await
        .unwrap();
}

/// The journal's pending deletions: (folder, uid).
async fn deletions(store: &Store) -> Vec<(String, u32)> {
    store
        .pending_operations(ACCOUNT)
        .await
        .unwrap()
        .into_iter()
        .filter(|o| o.op == LocalOp::Delete)
        .map(|o| (o.folder, o.uid))
        .collect()
}

/// Composes and "appends" every dirty draft: (key, revision) uploaded as `uid`.
async fn upload_all(store: &Store, uid: u32) -> Vec<(String, i64)> {
    let mut out = Vec::new();
    for d in store.drafts_to_compose().await.unwrap() {
        assert!(store
            .set_draft_upload(&d.key, d.revision, ACCOUNT, b"MIME")
            .await
            .unwrap());
    }
    for u in store.draft_uploads(ACCOUNT).await.unwrap() {
        store.draft_uploaded(&u, &copy(uid)).await.unwrap();
        out.push((u.key, u.revision));
    }
    out
}

#[tokio::test]
async fn the_drafts_folder_is_found_by_special_use_then_by_name() {
    let (_dir, store, _f) = with_drafts_folder().await;
    assert_eq!(
        store.drafts_folder(ACCOUNT).await.unwrap().as_deref(),
        Some("Brouillons")
    );
    let (_dir2, other, acc, _) = fresh_inbox().await;
    assert_eq!(other.drafts_folder(ACCOUNT).await.unwrap(), None);
    other
        .upsert_folder(acc, "Drafts", Some("/"), None, true)
        .await
        .unwrap();
    assert_eq!(
        other.drafts_folder(ACCOUNT).await.unwrap().as_deref(),
        Some("Drafts")
    );
}

#[tokio::test]
async fn each_version_replaces_the_previous_copy_through_the_journal() {
    let (_dir, store, _f) = with_drafts_folder().await;
    save(&store, "new", "v1").await;
    assert_eq!(upload_all(&store, 10).await, vec![("new".into(), 1)]);
    assert_eq!(
        store.draft_server_copy("new").await.unwrap(),
        Some(copy(10))
    );
    // Nothing more to compose until the next save; no deletion for a first copy.
    assert!(store.drafts_to_compose().await.unwrap().is_empty());
    assert!(deletions(&store).await.is_empty());

    save(&store, "new", "v2").await;
    save(&store, "new", "v3").await;
    assert_eq!(upload_all(&store, 11).await, vec![("new".into(), 3)]);
    assert_eq!(
        store.draft_server_copy("new").await.unwrap(),
        Some(copy(11))
    );
    assert_eq!(deletions(&store).await, vec![("Brouillons".into(), 10)]);
    assert_eq!(
        store
            .draft_key_of_copy(ACCOUNT, "Brouillons", 11)
            .await
            .unwrap()
            .as_deref(),
        Some("new")
    );
}

#[tokio::test]
async fn a_save_during_the_upload_stays_dirty_and_a_stale_composition_is_refused() {
    let (_dir, store, _f) = with_drafts_folder().await;
    save(&store, "new", "v1").await;
    let d = store.drafts_to_compose().await.unwrap().remove(0);
    // Saved again between reading and composing: the composition is refused.
    save(&store, "new", "v2").await;
    assert!(!store
        .set_draft_upload("new", d.revision, ACCOUNT, b"old")
        .await
        .unwrap());
    let d = store.drafts_to_compose().await.unwrap().remove(0);
    assert_eq!(d.revision, 2);
    assert!(store
        .set_draft_upload("new", 2, ACCOUNT, b"v2")
        .await
        .unwrap());
    let u = store.draft_uploads(ACCOUNT).await.unwrap().remove(0);
    // Saved again while it was being appended: recorded, and still to compose.
    save(&store, "new", "v3").await;
    store.draft_uploaded(&u, &copy(20)).await.unwrap();
    assert_eq!(
        store.draft_server_copy("new").await.unwrap(),
        Some(copy(20))
    );
    assert_eq!(store.drafts_to_compose().await.unwrap()[0].revision, 3);
    assert!(store.draft_uploads(ACCOUNT).await.unwrap().is_empty());
}

#[tokio::test]
async fn a_draft_gone_during_its_upload_or_deleted_takes_its_copy_with_it() {
    let (_dir, store, f) = with_drafts_folder().await;
    save(&store, "new", "v1").await;
    let d = store.drafts_to_compose().await.unwrap().remove(0);
    store
        .set_draft_upload("new", d.revision, ACCOUNT, b"v1")
        .await
        .unwrap();
    let u = store.draft_uploads(ACCOUNT).await.unwrap().remove(0);
    // Sent while being appended: the copy just appended is deleted.
    assert_eq!(store.delete_draft("new").await.unwrap(), None);
    store.draft_uploaded(&u, &copy(30)).await.unwrap();
    assert_eq!(deletions(&store).await, vec![("Brouillons".into(), 30)]);

    // A draft with a copy the sync already cached: deleting it journals the deletion and
    // takes the copy out of the Drafts list at once.
    save(&store, "reply-4", "Re").await;
    upload_all(&store, 31).await;
    store
        .insert_batch(f, &[msg(31, "Re", ACCOUNT)], None)
        .await
        .unwrap();
    assert_eq!(
        store
            .page(&PageScope::Folder(f), "patient.mssante.fr", 0, 10)
            .await
            .unwrap()
            .0,
        1
    );
    assert_eq!(
        store.delete_draft("reply-4").await.unwrap().as_deref(),
        Some(ACCOUNT)
    );
    assert_eq!(
        deletions(&store).await,
        vec![("Brouillons".into(), 30), ("Brouillons".into(), 31)]
    );
    assert_eq!(
        store
            .page(&PageScope::Folder(f), "patient.mssante.fr", 0, 10)
            .await
            .unwrap()
            .0,
        0
    );
}

#[tokio::test]
async fn an_adopted_server_draft_is_not_uploaded_until_edited_then_replaced() {
    let (_dir, store, _f) = with_drafts_folder().await;
    store
        .adopt_server_draft("draft-x", r#"{"subject":"webmail"}"#, "[]", &copy(40))
        .await
        .unwrap();
    assert!(store.drafts_to_compose().await.unwrap().is_empty());
    save(&store, "draft-x", "edited").await;
    upload_all(&store, 41).await;
    assert_eq!(deletions(&store).await, vec![("Brouillons".into(), 40)]);
    // An existing draft from before migration 12 (revision 1, no copy) is uploaded.
    let (_dir2, old, _) = with_drafts_folder().await;
    sqlx::query("INSERT INTO drafts (key, content, updated_at) VALUES ('old', '{}', 1)")
        .execute(old.writer())
        .await
        .unwrap();
    assert_eq!(old.drafts_to_compose().await.unwrap()[0].key, "old");
}
