//! Measurement (not a test): size on disk of an encrypted cache seeded the way the sync fills
//! it (headers in batches of 500, then bodies in batches of 25), with deterministic synthetic
//! French-like text, so two schema versions can be compared on the same data.
//!
//! `cargo run -p pli-core --example cache_size -- [MESSAGES] [BODY_BYTES] [DIR]` prints JSON.

use pli_core::store::{BodyData, CacheKey, NewMessage, Store, DB_FILE};

/// Deterministic xorshift generator.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn pick<'a>(&mut self, v: &'a [String]) -> &'a str {
        &v[(self.next() % v.len() as u64) as usize]
    }
}

/// A vocabulary of `n` pronounceable words (a realistic spread of distinct index terms).
fn vocabulary(rng: &mut Rng, n: usize) -> Vec<String> {
    const SYL: &[&str] = &[
        "ca", "di", "o", "lo", "gie", "pa", "tho", "ra", "nal", "yse", "bi", "mé", "té", "rie",
        "sé", "ro", "thé", "ra", "pie", "chi", "rur", "gi", "cal", "ré", "sul", "tat", "né",
        "phro", "en", "do", "cri", "no", "hé", "ma", "to", "on", "co", "der", "mo", "pé", "di",
        "a", "tri",
    ];
    (0..n)
        .map(|_| {
            let k = 2 + (rng.next() % 3) as usize;
            (0..k)
                .map(|_| SYL[(rng.next() % SYL.len() as u64) as usize])
                .collect()
        })
        .collect()
}

fn text(rng: &mut Rng, words: &[String], bytes: usize) -> String {
    let mut out = String::with_capacity(bytes + 16);
    while out.len() < bytes {
        if !out.is_empty() {
            out.push(if rng.next().is_multiple_of(12) {
                '\n'
            } else {
                ' '
            });
        }
        out.push_str(rng.pick(words));
    }
    out
}

/// Bytes of the files in `dir` (the database, after a checkpoint).
fn dir_bytes(dir: &std::path::Path) -> u64 {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().metadata().unwrap().len())
        .sum()
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let mut args = std::env::args().skip(1);
    let messages: u32 = args.next().map_or(5000, |a| a.parse().expect("MESSAGES"));
    let body_bytes: usize = args.next().map_or(1500, |a| a.parse().expect("BODY_BYTES"));
    // With DIR, the cache is kept there under a fixed (test-only) key; a cache already there is
    // only opened, which times the migrations an older Pli's cache goes through.
    let temp = tempfile::tempdir().expect("temp dir");
    let dir = args
        .next()
        .map_or(temp.path().to_owned(), std::path::PathBuf::from);
    let key = CacheKey::from_hex(&"5a".repeat(32)).expect("key");
    let path = dir.join(DB_FILE);
    if path.exists() {
        let t = std::time::Instant::now();
        let store = Store::open(&path, &key).await.expect("open");
        let open_ms = t.elapsed().as_millis();
        store.checkpoint().await.unwrap();
        let version = store.schema_version().await.unwrap();
        store.close().await;
        println!(
            "{{\"schema\": {version}, \"reopened\": true, \"open_ms\": {open_ms}, \
             \"cache_bytes\": {}}}",
            dir_bytes(&dir)
        );
        return;
    }
    let store = Store::open(&path, &key).await.expect("open");
    let acc = store
        .add_account("bench@pli.test", "PER", None)
        .await
        .unwrap();
    let folder = store
        .upsert_folder(acc, "INBOX", Some("/"), None, true)
        .await
        .unwrap();
    let mut rng = Rng(0x5eed_cafe_f00d_0001);
    let words = vocabulary(&mut rng, 8000);
    let started = std::time::Instant::now();
    let uids: Vec<u32> = (1..=messages).rev().collect();
    for chunk in uids.chunks(500) {
        let batch: Vec<NewMessage> = chunk
            .iter()
            .map(|&uid| NewMessage {
                uid,
                message_id: Some(format!("size-{uid}@pli.test")),
                from: Some((format!("dr{}@pli.test", uid % 97), Some("Dr X".into()))),
                to: vec!["bench@pli.test".into()],
                subject: Some(text(&mut rng, &words, 40)),
                received_at: Some(1_700_000_000 + i64::from(uid)),
                flags: vec!["\\Seen".into()],
                ..Default::default()
            })
            .collect();
        store
            .insert_batch(folder, &batch, chunk.last().copied())
            .await
            .unwrap();
    }
    let mut text_bytes = 0usize;
    for chunk in uids.chunks(25) {
        let bodies: Vec<(u32, BodyData)> = chunk
            .iter()
            .map(|&uid| {
                let t = text(&mut rng, &words, body_bytes);
                text_bytes += t.len();
                let with_doc = uid.is_multiple_of(5);
                let body = BodyData {
                    snippet: t.chars().take(200).collect(),
                    text: t,
                    attachments: if with_doc {
                        vec![(
                            1,
                            Some("IHE_XDM.ZIP".into()),
                            "application/zip".into(),
                            9000,
                            true,
                        )]
                    } else {
                        Vec::new()
                    },
                    attachment_text: if with_doc {
                        text(&mut rng, &words, 600)
                    } else {
                        String::new()
                    },
                    ..Default::default()
                };
                (uid, body)
            })
            .collect();
        store.store_bodies(folder, &bodies).await.unwrap();
    }
    let seed_ms = started.elapsed().as_millis();
    store.checkpoint().await.unwrap();
    let version = store.schema_version().await.unwrap();
    store.close().await;
    let bytes = dir_bytes(&dir);
    println!(
        "{{\"schema\": {version}, \"messages\": {messages}, \"body_text_bytes\": {text_bytes}, \
         \"cache_bytes\": {bytes}, \"seed_ms\": {seed_ms}}}"
    );
}
