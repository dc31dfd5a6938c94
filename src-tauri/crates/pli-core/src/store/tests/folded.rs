//! Read and delivery reports folded into the message they report on (migration 0011).

use super::*;
use sqlx::Row;

/// A report about `original` (kind `read`, `delivered`, `failed`…) from `to`.
fn report(original: &str, kind: &str) -> ReportRow {
    (
        original.to_owned(),
        kind.to_owned(),
        Some("dr.martin@x.test".to_owned()),
        kind.to_owned(),
    )
}

fn with_reports(reports: Vec<ReportRow>) -> BodyData {
    BodyData {
        text: "Votre message a été lu".into(),
        reports,
        ..Default::default()
    }
}

fn unread(uid: u32, subject: &str, message_id: &str) -> NewMessage {
    NewMessage {
        message_id: Some(message_id.to_owned()),
        flags: vec![],
        ..msg(uid, subject, "mailer-daemon@x.test")
    }
}

/// (UIDs listed in the inbox's page, its total, its unread count in the side bar).
async fn inbox(store: &Store, account: i64, inbox: i64) -> (Vec<u32>, i64, i64) {
    let domain = "patient.mssante.fr";
    let (total, rows) = store
        .page(&PageScope::Folder(inbox), domain, 0, 50)
        .await
        .unwrap();
    let (unified, _) = store
        .page(&PageScope::Unified, domain, 0, 50)
        .await
        .unwrap();
    assert_eq!(unified, total, "the unified inbox lists what INBOX lists");
    let counts = store.folder_counts(account, domain).await.unwrap();
    let c = counts.iter().find(|c| c.id == inbox).unwrap();
    assert_eq!(c.total, total, "the side bar counts what the list shows");
    (rows.iter().map(|r| r.uid).collect(), total, c.unread)
}

