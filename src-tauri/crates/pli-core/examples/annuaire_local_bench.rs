//! Offline directory autocomplete, measured in-process: imports an extraction file, then
//! answers each query of a list as the compose window would (limit 20) and prints JSON with
//! p50/p95/max latencies. Used by `tests/bench/annuaire/run`.
//!
//! usage: annuaire_local_bench EXTRACTION.txt QUERIES.txt

use std::time::Instant;

use pli_core::annuaire::local::LocalDirectory;
use pli_core::annuaire::Query;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let (file, queries) = match (args.next(), args.next()) {
        (Some(f), Some(q)) => (f, q),
        _ => return Err("usage: annuaire_local_bench EXTRACTION.txt QUERIES.txt".into()),
    };
    let dir = std::env::temp_dir().join(format!("pli-annuaire-bench-{}", std::process::id()));
    let local = LocalDirectory::open(&dir).await?;
    let text = std::fs::read_to_string(&file)?;
    let t = Instant::now();
    let report = local.import(&text).await?;
    let import_s = t.elapsed().as_secs_f64();
    let queries: Vec<String> = std::fs::read_to_string(&queries)?
        .lines()
        .map(str::to_owned)
        .collect();
    // Warm-up pass, then the measured one.
    for q in queries.iter().take(50) {
        local.search(&name(q), 20).await?;
    }
    let mut lat = Vec::with_capacity(queries.len());
    let mut hits = 0usize;
    for q in &queries {
        let t = Instant::now();
        let r = local.search(&name(q), 20).await?;
        lat.push(t.elapsed().as_secs_f64() * 1000.0);
        hits += usize::from(!r.is_empty());
    }
    lat.sort_by(|a, b| a.total_cmp(b));
    let pct = |p: f64| lat[((lat.len() as f64 * p) as usize).min(lat.len() - 1)];
    println!(
        "{{\"entries\": {}, \"import_s\": {:.1}, \"queries\": {}, \"queries_with_hits\": {}, \"p50_ms\": {:.3}, \"p95_ms\": {:.3}, \"max_ms\": {:.3}, \"target\": \"p95 <= 10 ms at 500,000 entries\"}}",
        report.imported,
        import_s,
        lat.len(),
        hits,
        pct(0.50),
        pct(0.95),
        lat.last().copied().unwrap_or(0.0)
    );
    std::fs::remove_dir_all(&dir).ok();
    Ok(())
}

fn name(q: &str) -> Query {
    Query {
        name: Some(q.to_owned()),
        ..Query::default()
    }
}
