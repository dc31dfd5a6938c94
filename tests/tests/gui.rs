//! The built desktop app, started under Xvfb and driven through tauri-driver + WebKitWebDriver
//! as a person would see it. `scripts/test` builds the app and starts Xvfb and tauri-driver;
//! it passes `PLI_GUI_APP` (the binary) and `PLI_WEBDRIVER_URL`. Screenshots land in
//! `target/gui-screenshots/`.

use std::time::Duration;

use pli_e2e::{person, repo_root, sandbox_config, webdriver::Session};

fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!("{name} is not set: run the GUI tests through scripts/test (it builds the app and starts Xvfb and tauri-driver)")
    })
}

#[tokio::test]
async fn desktop_app_starts_and_shows_the_sandbox_mailboxes() {
    let cfg = sandbox_config();
    let app = env("PLI_GUI_APP");
    let driver = env("PLI_WEBDRIVER_URL");
    let s = Session::start_tauri(&driver, &app).await.unwrap();

    let title = s.title().await.unwrap();
    assert_eq!(title, "Pli — Messagerie sécurisée de santé");
    let h1 = s
        .wait_text("#app-title", Duration::from_secs(20))
        .await
        .unwrap();
    assert_eq!(h1, "Pli");
    // The configured mailboxes come from the engine over IPC, not from the page.
    let anne = person(&cfg, "practitioner");
    let addr = s
        .wait_text(".account .addr", Duration::from_secs(20))
        .await
        .unwrap();
    assert_eq!(Some(addr.as_str()), anne.personal_mailbox.as_deref());
    let env_badge = s.wait_text(".env", Duration::from_secs(5)).await.unwrap();
    assert_eq!(env_badge, "Bac à sable local");

    let png = s.screenshot().await.unwrap();
    assert!(png.starts_with(b"\x89PNG"), "not a PNG");
    let dir = repo_root().join("target/gui-screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("01-app-start.png"), &png).unwrap();
    s.quit().await.unwrap();
}