/// Reports whose every line says read or delivered, about a message the cache holds, leave
/// the lists and the unread counts; failures, delays and reports about unknown messages stay.
/// The state follows originals arriving and going, and bodies stored again, in any order.
#[tokio::test]
async fn read_and_delivery_reports_fold_into_the_message_they_report_on() {
    let (_dir, store, acc, inbox_id) = fresh_inbox().await;
    let sent = store
        .upsert_folder(acc, "Sent", Some("/"), Some("\\Sent"), true)
        .await
        .unwrap();
    let rows = vec![
        unread(1, "Résultats", "mail@x.test"),
        unread(2, "Lu : Résultats", "mdn@x.test"),
        unread(3, "Non remis", "dsn-failed@x.test"),
        unread(4, "Lu : ancien", "mdn-unknown@x.test"),
        unread(5, "Remis et lu", "dsn-mdn@x.test"),
    ];
    store.insert_batch(inbox_id, &rows, None).await.unwrap();
    store
        .store_bodies(
            inbox_id,
            &[
                (2, with_reports(vec![report("orig-1@x.test", "read")])),
                (3, with_reports(vec![report("orig-1@x.test", "failed")])),
                (4, with_reports(vec![report("never-cached@x.test", "read")])),
                (
                    5,
                    with_reports(vec![
                        report("orig-2@x.test", "delivered"),
                        report("orig-2@x.test", "read"),
                    ]),
                ),
            ],
        )
        .await
        .unwrap();
    // The originals are not cached yet (Sent not synced): every report is listed.
    assert_eq!(
        inbox(&store, acc, inbox_id).await,
        (vec![5, 4, 3, 2, 1], 5, 5)
    );

    // Sent arrives: the reports about its messages fold, the failure stays.
    let originals = vec![
        NewMessage {
            message_id: Some("orig-1@x.test".into()),
            ..msg(1, "Résultats", "a@x.test")
        },
        NewMessage {
            message_id: Some("orig-2@x.test".into()),
            ..msg(2, "Autre envoi", "a@x.test")
        },
    ];
    store.insert_batch(sent, &originals, None).await.unwrap();
    assert_eq!(inbox(&store, acc, inbox_id).await, (vec![4, 3, 1], 3, 3));
    // What they said is on the original.
    let (_, sent_rows) = store
        .page(&PageScope::Folder(sent), "patient.mssante.fr", 0, 50)
        .await
        .unwrap();
    let badge = |uid: u32| {
        sent_rows
            .iter()
            .find(|r| r.uid == uid)
            .and_then(|r| r.report.clone())
    };
    assert_eq!(badge(1).as_deref(), Some("failed"));
    assert_eq!(badge(2).as_deref(), Some("read"));
    // Search still finds a folded report.
    let hits = store
        .search(&SearchFilter {
            query: "Remis".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(hits
        .iter()
        .any(|h| h.subject.as_deref() == Some("Remis et lu")));

    // The report stored again, now saying the message was deleted unread: listed again; and
    // back to read: folded again.
    let stored_again = |kind: &'static str| {
        let store = store.clone();
        async move {
            store
                .store_bodies(
                    inbox_id,
                    &[(2, with_reports(vec![report("orig-1@x.test", kind)]))],
                )
                .await
                .unwrap()
        }
    };
    stored_again("deleted").await;
    assert_eq!(inbox(&store, acc, inbox_id).await.0, vec![4, 3, 2, 1]);
    stored_again("read").await;
    assert_eq!(inbox(&store, acc, inbox_id).await.0, vec![4, 3, 1]);

    // The original expunged from Sent: its read report comes back to the list.
    store.remove_uids(sent, &[1]).await.unwrap();
    assert_eq!(inbox(&store, acc, inbox_id).await, (vec![4, 3, 2, 1], 4, 4));
    // A report removed with its message leaves nothing behind.
    store.remove_uids(inbox_id, &[5]).await.unwrap();
    let reports: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM reports")
        .fetch_one(store.reader())
        .await
        .unwrap();
    assert_eq!(reports, 3);
}

/// The triggers find the messages concerned by index, whatever the cache's size.
#[tokio::test]
async fn folding_reads_messages_by_index() {
    let (_dir, store, _, _) = fresh_inbox().await;
    for sql in [
        "SELECT foldable FROM report_foldable WHERE id = 1",
        "UPDATE messages SET folded = (SELECT foldable FROM report_foldable v WHERE v.id = messages.id)
         WHERE id IN (SELECT message_pk FROM reports WHERE original_message_id = 'x')",
        // Store::incoming_since
        "SELECT COUNT(*) FROM messages m NOT INDEXED JOIN folders f ON f.id = m.folder_id
         WHERE m.id > 7 AND f.account_id = 1 AND m.folded = 0 AND f.special_use IS NULL",
    ] {
        let plan: Vec<String> = sqlx::query(&format!("EXPLAIN QUERY PLAN {sql}"))
            .fetch_all(store.reader())
            .await
            .unwrap()
            .iter()
            .map(|r| r.get::<String, _>(3))
            .collect();
        assert!(
            !plan.iter().any(|l| l.starts_with("SCAN")),
            "{sql}: {plan:?}"
        );
    }
}

/// A cache written before migration 11 gets its reports folded by the migration.
#[tokio::test]
async fn migration_11_folds_the_reports_already_cached() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(DB_FILE);
    let key = CacheKey::generate();
    cache_at_schema(
        &path,
        &key,
        10,
        "INSERT INTO accounts (id, address, kind, created_at) VALUES (1, 'a@x.test', 'PER', 0);
         INSERT INTO folders (id, account_id, name) VALUES (1, 1, 'INBOX'), (2, 1, 'Sent');
         INSERT INTO messages (id, folder_id, uid, message_id, subject, received_at)
         VALUES (1, 2, 1, 'orig@x.test', 'Envoi', 1),
                (2, 1, 1, 'r1@x.test', 'Lu : Envoi', 2),
                (3, 1, 2, 'r2@x.test', 'Non remis : Envoi', 3),
                (4, 1, 3, 'r3@x.test', 'Lu : autre', 4);
         INSERT INTO reports (message_pk, original_message_id, kind) VALUES
             (2, 'orig@x.test', 'read'), (3, 'orig@x.test', 'failed'),
             (4, 'elsewhere@x.test', 'read');",
    )
    .await;
    let store = Store::open(&path, &key).await.unwrap();
    let folded: Vec<i64> = sqlx::query_scalar("SELECT id FROM messages WHERE folded ORDER BY id")
        .fetch_all(store.reader())
        .await
        .unwrap();
    assert_eq!(folded, vec![2]);
}
