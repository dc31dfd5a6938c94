//! Search and list plans: word searches walk the full-text index newest first, search keys
//! follow dates, list pages need no sort.

use super::*;

/// A word search walks the full-text index newest first (its rowids are the messages' date
/// keys) and stops at the page's end: the pages, with filters, offsets and a date bound, are
/// those of a brute-force reading of what was stored, for rare and frequent words, and
/// SQLite sorts nothing.
#[tokio::test]
async fn word_searches_walk_the_index_newest_first() {
    let (_dir, store, _, f) = fresh_inbox().await;
    // 2,400 messages say "consultation"; every 400th also says "tachycardie"; every third is
    // unread. received_at is shuffled against the UID so the id order is not the date order,
    // and pairs of messages share a second (the keys' slots).
    let n = 2400u32;
    let date = |uid: u32| 1_700_000_000 + ((uid as i64 * 7919) % n as i64) / 2;
    let mut batch = Vec::new();
    for uid in 1..=n {
        let mut m = msg(uid, "consultation", "dr@x.test");
        if uid % 400 == 0 {
            m.subject = Some("consultation tachycardie".into());
        }
        m.received_at = Some(date(uid));
        if uid % 3 == 0 {
            m.flags.clear();
        }
        batch.push(m);
    }
    for chunk in batch.chunks(500) {
        store.insert_batch(f, chunk, None).await.unwrap();
    }
    // Newest first; within a second, the later insertion (the higher id: UID order here).
    let expected = |rare: bool, unread: bool, since: i64| -> Vec<u32> {
        let mut v: Vec<(i64, u32)> = (1..=n)
            .filter(|u| !rare || u % 400 == 0)
            .filter(|u| !unread || u % 3 == 0)
            .map(|u| (date(u), u))
            .filter(|(d, _)| *d >= since)
            .collect();
        v.sort_by(|a, b| b.cmp(a));
        v.into_iter().map(|(_, u)| u).collect()
    };
    let run = |query: &str, unread: bool, limit: i64, offset: i64| SearchFilter {
        query: query.into(),
        unread,
        limit: Some(limit),
        offset,
        ..Default::default()
    };
    let uids = |hits: Vec<SearchHit>| hits.into_iter().map(|h| h.uid).collect::<Vec<_>>();

    assert_eq!(
        uids(
            store
                .search(&run("tachycardie", false, 50, 0))
                .await
                .unwrap()
        ),
        expected(true, false, 0)
    );
    assert_eq!(
        uids(store.search(&run("tachy*", true, 1, 1)).await.unwrap()),
        expected(true, true, 0)[1..2].to_vec()
    );
    for (unread, offset) in [(false, 0), (false, 1234), (true, 0), (true, 700)] {
        let f = run("consultation", unread, 50, offset);
        let (driver, plan) = store.search_plan(&f).await.unwrap();
        assert_eq!(driver, SearchDriver::Words);
        assert!(
            !plan.iter().any(|l| l.contains("TEMP B-TREE")),
            "{driver:?} sorts: {plan:?}"
        );
        assert_eq!(
            uids(store.search(&f).await.unwrap()),
            expected(false, unread, 0)[offset as usize..][..50].to_vec(),
            "unread={unread} offset={offset}"
        );
    }
    // A date bound: only what is as recent, and the walk stops there.
    let since = 1_700_000_000 + 1_000;
    let f = SearchFilter {
        since: Some(since),
        ..run("consultation", false, 2400, 0)
    };
    assert_eq!(
        uids(store.search(&f).await.unwrap()),
        expected(false, false, since)
    );
    // No match: nothing.
    assert!(store
        .search(&run("zzz", false, 50, 0))
        .await
        .unwrap()
        .is_empty());
    index_is_consistent(&store).await;
}

