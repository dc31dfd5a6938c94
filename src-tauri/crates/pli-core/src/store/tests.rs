//! Store tests on real SQLCipher files in a temporary directory.

use super::*;

fn msg(uid: u32, subject: &str, from: &str) -> NewMessage {
    NewMessage {
        uid,
        message_id: Some(format!("m{uid}@test")),
        from: Some((from.to_owned(), Some("Dr Anne LEFÈVRE".into()))),
        to: vec!["secretariat@example.test".into()],
        subject: Some(subject.to_owned()),
        received_at: Some(1_700_000_000 + uid as i64),
        flags: vec!["\\Seen".into()],
        ..Default::default()
    }
}

async fn fresh() -> (tempfile::TempDir, Store, CacheKey) {
    let dir = tempfile::tempdir().unwrap();
    let key = CacheKey::generate();
    let store = Store::open(&dir.path().join(DB_FILE), &key).await.unwrap();
    (dir, store, key)
}

#[tokio::test]
async fn migrations_reach_latest_and_reopen_is_idempotent() {
    let (dir, store, key) = fresh().await;
    assert_eq!(store.schema_version().await.unwrap(), SCHEMA_VERSION);
    let a = store.add_account("a@x.test", "PER", None).await.unwrap();
    store.close().await;
    let store = Store::open(&dir.path().join(DB_FILE), &key).await.unwrap();
    assert_eq!(store.schema_version().await.unwrap(), SCHEMA_VERSION);
    assert_eq!(store.account_id("a@x.test").await.unwrap(), a);
    let tables: Vec<String> =
        sqlx::query_scalar("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
            .fetch_all(store.reader())
            .await
            .unwrap();
    for t in [
        "accounts",
        "attachments",
        "audit_log",
        "bodies",
        "folders",
        "messages",
        "operations",
        "outbox",
        "search_text",
    ] {
        assert!(
            tables.iter().any(|x| x == t),
            "missing table {t}: {tables:?}"
        );
    }
    let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
        .fetch_one(store.reader())
        .await
        .unwrap();
    assert_eq!(mode, "wal");
}

#[tokio::test]
async fn newer_schema_is_refused() {
    let (dir, store, key) = fresh().await;
    sqlx::raw_sql("PRAGMA user_version = 999")
        .execute(store.writer())
        .await
        .unwrap();
    store.close().await;
    let err = Store::open(&dir.path().join(DB_FILE), &key)
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::TooNew { found: 999, .. }),
        "{err:?}"
    );
}

/// The database and its WAL hold no plaintext subject, address or body.
#[tokio::test]
async fn no_plaintext_on_disk() {
    let (dir, store, _key) = fresh().await;
    let acc = store
        .add_account("anne.lefevre@pli-sandbox.mssante.fr", "PER", None)
        .await
        .unwrap();
    let f = store
        .upsert_folder(acc, "INBOX", Some("/"), None, true)
        .await
        .unwrap();
    let mut m = msg(
        1,
        "Compte-rendu échographie Zorglubien",
        "cardiologue.zorglub@example.test",
    );
    m.body = Some(messages::BodyData {
        text: "Le patient Zorglubien va bien".into(),
        snippet: "Le patient".into(),
        ..Default::default()
    });
    store.insert_batch(f, &[m], Some(1)).await.unwrap();
    // Grep before and after the WAL is folded into the main file.
    for round in 0..2 {
        if round == 1 {
            store.checkpoint().await.unwrap();
        }
        let mut seen = 0;
        for entry in std::fs::read_dir(dir.path()).unwrap() {
            let bytes = std::fs::read(entry.unwrap().path()).unwrap();
            seen += bytes.len();
            for needle in [
                "Zorglub",
                "zorglub",
                "anne.lefevre",
                "pli-sandbox",
                "SQLite format 3",
                "CREATE TABLE",
            ] {
                assert!(
                    !bytes.windows(needle.len()).any(|w| w == needle.as_bytes()),
                    "plaintext {needle:?} found on disk (round {round})"
                );
            }
        }
        assert!(seen > 4096, "the database files were written");
    }
    // …while the data is there for the right key.
    let hits = store
        .search(&SearchFilter {
            query: "zorglubien".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(hits.len(), 1);
}

#[tokio::test]
async fn wrong_key_fails_clearly() {
    let (dir, store, _key) = fresh().await;
    store.add_account("a@x.test", "PER", None).await.unwrap();
    store.close().await;
    let err = Store::open(&dir.path().join(DB_FILE), &CacheKey::generate())
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::WrongKey { .. }), "{err:?}");
    let text = err.to_string();
    assert!(text.contains("ne s'ouvre pas avec la clé"), "{text}");
}

