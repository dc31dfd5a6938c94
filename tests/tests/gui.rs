//! The built desktop app, started under Xvfb and driven through tauri-driver + WebKitWebDriver
//! as a person uses it, against the sandbox servers. `scripts/test` builds the app and starts
//! Xvfb and tauri-driver; it passes `PLI_GUI_APP` (the binary) and `PLI_WEBDRIVER_URL`.
//! Screenshots of each step land in `target/gui-screenshots/`; at three of them (the inbox,
//! the CR-BIO N3, the N1's PDF) the X display is compared with WebKit's snapshot of the page
//! (`on_screen_as_painted`: what the person sees is what was painted).
//!
//! One scenario, in order (each step needs the previous one): the login screen; log in through the
//! sandbox PSC by CIBA (auto-approved by the sandbox like a tap on the e-CPS app); the seeded
//! inbox; a patient message with the patient's name and INS; ending the exchange with a patient
//! (the patient's mailbox, read by the Dovecot master user, receives the `X-MSS-MES: FIN` message);
//! searching a word found only inside an attached document and opening that CR-BIO N3 (and saving
//! it as a PDF), then an N1 document; composing to a directory result with a CDA attached and both
//! receipts asked for (it arrives as IHE XDM asking for a read receipt; the operator reports the
//! delivery); a draft that reaches the server's Drafts folder by itself and is taken up from there,
//! then discarded (its copy leaves the server); the audit view; beside the window, the tray icon as
//! a panel reads it on the session bus (menu, unread count). Messages are found by search, not by
//! scrolling: the sandbox mailboxes grow with every test run.

use std::collections::BTreeSet;
use std::time::Duration;

use futures::TryStreamExt;
use mail_parser::{MessageParser, MimeHeaders};
use pli_e2e::sync_support::master_session;
use pli_e2e::webdriver::Session;
use pli_e2e::{person, repo_root, sandbox_config};
use serde_json::json;

fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!("{name} is not set: run the GUI tests through scripts/test (it builds the app and starts Xvfb and tauri-driver)")
    })
}

const SHORT: Duration = Duration::from_secs(15);
const LONG: Duration = Duration::from_secs(90);

