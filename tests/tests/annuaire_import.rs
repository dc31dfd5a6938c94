//! `pli annuaire import FILE` with the public extraction as it is published: a ZIP holding the
//! pipe-separated text. The files are made here with independent tools — the extraction by
//! `tests/bench/annuaire/gen_extraction.py`, the archives by Python's `zipfile` — including
//! hostile archives, which must be refused with nothing imported.
//!
//! Each test imports into its own data directory (a copy of the sandbox's pli.toml with
//! `data_dir` changed), so the sandbox's own offline directory is never touched.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use pli_core::annuaire::local::LocalDirectory;
use pli_core::annuaire::Query;
use pli_e2e::{repo_root, sandbox_config_path};
use serde_json::Value;

struct Env {
    dir: tempfile::TempDir,
    config: PathBuf,
}

impl Env {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let text = std::fs::read_to_string(sandbox_config_path()).expect("sandbox pli.toml");
        let mut v: toml::Value = toml::from_str(&text).unwrap();
        v["data_dir"] = toml::Value::String(dir.path().join("data").display().to_string());
        let config = dir.path().join("pli.toml");
        std::fs::write(&config, toml::to_string(&v).unwrap()).unwrap();
        Self { dir, config }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn pli(&self, args: &[&str]) -> Output {
        let bin = pli_e2e::pli_binary();
        Command::new(bin)
            .arg("--config")
            .arg(&self.config)
            .args(args)
            .output()
            .unwrap()
    }

    fn import(&self, file: &Path) -> Output {
        self.pli(&["annuaire", "import", "--json", file.to_str().unwrap()])
    }

    async fn local(&self) -> LocalDirectory {
        LocalDirectory::open(&self.path("data")).await.unwrap()
    }
}

fn python(script: &str, args: &[&Path]) {
    let out = Command::new("python3")
        .arg("-c")
        .arg(script)
        .args(args)
        .output()
        .expect("python3");
    assert!(out.status.success(), "{out:?}");
}

/// A generated extraction of `n` entries in the published column layout.
fn extraction(env: &Env, n: usize) -> PathBuf {
    let txt = env.path("Extraction_Correspondance_MSSante.txt");
    let out = Command::new("python3")
        .arg(repo_root().join("tests/bench/annuaire/gen_extraction.py"))
        .arg(n.to_string())
        .arg(&txt)
        .arg(env.path("queries.txt"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    txt
}

/// A ZIP with the given members: (archive name, source file or None for `data`).
const ZIP: &str = r#"
import sys, zipfile
out, members = sys.argv[1], sys.argv[2:]
with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
    for m in members:
        arcname, _, src = m.partition("=")
        z.writestr(zipfile.ZipInfo(arcname), open(src, "rb").read() if src else b"x")
"#;

fn zip(env: &Env, name: &str, members: &[String]) -> PathBuf {
    let out = env.path(name);
    let mut args: Vec<PathBuf> = vec![out.clone()];
    args.extend(members.iter().map(PathBuf::from));
    let refs: Vec<&Path> = args.iter().map(PathBuf::as_path).collect();
    python(ZIP, &refs);
    out
}

fn imported(out: &Output) -> usize {
    assert!(out.status.success(), "{out:?}");
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    v["imported"].as_u64().unwrap() as usize
}

#[tokio::test]
async fn the_published_zip_imports_exactly_like_its_text() {
    let text_env = Env::new();
    let zip_env = Env::new();
    let txt = extraction(&text_env, 3000);
    let archive = zip(
        &zip_env,
        "extraction.zip",
        &[format!(
            "Extraction_Correspondance_MSSante_202611220000.txt={}",
            txt.display()
        )],
    );
    let from_text = imported(&text_env.import(&txt));
    let from_zip = imported(&zip_env.import(&archive));
    assert_eq!(from_text, 3000);
    assert_eq!(from_zip, from_text);
    let q = Query {
        name: Some("dupré".into()),
        ..Query::default()
    };
    let a = text_env.local().await.search(&q, 1000).await.unwrap();
    let b = zip_env.local().await.search(&q, 1000).await.unwrap();
    assert!(!a.is_empty());
    assert_eq!(a, b);
}

#[tokio::test]
async fn hostile_zips_are_refused_and_nothing_is_imported() {
    let env = Env::new();
    let txt = extraction(&env, 500);
    let good = zip(
        &env,
        "good.zip",
        &[format!("extraction.txt={}", txt.display())],
    );
    assert_eq!(imported(&env.import(&good)), 500);

    // 300 MB of zeros in a few hundred kilobytes.
    let bomb = env.path("bomb.zip");
    python(
        r#"
import sys, zipfile
with zipfile.ZipFile(sys.argv[1], "w", zipfile.ZIP_DEFLATED) as z:
    with z.open("extraction.txt", "w") as f:
        chunk = b"\0" * (1 << 20)
        for _ in range(300):
            f.write(chunk)
"#,
        &[&bomb],
    );
    assert!(std::fs::metadata(&bomb).unwrap().len() < 2 * 1024 * 1024);
    let t = txt.display();
    let cases: Vec<(PathBuf, &str)> = vec![
        (
            zip(
                &env,
                "traversal.zip",
                &[format!("extraction.txt={t}"), format!("../../.bashrc={t}")],
            ),
            "nom de fichier dangereux",
        ),
        (
            zip(&env, "absolute.zip", &[format!("/tmp/extraction.txt={t}")]),
            "nom de fichier dangereux",
        ),
        (bomb, "fois sa taille compressée"),
        (
            zip(
                &env,
                "two.zip",
                &[format!("a.txt={t}"), format!("b.txt={t}")],
            ),
            "plusieurs fichiers texte",
        ),
        (
            zip(&env, "none.zip", &["notice.pdf=".to_owned()]),
            "aucun fichier .txt",
        ),
    ];
    for (file, why) in &cases {
        let out = env.import(file);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{} was accepted", file.display());
        assert!(err.contains(why), "{}: {err}", file.display());
    }
    // A file that is not ZIP nor UTF-8 text.
    let junk = env.path("junk.zip");
    std::fs::write(&junk, b"PK\x03\x04\xff\xff not really").unwrap();
    let out = env.import(&junk);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("archive d'extraction illisible"));

    // The previous import is intact.
    let local = env.local().await;
    assert_eq!(local.len().await.unwrap(), 500);
    let q = Query {
        name: Some("martin".into()),
        ..Query::default()
    };
    assert!(!local.search(&q, 10).await.unwrap().is_empty());
}