#[tokio::test]
async fn batches_flags_expunges_and_search() {
    let (_dir, store, _key) = fresh().await;
    let acc = store.add_account("a@x.test", "PER", None).await.unwrap();
    let f = store
        .upsert_folder(acc, "INBOX", Some("/"), None, true)
        .await
        .unwrap();
    store
        .insert_batch(
            f,
            &[
                msg(3, "Résultats d'analyse", "labo@x.test"),
                msg(2, "Lettre de liaison", "dr@x.test"),
            ],
            Some(2),
        )
        .await
        .unwrap();
    assert_eq!(store.folder_state(f).await.unwrap().fetched_below, Some(2));
    store
        .insert_batch(
            f,
            &[msg(1, "Cardiologie: échographie", "dr@x.test")],
            Some(1),
        )
        .await
        .unwrap();
    assert_eq!(store.local_uids(f).await.unwrap(), vec![1, 2, 3]);

    let search = |q: &str| SearchFilter {
        query: q.into(),
        ..Default::default()
    };
    // Accents folded both ways, prefix search, newest first.
    assert_eq!(store.search(&search("resultats")).await.unwrap()[0].uid, 3);
    assert_eq!(
        store.search(&search("ECHOGRAPHIE")).await.unwrap()[0].uid,
        1
    );
    assert_eq!(store.search(&search("cardio*")).await.unwrap().len(), 1);
    let all: Vec<u32> = store
        .search(&search("x.test"))
        .await
        .unwrap()
        .iter()
        .map(|h| h.uid)
        .collect();
    assert_eq!(all, vec![3, 2, 1]);
    // Operator characters are quoted, not interpreted.
    assert!(store.search(&search("\"OR NOT(")).await.is_ok());

    let changed = store
        .update_flags(
            f,
            &[(2, vec![], Some(9)), (3, vec!["\\Seen".into()], Some(9))],
        )
        .await
        .unwrap();
    assert_eq!(changed, 1, "only uid 2 changed");
    let unread = store
        .search(&SearchFilter {
            unread: true,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(unread.iter().map(|h| h.uid).collect::<Vec<_>>(), vec![2]);

    assert_eq!(store.remove_uids(f, &[2]).await.unwrap(), 1);
    assert!(store.search(&search("liaison")).await.unwrap().is_empty());

    store.reset_folder(f, 42).await.unwrap();
    assert!(store.local_uids(f).await.unwrap().is_empty());
    let st = store.folder_state(f).await.unwrap();
    assert_eq!((st.uidvalidity, st.fetched_below), (Some(42), None));
    assert!(store.search(&search("resultats")).await.unwrap().is_empty());
}

#[test]
fn fts_query_quotes_words() {
    assert_eq!(search::fts_query("écho card*"), "\"écho\" \"card\"*");
    assert_eq!(search::fts_query(" \"a\" * "), "\"a\"");
}

#[test]
fn key_debug_is_redacted_and_hex_is_checked() {
    let k = CacheKey::generate();
    assert_eq!(format!("{k:?}"), "CacheKey(<redacted>)");
    assert_ne!(k, CacheKey::generate());
    assert!(CacheKey::from_hex("zz").is_none());
    assert!(CacheKey::from_hex(&"a".repeat(64)).is_some());
}

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