async fn shot(s: &Session, name: &str) {
    let png = s.screenshot().await.unwrap();
    assert!(png.starts_with(b"\x89PNG"), "not a PNG");
    let dir = repo_root().join("target/gui-screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(format!("{name}.png")), &png).unwrap();
}

/// What the person sees is what WebKit painted: the X display (what the compositor put on
/// screen; the window fills it) against WebKit's own snapshot of the page, both saved beside
/// the screenshots (`NAME-screen.png`, `NAME-painted.png`). Without a GPU the shell has WebKit
/// composite only what changed (decision 0037): a missed damage region would leave stale
/// pixels on screen that WebDriver's snapshots never show. A few differing pixels are allowed
/// (a text caret, a progress bar's step between the two captures); a stale area is thousands.
async fn on_screen_as_painted(s: &Session, name: &str) -> anyhow::Result<()> {
    const MOST_PIXELS_APART: f64 = 500.0;
    let dir = repo_root().join("target/gui-screenshots");
    std::fs::create_dir_all(&dir)?;
    let (screen, painted) = (
        dir.join(format!("{name}-screen.png")),
        dir.join(format!("{name}-painted.png")),
    );
    // Let the compositor present the last frame.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let png = s.screenshot().await?;
    anyhow::ensure!(png.len() > 24 && png.starts_with(b"\x89PNG"), "not a PNG");
    let (w, h) = (
        u32::from_be_bytes(png[16..20].try_into()?),
        u32::from_be_bytes(png[20..24].try_into()?),
    );
    std::fs::write(&painted, &png)?;
    let grab = std::process::Command::new("import")
        .args(["-window", "root", "-crop", &format!("{w}x{h}+0+0")])
        .arg(&screen)
        .output()?;
    anyhow::ensure!(
        grab.status.success(),
        "import: {}",
        String::from_utf8_lossy(&grab.stderr)
    );
    let cmp = std::process::Command::new("compare")
        .args(["-metric", "AE", "-fuzz", "2%"])
        .arg(&screen)
        .arg(&painted)
        .arg("null:")
        .output()?;
    let report = String::from_utf8_lossy(&cmp.stderr);
    let apart: f64 = report
        .split_whitespace()
        .next()
        .and_then(|n| n.parse().ok())
        .ok_or_else(|| anyhow::anyhow!("compare: {report}"))?;
    anyhow::ensure!(
        apart <= MOST_PIXELS_APART,
        "{name}: the screen and WebKit's snapshot differ in {apart} pixels (see {} and {})",
        screen.display(),
        painted.display()
    );
    Ok(())
}

/// The tray icon's object: libayatana-appindicator exports Pli's tray as a
/// StatusNotifierItem on the session bus, which is what a desktop panel reads.
const TRAY: &str = "/org/ayatana/NotificationItem/tray_icon_tray_app_main";

fn gdbus(args: &[&str]) -> Option<String> {
    let out = std::process::Command::new("gdbus")
        .args(["call", "--session", "--timeout", "3"])
        .args(args)
        .output()
        .expect("gdbus (libglib2.0-bin, scripts/install-deps)");
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The bus connection of the app under test that exports the tray icon: among the session
/// bus's connections (the test's private bus), the one owned by a `pli-desktop` process that
/// answers on [`TRAY`].
fn tray_connection() -> Option<String> {
    let bus = [
        "--dest",
        "org.freedesktop.DBus",
        "--object-path",
        "/org/freedesktop/DBus",
    ];
    let names = gdbus(&[&bus[..], &["--method", "org.freedesktop.DBus.ListNames"]].concat())?;
    names
        .split('\'')
        .filter(|n| n.starts_with(':'))
        .find(|name| {
            let pid = gdbus(
                &[
                    &bus[..],
                    &[
                        "--method",
                        "org.freedesktop.DBus.GetConnectionUnixProcessID",
                        name,
                    ],
                ]
                .concat(),
            )
            .and_then(|o| {
                o.split_whitespace()
                    .nth(1)
                    .map(|p| p.trim_end_matches([',', ')']).to_owned())
            });
            let is_app = pid.is_some_and(|p| {
                std::fs::read_link(format!("/proc/{p}/exe"))
                    .is_ok_and(|e| e.to_string_lossy().ends_with("/pli-desktop"))
            });
            is_app
                && tray_call(
                    name,
                    "org.freedesktop.DBus.Properties.Get",
                    &["org.kde.StatusNotifierItem", "Id"],
                    "",
                )
                .is_some()
        })
        .map(str::to_owned)
}

fn tray_call(name: &str, method: &str, args: &[&str], suffix: &str) -> Option<String> {
    let path = format!("{TRAY}{suffix}");
    gdbus(
        &[
            &[
                "--dest",
                name,
                "--object-path",
                &path,
                "--method",
                method,
                "--",
            ][..],
            args,
        ]
        .concat(),
    )
}

/// The tray's label as a panel shows it beside the icon: the unread count, empty when nothing
/// is unread.
fn tray_label(name: &str) -> Option<String> {
    let out = tray_call(
        name,
        "org.freedesktop.DBus.Properties.Get",
        &["org.kde.StatusNotifierItem", "XAyatanaLabel"],
        "",
    )?;
    // (<'12'>,)
    Some(out.split('\'').nth(1).unwrap_or_default().to_owned())
}

/// Waits until the tray's label equals the unread counts the window shows (unified inbox +
/// patients), and returns it.
async fn tray_matches_window(s: &Session, tray: &str) -> anyhow::Result<String> {
    let shown = "(() => { const n = (sel) => Number(document.querySelector(sel + ' .unread')?.textContent ?? 0); \
                  const t = n('[data-testid=unified-inbox]') + n('[data-testid=patients-tab]'); \
                  return t > 0 ? String(t) : ''; })()";
    let deadline = std::time::Instant::now() + LONG;
    loop {
        let window = s.execute(&format!("return {shown};")).await?;
        let window = window.as_str().unwrap_or_default().to_owned();
        let label = tray_label(tray).unwrap_or_else(|| "<no tray>".into());
        if label == window {
            return Ok(label);
        }
        if std::time::Instant::now() > deadline {
            anyhow::bail!("tray label {label:?}, window shows {window:?} unread");
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

/// UIDs of a mailbox's INBOX messages carrying header `header` (master user).
async fn uids_with_header(
    cfg: &pli_core::config::Config,
    mailbox: &str,
    header: &str,
) -> BTreeSet<u32> {
    let mut m = master_session(cfg, mailbox).await;
    m.select("INBOX").await.unwrap();
    let found = m.uid_search(format!("HEADER {header} \"\"")).await.unwrap();
    m.logout().await.ok();
    found.into_iter().collect()
}

async fn fetch_raw(cfg: &pli_core::config::Config, mailbox: &str, uid: u32) -> Vec<u8> {
    let mut m = master_session(cfg, mailbox).await;
    m.select("INBOX").await.unwrap();
    let f: Vec<_> = m
        .uid_fetch(uid.to_string(), "BODY.PEEK[]")
        .await
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    m.logout().await.ok();
    f[0].body().unwrap().to_vec()
}

/// Whether `mailbox`'s Drafts folder holds a message with this subject (master user).
async fn server_draft(cfg: &pli_core::config::Config, mailbox: &str, subject: &str) -> bool {
    let mut m = master_session(cfg, mailbox).await;
    m.select("Drafts").await.unwrap();
    let found = m
        .uid_search(format!("SUBJECT \"{subject}\""))
        .await
        .unwrap();
    m.logout().await.ok();
    !found.is_empty()
}

/// Waits until [`server_draft`] says `present`.
async fn until_server_draft(
    cfg: &pli_core::config::Config,
    mailbox: &str,
    subject: &str,
    present: bool,
) -> anyhow::Result<()> {
    let deadline = std::time::Instant::now() + LONG;
    while server_draft(cfg, mailbox, subject).await != present {
        anyhow::ensure!(
            std::time::Instant::now() < deadline,
            "the draft {subject:?} never {} the server's Drafts folder",
            if present { "reached" } else { "left" }
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    Ok(())
}

/// Waits until `mailbox` has a message with `header` that was not in `before`.
async fn new_message(
    cfg: &pli_core::config::Config,
    mailbox: &str,
    header: &str,
    before: &BTreeSet<u32>,
) -> Vec<u8> {
    let deadline = std::time::Instant::now() + LONG;
    loop {
        let now = uids_with_header(cfg, mailbox, header).await;
        if let Some(uid) = now.difference(before).last() {
            return fetch_raw(cfg, mailbox, *uid).await;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no new message with {header} in {mailbox}"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

#[tokio::test]
async fn a_practitioner_logs_in_reads_documents_ends_an_exchange_sends_and_searches() {
    let mut cfg = sandbox_config();
    let anne = person(&cfg, "practitioner");
    let gp = person(&cfg, "gp");
    let gp_mailbox = gp.personal_mailbox.clone().unwrap();
    let lea_ins = "279035121518989";
    let lea_mailbox = format!("{lea_ins}@{}", cfg.operator.patient_domain);

    // A fresh cache for this run, and no PSC session left in the keyring by other tests: the
    // app must show its login screen.
    let dir = tempfile::tempdir().unwrap();
    cfg.data_dir = Some(dir.path().join("data"));
    let conf = dir.path().join("pli.toml");
    let text = std::fs::read_to_string(repo_root().join("target/sandbox/pli.toml")).unwrap();
    let text = text
        .lines()
        .map(|l| {
            if l.starts_with("data_dir") {
                format!(
                    "data_dir = {:?}",
                    dir.path().join("data").display().to_string()
                )
            } else {
                l.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    std::fs::write(&conf, text).unwrap();
    pli_core::auth::psc::forget(cfg.environment, None).ok();

    let s = Session::start_tauri_with(
        &env("PLI_WEBDRIVER_URL"),
        &env("PLI_GUI_APP"),
        &["--config".to_owned(), conf.display().to_string()],
    )
    .await
    .unwrap();
    let result = scenario(&s, &cfg, &anne, &gp_mailbox, lea_ins, &lea_mailbox).await;
    if result.is_err() {
        shot(&s, "99-failure").await;
    }
    s.quit().await.ok();
    result.unwrap();
}

async fn scenario(
    s: &Session,
    cfg: &pli_core::config::Config,
    anne: &pli_core::config::SandboxPerson,
    gp_mailbox: &str,
    lea_ins: &str,
    lea_mailbox: &str,
) -> anyhow::Result<()> {
    // 1. The login screen, in French, on the sandbox.
    assert_eq!(s.title().await?, "Pli — Messagerie sécurisée de santé");
    s.wait_for("#login-ciba", SHORT).await?;
    let body = s.wait_text("body", SHORT).await?;
    assert!(body.contains("Pro Santé Connect"), "{body}");
    assert!(body.contains("Bac à sable local"), "{body}");
    shot(s, "01-login").await;

    // 2. Log in by CIBA with Anne's national id; the sandbox approves like the e-CPS app.
    s.type_into("#login-national-id", &anne.national_id, SHORT)
        .await?;
    s.click("#login-ciba", SHORT).await?;
    let who = s.wait_text("#session-name", LONG).await?;
    assert!(who.contains("LEFÈVRE"), "logged in as {who}");
    shot(s, "02-logged-in").await;

    // 3. The seeded inbox appears (synced by the engine from Dovecot).
    s.wait_until(
        "document.querySelectorAll('[data-testid=message-row]').length > 3",
        LONG,
    )
    .await?;
    shot(s, "03-inbox").await;
    on_screen_as_painted(s, "03-inbox").await?;

    // 3b. The tray icon, read on the session bus as a desktop panel reads it: its menu opens
    //     or quits Pli, and its label is the unread count the window shows.
    let tray =
        tray_connection().ok_or_else(|| anyhow::anyhow!("no tray icon on the session bus"))?;
    let menu = tray_call(
        &tray,
        "com.canonical.dbusmenu.GetLayout",
        &["0", "-1", "@as []"],
        "/Menu",
    )
    .unwrap_or_default();
    assert!(
        menu.contains("'Ouvrir Pli'") && menu.contains("'Quitter Pli'"),
        "tray menu: {menu}"
    );
    let unread_before = tray_matches_window(s, &tray).await?;
    assert!(
        unread_before.parse::<u32>().is_ok_and(|n| n > 0),
        "the seeded inbox has unread mail: tray label {unread_before:?}"
    );

    // 4. The patient pane: Léa DUPOND's conversation, a message with her name and INS.
    s.click("[data-testid=patients-tab]", SHORT).await?;
    let conv = format!("[data-testid=patient-conversation][data-ins='{lea_ins}']");
    s.click(&conv, LONG).await?;
    let conv_text = s.wait_text(&conv, SHORT).await?;
    assert!(conv_text.contains("DUPOND"), "{conv_text}");
    s.click("[data-testid=message-row]", SHORT).await?;
    let banner = s.wait_text("[data-testid=patient-banner]", SHORT).await?;
    assert!(
        banner.contains("DUPOND") && banner.contains("Léa") && banner.contains(lea_ins),
        "patient banner: {banner}"
    );
    shot(s, "04-patient-message").await;
    // Reading changed the counts: the tray follows the window.
    tray_matches_window(s, &tray).await?;

    // 5. End the exchange with Léa: confirmation, then the FIN message reaches her mailbox.
    let before = uids_with_header(cfg, lea_mailbox, "X-MSS-MES").await;
    s.click("[data-testid=end-exchange]", SHORT).await?;
    let dialog = s.wait_text("[data-testid=confirm-dialog]", SHORT).await?;
    assert!(dialog.contains("ne pourra plus répondre"), "{dialog}");
    shot(s, "05-end-exchange-confirm").await;
    s.click("[data-testid=confirm-end]", SHORT).await?;
    let fin = new_message(cfg, lea_mailbox, "X-MSS-MES", &before).await;
    let fin = MessageParser::default().parse(&fin).unwrap();
    assert_eq!(
        fin.header_raw("X-MSS-MES").map(str::trim),
        Some("FIN"),
        "the patient's mailbox got the end-of-exchange message"
    );
    s.wait_for(
        &format!("{conv} [data-testid=exchange-ended], [data-testid=exchange-ended]"),
        LONG,
    )
    .await?;
    shot(s, "06-exchange-ended").await;

    // 6. Search a word found only inside an attached document (the CR-BIO's antibiogram):
    //    the laboratory's microbiology report comes up; open its N3 document, rendered in the
    //    isolated viewer.
    search(s, "gentamicine").await?;
    s.wait_until(
        "[...document.querySelectorAll('[data-testid=message-row]')].some(r => r.textContent.includes('examens biologiques'))",
        LONG,
    )
    .await?;
    shot(s, "07-search-in-documents").await;
    open_row_with(s, "examens biologiques").await?;
    s.click("[data-testid=attachment]", SHORT).await?;
    s.wait_for("[data-testid=document-viewer] #document-frame", LONG)
        .await?;
    let srcdoc = s
        .wait_until(
            "document.querySelector('#document-frame')?.getAttribute('srcdoc')",
            SHORT,
        )
        .await?;
    let srcdoc = srcdoc.as_str().unwrap_or_default();
    assert!(
        srcdoc.contains("Gentamicine") || srcdoc.contains("gentamicine"),
        "CR-BIO table"
    );
    assert!(
        !srcdoc.contains("<script"),
        "no script in a rendered document"
    );
    let sandbox_attr = s
        .execute("return document.querySelector('#document-frame').getAttribute('sandbox')")
        .await?;
    assert_eq!(
        sandbox_attr,
        json!(""),
        "the document frame is fully sandboxed"
    );
    shot(s, "08-cr-bio-n3").await;
    on_screen_as_painted(s, "08-cr-bio-n3").await?;
    // "Enregistrer en PDF": the CR-BIO's PDF copy lands in the downloads folder (under
    // target/ for the tests), and the window says where.
    s.click("[data-testid=save-pdf]", SHORT).await?;
    let saved = s
        .wait_until(
            "document.querySelector('[data-testid=saved-pdf]')?.textContent",
            LONG,
        )
        .await?;
    let saved = saved.as_str().unwrap_or_default();
    let path = saved
        .split_once(':')
        .map(|(_, p)| p.trim().to_owned())
        .unwrap_or_default();
    anyhow::ensure!(
        path.starts_with(
            &repo_root()
                .join("target/gui-downloads")
                .display()
                .to_string()
        ),
        "saved where? {saved:?}"
    );
    let text = pli_cda::pdf_text(&std::fs::read(&path)?)?;
    anyhow::ensure!(text.contains("PAT-TROIS"), "{path}: {text}");
    s.execute(
        "document.dispatchEvent(new KeyboardEvent('keydown', {key: 'Escape', bubbles: true}))",
    )
    .await?;
    s.wait_until(
        "!document.querySelector('[data-testid=document-viewer]')",
        SHORT,
    )
    .await?;

    // 7. An N1 (PDF inside the CDA) imaging report: the CT scan's report.
    search(s, "scanner thorax").await?;
    open_row_with(s, "imagerie").await?;
    s.click("[data-testid=attachment]", SHORT).await?;
    s.wait_until(
        "document.querySelector('[data-testid=document-viewer]')?.textContent.includes('N1')",
        LONG,
    )
    .await?;
    // Its PDF copy in the PDF viewer (pdf.js draws into a canvas).
    s.execute(
        "const t = [...document.querySelectorAll('[role=tab]')].find(b => b.textContent.includes('PDF')); \
         if (t) t.click(); return !!t;",
    )
    .await?;
    s.wait_for("[data-testid=pdf-viewer] canvas", LONG).await?;
    shot(s, "09-n1-document").await;
    on_screen_as_painted(s, "09-n1-document").await?;
    s.execute(
        "document.dispatchEvent(new KeyboardEvent('keydown', {key: 'Escape', bubbles: true}))",
    )
    .await?;

    // 8. Compose to a directory result (Bruno GIRARD) with a CDA attached, read and delivery
    //    receipts asked for: arrives as XDM, asking for a read receipt; the delivery is reported.
    let before = uids_with_header(cfg, gp_mailbox, "X-MSS-CODECDA").await;
    s.click("[data-testid=compose-new]", SHORT).await?;
    s.type_into("#compose-to", "girard", SHORT).await?;
    let sugg = format!("[data-testid=suggestion][data-mail='{gp_mailbox}']");
    s.click(&sugg, LONG).await?;
    s.type_into("#compose-subject", "Résultats TROD", SHORT)
        .await?;
    s.type_into(
        "#compose-body",
        "Bonjour Bruno, voici le compte rendu.",
        SHORT,
    )
    .await?;
    let cda = repo_root().join("tests/fixtures/cda/BIO-TROD_2024.01_COVID-19.xml");
    s.type_into("#compose-files", &cda.display().to_string(), SHORT)
        .await?;
    s.wait_until(
        "document.querySelector('[data-testid=compose]')?.textContent.includes('BIO-TROD')",
        SHORT,
    )
    .await?;
    // Both receipts asked for (ECO.2.3.1, RFC 8098): two toggles.
    s.click("[data-testid=compose-receipt]", SHORT).await?;
    s.click("[data-testid=compose-delivery-receipt]", SHORT)
        .await?;
    shot(s, "10-compose").await;
    s.click("[data-testid=send]", SHORT).await?;
    let state = s
        .wait_until(
            "document.querySelector('[data-testid=send-result]')?.getAttribute('data-state')",
            LONG,
        )
        .await?;
    assert_eq!(state, json!("sent"));
    let raw = new_message(cfg, gp_mailbox, "X-MSS-CODECDA", &before).await;
    let msg = MessageParser::default().parse(&raw).unwrap();
    assert!(msg.subject().unwrap_or("").starts_with("XDM/1.0/DDM+"));
    let zip = msg
        .attachments()
        .find(|a| {
            a.attachment_name()
                .is_some_and(|n| n.eq_ignore_ascii_case("IHE_XDM.ZIP"))
        })
        .expect("IHE_XDM.ZIP attached");
    let pkg = pli_cda::xdm::read(zip.contents()).expect("a valid XDM package");
    assert_eq!(pkg.documents.len(), 1);
    // The read receipt is asked of the recipient, to Anne's address.
    let anne_mailbox = anne.personal_mailbox.clone().unwrap();
    let mdn_to = msg
        .header_raw("Disposition-Notification-To")
        .unwrap_or_default();
    assert!(mdn_to.contains(anne_mailbox.as_str()), "{mdn_to:?}");
    // The delivery receipt was asked of the submission server (DSN in the envelope): the
    // operator's MTA reports the delivery to Anne, naming the message.
    let sent_id = msg.message_id().unwrap_or_default().to_owned();
    let deadline = std::time::Instant::now() + LONG;
    loop {
        let mut m = master_session(cfg, &anne_mailbox).await;
        m.select("INBOX").await?;
        let dsn = m
            .uid_search(format!(
                "HEADER Content-Type \"delivery-status\" BODY \"{sent_id}\""
            ))
            .await?;
        m.logout().await.ok();
        if !dsn.is_empty() {
            break;
        }
        anyhow::ensure!(
            std::time::Instant::now() < deadline,
            "no delivery report for {sent_id} in {anne_mailbox}"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    shot(s, "11-sent").await;
    // The compose window closes by itself once the message is sent.
    s.wait_until("!document.querySelector('[data-testid=compose]')", SHORT)
        .await?;

    // 9. A draft: typed, the window closed; its copy reaches the server's Drafts folder by
    //    itself (`PLI_DRAFT_UPLOAD_SECS` is short under scripts/test), where the webmail would
    //    see it. Taken up from Pli's Drafts folder, it opens with its fields; discarded, its
    //    copy leaves the server.
    let personal = anne.personal_mailbox.clone().unwrap();
    let subject = format!(
        "Brouillon {}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis()
    );
    s.click("[data-testid=compose-new]", SHORT).await?;
    s.type_into("#compose-subject", &subject, SHORT).await?;
    s.type_into("#compose-body", "Avis à compléter.", SHORT)
        .await?;
    // Escape closes the window; the draft stays.
    s.type_into("#compose-body", "\u{E00C}", SHORT).await?;
    s.wait_until("!document.querySelector('[data-testid=compose]')", SHORT)
        .await?;
    until_server_draft(cfg, &personal, &subject, true).await?;
    s.click(
        &format!("[data-testid=folder][data-account='{personal}'][data-name='Drafts']"),
        SHORT,
    )
    .await?;
    open_row_with(s, &subject).await?;
    s.click("[data-testid=resume-draft]", SHORT).await?;
    s.wait_until(
        &format!(
            "document.querySelector('#compose-subject')?.value === {subject:?} && \
             document.querySelector('#compose-body')?.value.includes('Avis à compléter.')"
        ),
        SHORT,
    )
    .await?;
    shot(s, "12-draft-resumed").await;
    s.click("[data-testid=discard]", SHORT).await?;
    until_server_draft(cfg, &personal, &subject, false).await?;

    // 10. The audit trail shows the login and the sending.
    s.click("[data-testid=audit-tab]", SHORT).await?;
    s.wait_until(
        "document.querySelectorAll('[data-testid=audit-row]').length > 0",
        SHORT,
    )
    .await?;
    let audit = s.wait_text("[data-testid=audit-view]", SHORT).await?;
    assert!(audit.contains("login"), "{audit}");
    shot(s, "13-audit").await;
    Ok(())
}

/// Searches the cache from the header's search box (replacing what was there).
async fn search(s: &Session, query: &str) -> anyhow::Result<()> {
    s.clear("#search-input", SHORT).await?;
    s.type_into("#search-input", &format!("{query}\u{E007}"), SHORT)
        .await
}

/// Clicks the first list row whose text contains `needle` (case-insensitive).
async fn open_row_with(s: &Session, needle: &str) -> anyhow::Result<()> {
    let script = format!(
        "const r = [...document.querySelectorAll('[data-testid=message-row]')]\
           .find(r => r.textContent.toLowerCase().includes({:?})); if (r) r.click(); return !!r;",
        needle.to_lowercase()
    );
    let deadline = std::time::Instant::now() + LONG;
    loop {
        if s.execute(&script).await? == json!(true) {
            break;
        }
        anyhow::ensure!(std::time::Instant::now() < deadline, "no row with {needle}");
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    s.wait_for("#reading-subject", SHORT).await?;
    Ok(())
}
