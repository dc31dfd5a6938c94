//! Measurement (not a test): in-process latency of `Store::search` (the newest-first first
//! page) on an existing encrypted cache, for tests/bench/search/run.
//!
//! `search_latency DATA_DIR PROFILE RUNS LIMIT QUERY...` opens `DATA_DIR/pli-cache.db` with
//! `Store::open_profile` (the key from the OS keyring under `cache-key:PROFILE`), then for each
//! QUERY runs `store.search` once as a warm-up and RUNS times timed, and prints one JSON
//! document: the time of reading the key from the keyring and of `open_profile`; per query the hits of the page, p50/p95/max in milliseconds, and diagnostics
//! measured on a separate read-only connection: how many messages the full-text index matches
//! (`count(*)` over `search_fts MATCH`, with its p50 time), and which plan `Store::search_plan`
//! says the search takes (the full-text index or the date index first) with SQLite's query plan.

use std::time::Instant;

use pli_core::store::{fts_query, CacheKey, SearchFilter, Store, DB_FILE};
use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};
use sqlx::Row;

fn percentile(sorted: &[f64], p: f64) -> f64 {
    // Nearest rank: the smallest value with at least p % of the samples at or below it.
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn ms(t: Instant) -> f64 {
    t.elapsed().as_secs_f64() * 1e3
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() < 5 {
        eprintln!("usage: search_latency DATA_DIR PROFILE RUNS LIMIT QUERY...");
        std::process::exit(2);
    }
    let data_dir = std::path::PathBuf::from(&args[0]);
    let profile = &args[1];
    let runs: usize = args[2].parse().expect("RUNS");
    let limit: i64 = args[3].parse().expect("LIMIT");
    let queries = &args[4..];

    // The key alone first (a Secret Service round trip over D-Bus), then the whole open.
    let t = Instant::now();
    let hex = pli_core::secrets::get(&CacheKey::keyring_account(profile)).expect("cache key");
    let keyring_ms = ms(t);
    let t = Instant::now();
    let store = Store::open_profile(&data_dir, profile)
        .await
        .expect("open the cache");
    let open_ms = ms(t);

    // A second, read-only connection for the diagnostics, with the same key.
    let opts = SqliteConnectOptions::new()
        .filename(data_dir.join(DB_FILE))
        .pragma("key", format!("\"x'{}'\"", hex.trim()))
        .read_only(true);
    let diag = SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(opts)
        .await
        .expect("diagnostic connection");
    let messages: i64 = sqlx::query("SELECT count(*) FROM messages")
        .fetch_one(&diag)
        .await
        .expect("count")
        .get(0);

    let mut out = Vec::new();
    let mut all = Vec::new();
    for q in queries {
        let filter = SearchFilter {
            query: q.clone(),
            limit: Some(limit),
            ..Default::default()
        };
        let warm = store.search(&filter).await.expect("search");
        let mut times = Vec::with_capacity(runs);
        for _ in 0..runs {
            let t = Instant::now();
            let hits = store.search(&filter).await.expect("search");
            times.push(ms(t));
            assert_eq!(hits.len(), warm.len());
        }
        all.extend_from_slice(&times);
        times.sort_by(f64::total_cmp);

        // Diagnostics: how much the index alone matches, and how long that takes.
        let fq = fts_query(q);
        let mut fts_times = Vec::new();
        let mut matches = 0i64;
        for _ in 0..3 {
            let t = Instant::now();
            matches = sqlx::query("SELECT count(*) FROM search_fts WHERE search_fts MATCH ?1")
                .bind(&fq)
                .fetch_one(&diag)
                .await
                .expect("fts count")
                .get(0);
            fts_times.push(ms(t));
        }
        fts_times.sort_by(f64::total_cmp);
        let (driver, plan) = store.search_plan(&filter).await.expect("plan");
        let driver = format!("{driver:?}");
        out.push(serde_json::json!({
            "query": q,
            "hits": warm.len(),
            "runs": runs,
            "p50_ms": round2(percentile(&times, 50.0)),
            "p95_ms": round2(percentile(&times, 95.0)),
            "max_ms": round2(*times.last().unwrap()),
            "fts_matches": matches,
            "fts_count_p50_ms": round2(fts_times[1]),
            "driver": driver,
            "plan": plan,
        }));
    }
    all.sort_by(f64::total_cmp);
    store.close().await;
    diag.close().await;
    println!(
        "{}",
        serde_json::json!({
            "messages_in_cache": messages,
            "keyring_get_ms": round2(keyring_ms),
            "open_ms": round2(open_ms),
            "limit": limit,
            "overall": {
                "samples": all.len(),
                "p50_ms": round2(percentile(&all, 50.0)),
                "p95_ms": round2(percentile(&all, 95.0)),
            },
            "queries": out,
        })
    );
}
