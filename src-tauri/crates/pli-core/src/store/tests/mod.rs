//! Store tests on real SQLCipher files in a temporary directory.

use super::*;
use sqlx::Row;

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

/// A fresh cache with account a@x.test and its INBOX: (dir, store, account id, folder id).
async fn fresh_inbox() -> (tempfile::TempDir, Store, i64, i64) {
    let (dir, store, _key) = fresh().await;
    let acc = store.add_account("a@x.test", "PER", None).await.unwrap();
    let f = store
        .upsert_folder(acc, "INBOX", Some("/"), None, true)
        .await
        .unwrap();
    (dir, store, acc, f)
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
        "search_fts",
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
    let (_dir, store, _, f) = fresh_inbox().await;
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

/// FTS5's own check of the index against its external content (the view search_text).
async fn index_is_consistent(store: &Store) {
    sqlx::query("INSERT INTO search_fts (search_fts, rank) VALUES ('integrity-check', 1)")
        .execute(store.writer())
        .await
        .expect("search index consistent with its content");
}

async fn hits(store: &Store, q: &str) -> Vec<u32> {
    store
        .search(&SearchFilter {
            query: q.into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .iter()
        .map(|h| h.uid)
        .collect()
}

/// Migration 8: a cache written by schema 5 (body text in `bodies` and again in the search
/// table) keeps every search working once the text is stored only once; later writes, body
/// replacements and deletes (direct and cascading) keep the index consistent.
/// A cache file at `path` migrated only up to schema `version`, then `rows` written into it as
/// that schema's store would have (tests of later migrations open it with `Store::open`).
async fn cache_at_schema(path: &Path, key: &CacheKey, version: i64, rows: &str) {
    let opts = SqliteConnectOptions::from_str(&format!("sqlite://{}", path.display()))
        .unwrap()
        .pragma("key", key.pragma_value())
        .create_if_missing(true)
        .foreign_keys(true);
    let pool = SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(opts)
        .await
        .unwrap();
    assert_eq!(migrations::run_to(&pool, version).await.unwrap(), version);
    sqlx::raw_sql(rows).execute(&pool).await.unwrap();
    pool.close().await;
}

#[tokio::test]
async fn migration_8_stores_text_once_and_search_still_finds_everything() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(DB_FILE);
    let key = CacheKey::generate();
    // Written exactly as schema 5's store did: the search row with the same text again.
    cache_at_schema(
        &path,
        &key,
        5,
        "INSERT INTO accounts (id, address, kind, created_at) VALUES (1, 'a@x.test', 'PER', 0);
         INSERT INTO folders (id, account_id, name) VALUES (1, 1, 'INBOX'), (2, 1, 'Old');
         INSERT INTO messages (id, folder_id, uid, subject, from_addr, from_name, to_addrs,
             cc_addrs, received_at, body_state)
         VALUES (1, 1, 1, 'Compte rendu', 'labo@x.test', 'Labo Zéphyrin', 'a@x.test', '', 1, 1),
                (2, 1, 2, 'Orthopédie', 'dr@x.test', NULL, 'a@x.test', 'b@x.test', 2, 0),
                (3, 1, 3, 'Sans nom', 'dr@x.test', NULL, 'a@x.test', '', 3, 1),
                (4, 2, 1, 'Archivé', 'dr@x.test', NULL, 'a@x.test', '', 4, 1);
         INSERT INTO bodies (message_pk, text_body) VALUES
             (1, 'Le bilan Kwaltrax est normal'), (3, 'voir PJ'), (4, 'Ancien Plovine');
         INSERT INTO attachments (message_pk, part, name, mime_type, size, is_document) VALUES
             (1, 1, 'IHE_XDM.ZIP', 'application/zip', 10, 1),
             (1, 2, 'photo.jpg', 'image/jpeg', 10, 0),
             (3, 1, NULL, 'application/pdf', 10, 1);
         INSERT INTO search_text (rowid, subject, addresses, body, attachments) VALUES
             (1, 'Compte rendu', 'labo@x.test Labo Zéphyrin a@x.test',
              'Le bilan Kwaltrax est normal', 'IHE_XDM.ZIP photo.jpg Quimbrolase hépatique'),
             (2, 'Orthopédie', 'dr@x.test a@x.test b@x.test', NULL, ''),
             (3, 'Sans nom', 'dr@x.test a@x.test', 'voir PJ', 'Vorbulgine'),
             (4, 'Archivé', 'dr@x.test a@x.test', 'Ancien Plovine', '');",
    )
    .await;

    let store = Store::open(&path, &key).await.unwrap();
    assert_eq!(store.schema_version().await.unwrap(), SCHEMA_VERSION);
    let kind: String =
        sqlx::query_scalar("SELECT type FROM sqlite_master WHERE name = 'search_text'")
            .fetch_one(store.reader())
            .await
            .unwrap();
    assert_eq!(kind, "view", "the search content is no second copy");
    // Each text now has one home; the documents' text moved out of the old search table.
    let docs: Vec<(i64, Option<String>)> =
        sqlx::query_as("SELECT message_pk, document_text FROM bodies ORDER BY message_pk")
            .fetch_all(store.reader())
            .await
            .unwrap();
    assert_eq!(
        docs,
        vec![
            (1, Some("Quimbrolase hépatique".into())),
            (3, Some("Vorbulgine".into())),
            (4, None)
        ]
    );
    index_is_consistent(&store).await;
    // Body words, attachment names, documents' text, subject, addresses, accents folded.
    for (q, uids) in [
        ("kwaltrax", vec![1]),
        ("IHE_XDM.ZIP", vec![1]),
        ("photo.jpg", vec![1]),
        ("quimbrolase hepatique", vec![1]),
        ("vorbulgine", vec![3]),
        ("orthopedie", vec![2]),
        ("zephyrin", vec![1]),
        ("b@x.test", vec![2]),
        ("plovine", vec![1]),
    ] {
        let mut got = hits(&store, q).await;
        got.sort_unstable();
        assert_eq!(got, uids, "{q}");
    }

    // New writes: a body arrives, is replaced, messages go (directly and by cascade).
    let f = store.folder_state(1).await.unwrap().id;
    let body = |text: &str, doc: &str| BodyData {
        text: text.into(),
        attachments: vec![(1, Some("cr.pdf".into()), "application/pdf".into(), 1, true)],
        attachment_text: doc.into(),
        ..Default::default()
    };
    store
        .store_bodies(f, &[(2, body("Genou Flambique", "Rotulex"))])
        .await
        .unwrap();
    index_is_consistent(&store).await;
    assert_eq!(hits(&store, "flambique rotulex cr.pdf").await, vec![2]);
    store
        .store_bodies(f, &[(2, body("Genou Tibialon", ""))])
        .await
        .unwrap();
    index_is_consistent(&store).await;
    assert!(hits(&store, "flambique").await.is_empty());
    assert!(hits(&store, "rotulex").await.is_empty());
    assert_eq!(hits(&store, "tibialon cr.pdf").await, vec![2]);
    let mut m = msg(9, "Nouvelle Grenadine", "new@x.test");
    m.body = Some(body("Corps Pastèque", "Melonite"));
    store.insert_batch(f, &[m], None).await.unwrap();
    index_is_consistent(&store).await;
    assert_eq!(hits(&store, "grenadine pasteque melonite").await, vec![9]);
    assert_eq!(store.remove_uids(f, &[1]).await.unwrap(), 1);
    index_is_consistent(&store).await;
    assert!(hits(&store, "kwaltrax").await.is_empty());
    // The folder Old goes with its message (ON DELETE CASCADE): gone from the index too.
    store.retain_folders(1, &["INBOX".into()]).await.unwrap();
    index_is_consistent(&store).await;
    let stale: Vec<i64> =
        sqlx::query_scalar("SELECT rowid FROM search_fts WHERE search_fts MATCH 'plovine'")
            .fetch_all(store.reader())
            .await
            .unwrap();
    assert!(stale.is_empty(), "{stale:?}");
    store.reset_folder(f, 7).await.unwrap();
    index_is_consistent(&store).await;
    let left: i64 =
        sqlx::query_scalar("SELECT count(*) FROM search_fts WHERE search_fts MATCH 'test'")
            .fetch_one(store.reader())
            .await
            .unwrap();
    assert_eq!(left, 0);
}

/// A batch of bodies is written set-wise (`write_bodies`): each message gets exactly its own
/// attachments and reports, a second write replaces them (nothing doubled), a UID given twice
/// keeps its last body, a UID not in the cache is skipped, reports name their recipient in
/// lower case or else the report's sender, and every statement finds the messages by index.
#[tokio::test]
async fn a_batch_of_bodies_is_written_per_message_and_replaced_whole() {
    let (_dir, store, _, f) = fresh_inbox().await;
    let batch: Vec<_> = (1..=3)
        .map(|u| msg(u, &format!("Sujet {u}"), &format!("Sender{u}@X.test")))
        .collect();
    store.insert_batch(f, &batch, None).await.unwrap();
    let body = |text: &str, atts: u32, reports: Vec<ReportRow>| BodyData {
        text: text.into(),
        snippet: text.chars().take(5).collect(),
        attachments: (0..atts)
            .map(|i| {
                (
                    i + 1,
                    Some(format!("piece{i}.pdf")),
                    "application/pdf".into(),
                    10,
                    i == 0,
                )
            })
            .collect(),
        reports,
        ..Default::default()
    };
    let read = |id: &str, to: Option<&str>| {
        (
            id.to_owned(),
            "read".to_owned(),
            to.map(str::to_owned),
            "displayed".to_owned(),
        )
    };
    let first = [
        (1, body("Premier Zorglax", 2, vec![])),
        (
            2,
            body(
                "Second Wumpel",
                0,
                vec![read("orig-a", Some("Léa.Dupont@X.test"))],
            ),
        ),
        (2, body("Second Bruxtel", 1, vec![read("orig-b", None)])),
        (99, body("Inconnu Fantomar", 1, vec![])),
        (3, body("Troisieme Quorvex", 3, vec![])),
    ];
    store.store_bodies(f, &first).await.unwrap();
    index_is_consistent(&store).await;
    let per_message = |sql: &'static str| {
        let store = store.clone();
        async move {
            sqlx::query_as::<_, (i64, i64)>(sql)
                .bind(f)
                .fetch_all(store.reader())
                .await
                .unwrap()
        }
    };
    const ATTS: &str = "SELECT m.uid, count(a.id) FROM messages m
         LEFT JOIN attachments a ON a.message_pk = m.id WHERE m.folder_id = ?1
         GROUP BY m.uid ORDER BY m.uid";
    assert_eq!(per_message(ATTS).await, vec![(1, 2), (2, 1), (3, 3)]);
    let reports: Vec<(u32, String, Option<String>)> = sqlx::query_as(
        "SELECT m.uid, r.original_message_id, r.recipient FROM reports r
         JOIN messages m ON m.id = r.message_pk ORDER BY r.id",
    )
    .fetch_all(store.reader())
    .await
    .unwrap();
    // The last body of UID 2 wins: its report has no recipient, so the sender is named.
    assert_eq!(
        reports,
        vec![(2, "orig-b".into(), Some("Sender2@X.test".into()))]
    );
    let states: Vec<(u32, i64, String, bool)> = sqlx::query_as(
        "SELECT uid, body_state, snippet, has_documents FROM messages WHERE folder_id = ?1
         ORDER BY uid",
    )
    .bind(f)
    .fetch_all(store.reader())
    .await
    .unwrap();
    assert_eq!(
        states,
        vec![
            (1, 1, "Premi".into(), true),
            (2, 1, "Secon".into(), true),
            (3, 1, "Trois".into(), true)
        ]
    );
    assert_eq!(hits(&store, "zorglax").await, vec![1]);
    assert_eq!(hits(&store, "bruxtel").await, vec![2]);
    assert!(hits(&store, "wumpel").await.is_empty());
    assert!(hits(&store, "fantomar").await.is_empty());

    // Written again: replaced, not added to.
    let second = [
        (1, body("Premier Plintor", 0, vec![])),
        (
            2,
            body(
                "Second Bruxtel",
                1,
                vec![read("orig-c", Some("ÉLODIE@X.test"))],
            ),
        ),
    ];
    store.store_bodies(f, &second).await.unwrap();
    index_is_consistent(&store).await;
    assert_eq!(per_message(ATTS).await, vec![(1, 0), (2, 1), (3, 3)]);
    let reports: Vec<(String, Option<String>)> =
        sqlx::query_as("SELECT original_message_id, recipient FROM reports ORDER BY id")
            .fetch_all(store.reader())
            .await
            .unwrap();
    assert_eq!(
        reports,
        vec![("orig-c".into(), Some("élodie@x.test".into()))]
    );
    assert!(hits(&store, "zorglax").await.is_empty());
    assert_eq!(hits(&store, "plintor").await, vec![1]);

    // No statement scans a table: each finds the batch's messages (and their key, body,
    // attachments and reports) by index, whatever the cache's size.
    for (sql, _) in messages::body_statements() {
        let plan: Vec<(i64, i64, i64, String)> =
            sqlx::query_as(&format!("EXPLAIN QUERY PLAN {sql}"))
                .bind(f)
                .bind("[]")
                .fetch_all(store.reader())
                .await
                .unwrap();
        let scans: Vec<&str> = plan
            .iter()
            .map(|r| r.3.as_str())
            .filter(|d| {
                // The batch (json_each, a materialized CTE) is walked; no table of the cache.
                d.strip_prefix("SCAN ").is_some_and(|t| {
                    let table = t.split(' ').next().unwrap_or_default();
                    [
                        "messages", "m", "search_keys", "k", "bodies", "b", "attachments", "a",
                        "reports", "r",
                    ]
                    .contains(&table)
                        && !t.contains("VIRTUAL TABLE")
                })
                    // Messages are found by (folder, UID) or by id, never by folder alone
                    // (that walks the folder's rows once per message of the batch).
                    || (d.starts_with("SEARCH m") && !d.contains("uid=?") && !d.contains("rowid=?"))
            })
            .collect();
        assert!(scans.is_empty(), "{sql}\n{plan:#?}");
    }
}

#[tokio::test]
async fn folder_overview_counts_and_missing_bodies_in_one_read() {
    let (_dir, store, acc, inbox) = fresh_inbox().await;
    let sent = store
        .upsert_folder(acc, "Sent", Some("/"), Some("\\Sent"), true)
        .await
        .unwrap();
    store
        .upsert_folder(acc, "Archives", None, None, false)
        .await
        .unwrap();
    let batch: Vec<_> = (1..=3).map(|u| msg(u, "Sujet", "dr@x.test")).collect();
    store.insert_batch(inbox, &batch, Some(1)).await.unwrap();
    store
        .insert_batch(sent, &[msg(7, "Envoyé", "a@x.test")], Some(1))
        .await
        .unwrap();
    store
        .store_bodies(sent, &[(7, BodyData::default())])
        .await
        .unwrap();
    store
        .set_folder_sync(inbox, Some(4), Some(12), 3, false)
        .await
        .unwrap();

    let o = store.folder_overview(acc).await.unwrap();
    let names: Vec<&str> = o.iter().map(|f| f.state.name.as_str()).collect();
    assert_eq!(
        names,
        ["INBOX", "Archives", "Sent"],
        "INBOX first, then by name"
    );
    let (i, a, s) = (&o[0], &o[1], &o[2]);
    assert_eq!((i.state.id, i.count, i.missing_bodies), (inbox, 3, true));
    assert_eq!(
        (i.state.uidnext, i.state.highestmodseq),
        (Some(4), Some(12))
    );
    assert_eq!(i.delimiter.as_deref(), Some("/"));
    assert_eq!((a.count, a.missing_bodies, a.selectable), (0, false, false));
    assert_eq!((s.count, s.missing_bodies), (1, false));
    assert_eq!(s.special_use.as_deref(), Some("\\Sent"));
    // The same answers as the per-folder queries it replaces.
    assert_eq!(store.local_count(inbox).await.unwrap(), i.count);
    assert_eq!(store.folder_state(inbox).await.unwrap(), i.state);
    store
        .store_bodies(inbox, &[(1, BodyData::default()), (2, BodyData::default())])
        .await
        .unwrap();
    assert_eq!(store.uids_without_body(inbox, 10).await.unwrap(), [3]);
    store
        .store_bodies(inbox, &[(3, BodyData::default())])
        .await
        .unwrap();
    assert!(!store.folder_overview(acc).await.unwrap()[0].missing_bodies);

    // "Is a body missing?" reads the partial index (migration 13), not the folder's rows.
    let plan: Vec<String> = sqlx::query(
        "EXPLAIN QUERY PLAN SELECT uid FROM messages WHERE folder_id = ?1 AND body_state = 0
         ORDER BY uid DESC LIMIT 1",
    )
    .bind(inbox)
    .fetch_all(store.reader())
    .await
    .unwrap()
    .iter()
    .map(|r| r.get::<String, _>(3))
    .collect();
    assert!(
        plan.iter().any(|p| p.contains("messages_missing_body")),
        "{plan:?}"
    );
}

#[tokio::test]
async fn a_command_keeps_one_read_connection() {
    let dir = tempfile::tempdir().unwrap();
    let key = CacheKey::generate();
    let path = dir.path().join(DB_FILE);
    Store::open(&path, &key).await.unwrap().close().await;
    let store = Store::open_for(&path, &key, Usage::Command).await.unwrap();
    for _ in 0..5 {
        store.accounts().await.unwrap();
        store.schema_version().await.unwrap();
    }
    assert_eq!(store.reader().size(), 1, "one SQLCipher read connection");
}

mod drafts;
mod folded;
mod search_plans;