/// Dates that change, messages that go, many messages in one second, a second whose key
/// slots are used up: the index follows (FTS5's own integrity check), every message keeps
/// exactly one key, and word searches still come newest first.
#[tokio::test]
async fn search_keys_follow_dates_deletions_and_crowded_seconds() {
    let (_dir, store, _, f) = fresh_inbox().await;
    const SECOND: i64 = 1_700_000_000;
    let shift = 20;
    // 300 messages in one second (copies share their date), then 20 in the next second.
    let batch: Vec<_> = (1..=320u32)
        .map(|u| {
            let mut m = msg(u, "crowded", "dr@x.test");
            m.received_at = Some(SECOND + i64::from(u > 300));
            m
        })
        .collect();
    store.insert_batch(f, &batch, None).await.unwrap();
    index_is_consistent(&store).await;
    let pool = store.writer().clone();
    let keys: Vec<(i64, i64)> =
        sqlx::query_as("SELECT key, message_pk FROM search_keys ORDER BY key")
            .fetch_all(&pool)
            .await
            .unwrap();
    assert_eq!(keys.len(), 320);
    // The crowded second's messages have its first 300 keys, in insertion order.
    let base = SECOND << shift;
    let first: Vec<(i64, i64)> = keys[..300].to_vec();
    assert!(first
        .iter()
        .enumerate()
        .all(|(i, (k, _))| *k == base + i as i64));
    assert!(first.windows(2).all(|w| w[0].1 < w[1].1));
    assert_eq!(keys[300].0, (SECOND + 1) << shift);

    // A second whose slots are used up (its largest key at the range's end): the next message
    // of that second takes the first free key above the range, and the index stays right.
    let last = (SECOND - 10) << shift | ((1 << shift) - 1);
    let mut m = msg(400, "crowded full", "dr@x.test");
    m.received_at = Some(SECOND - 10);
    store.insert_batch(f, &[m], None).await.unwrap();
    let id: i64 = sqlx::query_scalar("SELECT id FROM messages WHERE uid = 400")
        .fetch_one(&pool)
        .await
        .unwrap();
    for sql in [
        "INSERT INTO search_fts (search_fts, rowid, subject, addresses, body, attachments)
         SELECT 'delete', key, subject, addresses, body, attachments FROM search_text WHERE id = ?1",
        "UPDATE search_keys SET key = ?2 WHERE message_pk = ?1",
        "INSERT INTO search_fts (rowid, subject, addresses, body, attachments)
         SELECT key, subject, addresses, body, attachments FROM search_text WHERE id = ?1",
    ] {
        sqlx::query(sql)
            .bind(id)
            .bind(last)
            .execute(&pool)
            .await
            .unwrap();
    }
    let mut m = msg(401, "crowded spilled", "dr@x.test");
    m.received_at = Some(SECOND - 10);
    store.insert_batch(f, &[m], None).await.unwrap();
    let spilled: i64 = sqlx::query_scalar(
        "SELECT k.key FROM search_keys k JOIN messages m ON m.id = k.message_pk WHERE m.uid = 401",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(spilled, last + 1);
    index_is_consistent(&store).await;

    // A date that changes moves the message's key; a message that goes takes its key along.
    let ids: Vec<i64> = sqlx::query_scalar("SELECT id FROM messages ORDER BY id")
        .fetch_all(&pool)
        .await
        .unwrap();
    sqlx::query(
        "UPDATE messages SET received_at = 1800000000, subject = 'crowded moved' WHERE id = ?1",
    )
    .bind(ids[0])
    .execute(&pool)
    .await
    .unwrap();
    sqlx::query("DELETE FROM messages WHERE id = ?1")
        .bind(ids[1])
        .execute(&pool)
        .await
        .unwrap();
    index_is_consistent(&store).await;
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM search_keys")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(count, 321);
    let hits = store
        .search(&SearchFilter {
            query: "crowded".into(),
            limit: Some(3),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(hits[0].subject.as_deref(), Some("crowded moved"));
    assert_eq!(hits[0].received_at, Some(1_800_000_000));
    assert_eq!(hits[1].received_at, Some(SECOND + 1));
    let all = store
        .search(&SearchFilter {
            query: "crowded".into(),
            limit: Some(500),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(all.len(), 321);
    // Oldest last: the full second's two messages.
    assert_eq!(
        all[319..]
            .iter()
            .map(|h| h.subject.as_deref().unwrap())
            .collect::<Vec<_>>(),
        ["crowded spilled", "crowded full"]
    );
}

/// Lists come newest first straight from an index read backwards: no sorter (which would
/// compute every skipped row's columns), and counts from the covering count index.
#[tokio::test]
async fn list_pages_and_searches_need_no_sort() {
    let (_dir, store, _, f) = fresh_inbox().await;
    let batch: Vec<_> = (1..=300)
        .map(|u| msg(u, "consultation", "dr@x.test"))
        .collect();
    store.insert_batch(f, &batch, None).await.unwrap();
    let domain = "patient.mssante.fr";
    for scope in [
        PageScope::Folder(f),
        PageScope::Unified,
        PageScope::Patient("279035121518989@patient.mssante.fr".into()),
    ] {
        let (count, rows) = store.page_plans(&scope, domain).await.unwrap();
        assert!(
            !rows.iter().any(|l| l.contains("TEMP B-TREE")),
            "{scope:?} sorts: {rows:?}"
        );
        if !matches!(scope, PageScope::Patient(_)) {
            assert!(
                count
                    .iter()
                    .any(|l| l.contains("messages_folder_from_seen")),
                "{scope:?} counts without the count index: {count:?}"
            );
        }
        // And the page is right: newest first, the whole list counted.
        let (total, page) = store.page(&scope, domain, 10, 5).await.unwrap();
        if !matches!(scope, PageScope::Patient(_)) {
            assert_eq!(total, 300);
            let uids: Vec<u32> = page.iter().map(|r| r.uid).collect();
            assert_eq!(uids, vec![290, 289, 288, 287, 286]);
        } else {
            assert_eq!((total, page.len()), (0, 0));
        }
    }
    let (driver, plan) = store
        .search_plan(&SearchFilter {
            query: "consultation".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(driver, SearchDriver::Words);
    assert!(!plan.iter().any(|l| l.contains("TEMP B-TREE")), "{plan:?}");
    let (_, plan) = store
        .search_plan(&SearchFilter {
            unread: true,
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(!plan.iter().any(|l| l.contains("TEMP B-TREE")), "{plan:?}");
}
