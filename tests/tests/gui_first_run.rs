//! First run of the built desktop app on a workstation where IT deployed no configuration
//! (driven through tauri-driver under Xvfb, like `gui.rs`): the first-run screen asks for the
//! environment and the mailbox address, finds the IMAP and submission servers in DNS SRV (the
//! sandbox's dnsmasq publishes `_imaps._tcp` on 10993 and `_submission._tcp` on 10587, not the
//! ports of the sandbox's own `pli.toml`), takes the trust anchors, writes the user's `pli.toml`
//! where Pli looks for it, and the practitioner logs in and sees mail synced over the
//! discovered server. Screenshots: `target/gui-screenshots/first-run-*.png`. At the end, the
//! shell's log shows that the webview was set up to paint as decisions 0035/0036 say.

use std::os::unix::fs::PermissionsExt;
use std::time::Duration;

use pli_e2e::webdriver::Session;
use pli_e2e::{person, repo_root, sandbox_config};

const SHORT: Duration = Duration::from_secs(15);
const LONG: Duration = Duration::from_secs(90);

fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!("{name} is not set: run the GUI tests through scripts/test (it builds the app and starts Xvfb and tauri-driver)")
    })
}

async fn shot(s: &Session, name: &str) {
    let png = s.screenshot().await.unwrap();
    assert!(png.starts_with(b"\x89PNG"), "not a PNG");
    let dir = repo_root().join("target/gui-screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(format!("first-run-{name}.png")), &png).unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_practitioner_without_any_configuration_sets_up_pli_and_reads_mail() {
    let cfg = sandbox_config();
    let anne = person(&cfg, "practitioner");
    let address = anne.personal_mailbox.clone().unwrap();
    assert!(
        !std::path::Path::new("/etc/pli/pli.toml").exists(),
        "/etc/pli/pli.toml exists on this machine: the machine-wide file would win over the first run"
    );

    // The app as a newcomer starts it: no --config, no PLI_CONFIG, empty per-user directories.
    // tauri-driver starts the binary it is given, with its own environment: a wrapper sets ours.
    let dir = tempfile::tempdir().unwrap();
    let (config_home, data_home) = (dir.path().join("config"), dir.path().join("data"));
    let wrapper = dir.path().join("pli-first-run");
    // The shell's own log (its start-up steps; it holds no secret; tracing writes to standard
    // output) goes to a file the test reads at the end: how the webview was set up to paint.
    let log = dir.path().join("pli-desktop.log");
    std::fs::write(
        &wrapper,
        format!(
            "#!/bin/sh\nunset PLI_CONFIG\nexport XDG_CONFIG_HOME='{}' XDG_DATA_HOME='{}'\n\
             export PLI_LOG=pli_desktop=debug NO_COLOR=1\nexec '{}' \"$@\" >>'{}' 2>&1\n",
            config_home.display(),
            data_home.display(),
            env("PLI_GUI_APP"),
            log.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&wrapper, std::fs::Permissions::from_mode(0o755)).unwrap();
    pli_core::auth::psc::forget(cfg.environment, None).ok();

    let s = Session::start_tauri(&env("PLI_WEBDRIVER_URL"), &wrapper.display().to_string())
        .await
        .unwrap();
    let written = config_home.join("pli/pli.toml");
    let result = scenario(&s, &anne.national_id, &address, &written, &wrapper).await;
    if result.is_err() {
        shot(&s, "99-failure").await;
    }
    s.quit().await.ok();
    result.unwrap();
    webview_painted_as_decided(&std::fs::read_to_string(&log).unwrap());

    // The file is the user's own, complete, and loads like any configuration.
    let back = pli_core::config::Config::load(&written).unwrap();
    assert_eq!(back.environment, pli_core::config::Environment::Sandbox);
    assert_eq!(back.accounts.len(), 1);
    assert_eq!(back.accounts[0].address, address);
    assert_eq!(
        (back.operator.imap.host.as_str(), back.operator.imap.port),
        ("localhost", 10993)
    );
    assert_eq!(back.operator.imap.security, pli_core::config::Security::Tls);
    assert_eq!(back.operator.smtp.port, 10587);
    assert_eq!(
        back.operator.trust_anchors,
        repo_root().join("target/sandbox/ca.pem")
    );
    // The cache went to the per-user data directory (nothing was given in the file).
    assert!(
        data_home
            .read_dir()
            .map(|mut d| d.next().is_some())
            .unwrap_or(false),
        "no cache under {}",
        data_home.display()
    );
}

async fn scenario(
    s: &Session,
    national_id: &str,
    address: &str,
    written: &std::path::Path,
    wrapper: &std::path::Path,
) -> anyhow::Result<()> {
    // 1. No configuration: the first-run screen, not an error.
    s.wait_for("#setup-address", SHORT).await?;
    let body = s.wait_text("body", SHORT).await?;
    assert!(body.contains("Première configuration"), "{body}");
    assert!(!written.exists());
    shot(s, "01-setup").await;

    // 2. The sandbox environment and the mailbox address: servers come from DNS SRV.
    s.click("[data-testid=setup-env-sandbox]", SHORT).await?;
    s.type_into("#setup-address", address, SHORT).await?;
    s.click("#setup-discover", SHORT).await?;
    s.wait_until(
        "document.querySelector('#setup-imap-host').value === 'localhost' \
         && document.querySelector('#setup-imap-port').value === '10993' \
         && document.querySelector('#setup-smtp-port').value === '10587'",
        SHORT,
    )
    .await?;
    let security = s
        .execute(
            "return [document.querySelector('#setup-imap-security').value, \
             document.querySelector('#setup-smtp-security').value].join(',')",
        )
        .await?;
    assert_eq!(security.as_str(), Some("tls,starttls"));
    let note = s.wait_text("[data-testid=setup-discovery]", SHORT).await?;
    assert!(note.contains("DNS"), "{note}");

    // 3. A relative path for the anchors is refused with the reason; the full path is taken.
    s.type_into("#setup-anchors", "ca.pem", SHORT).await?;
    s.click("#setup-save", SHORT).await?;
    let problem = s.wait_text("[data-testid=setup-problem]", SHORT).await?;
    assert!(problem.contains("chemin complet"), "{problem}");
    assert!(!written.exists());
    s.clear("#setup-anchors", SHORT).await?;
    let ca = repo_root().join("target/sandbox/ca.pem");
    s.type_into("#setup-anchors", &ca.display().to_string(), SHORT)
        .await?;
    s.type_into("#setup-name", "Dr Anne LEFÈVRE", SHORT).await?;
    shot(s, "02-servers-found").await;
    s.click("#setup-save", SHORT).await?;

    // 4. The login screen of the sandbox; the file is written.
    s.wait_for("#login-ciba", LONG).await?;
    let env_banner = s.wait_text("[data-testid=login-env]", SHORT).await?;
    assert!(env_banner.contains("Bac à sable local"), "{env_banner}");
    assert!(written.is_file(), "{} not written", written.display());
    shot(s, "03-login").await;

    // 5. Log in (CIBA through the sandbox PSC) and see mail synced over the discovered server.
    s.type_into("#login-national-id", national_id, SHORT)
        .await?;
    s.click("#login-ciba", SHORT).await?;
    let who = s.wait_text("#session-name", LONG).await?;
    assert!(who.contains("LEFÈVRE"), "logged in as {who}");
    s.wait_until(
        "document.querySelectorAll('[data-testid=message-row]').length > 3",
        LONG,
    )
    .await?;
    shot(s, "04-inbox").await;

    // 6. A draft survives closing the compose window: saved by the engine in the encrypted
    //    cache (the webview's own storage holds none), restored when the window opens again.
    s.click("[data-testid=compose-new]", SHORT).await?;
    s.type_into(
        "#compose-subject",
        "Brouillon de première configuration",
        SHORT,
    )
    .await?;
    s.type_into("#compose-body", "Texte à garder.", SHORT)
        .await?;
    s.click("dialog[open] button[title='Fermer']", SHORT)
        .await?;
    s.wait_until("!document.querySelector('[data-testid=compose]')", SHORT)
        .await?;
    s.click("[data-testid=compose-new]", SHORT).await?;
    s.wait_until(
        "document.querySelector('#compose-subject')?.value === 'Brouillon de première configuration'",
        SHORT,
    )
    .await?;
    let kept = s
        .execute("return document.querySelector('#compose-body').value")
        .await?;
    assert_eq!(kept.as_str(), Some("Texte à garder."));
    let local = s
        .execute("return Object.keys(localStorage).filter((k) => k.includes('draft')).length")
        .await?;
    assert_eq!(local.as_i64(), Some(0), "a draft in the webview's storage");
    shot(s, "05-draft-restored").await;
    s.click("dialog[open] button[title='Fermer']", SHORT)
        .await?;
    s.wait_until("!document.querySelector('[data-testid=compose]')", SHORT)
        .await?;

    // 7. A mailto: link opened while Pli runs (a second `pli-desktop URL`, as the desktop
    //    starts it): the second process hands the link to the first one and exits; the running
    //    window opens a compose window filled from the link (single instance + deep link).
    let mut second = std::process::Command::new(wrapper)
        .arg("mailto:bruno.girard@cabinet-sandbox.mssante.fr?subject=Avis%20cardiologique")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()?;
    let deadline = std::time::Instant::now() + LONG;
    let status = loop {
        if let Some(st) = second.try_wait()? {
            break st;
        }
        if std::time::Instant::now() > deadline {
            second.kill().ok();
            anyhow::bail!("the second instance did not hand the link over and exit");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert!(status.success(), "second instance: {status}");
    s.wait_until(
        "document.querySelector('#compose-subject')?.value === 'Avis cardiologique'",
        SHORT,
    )
    .await?;
    let compose = s.wait_text("[data-testid=compose]", SHORT).await?;
    assert!(
        compose.contains("bruno.girard@cabinet-sandbox.mssante.fr"),
        "{compose}"
    );
    // The sender is preset to the personal mailbox, as for any new message.
    let from = s
        .execute(
            "const f = document.querySelector('#compose-from'); \
             return f.value + ' | ' + Array.from(f.options).map((o) => o.value).join(',')",
        )
        .await?;
    assert!(
        from.as_str().is_some_and(|f| f.starts_with(address)),
        "sender of the linked compose: {from}"
    );
    shot(s, "06-link-handed-over").await;
    s.click("dialog[open] button[title='Fermer']", SHORT)
        .await?;

    // 8. New mail while Pli runs: a desktop notification (through the session's notification
    //    server, watched on D-Bus) that says how many messages arrived where, and never who
    //    wrote or what about; the message itself appears in the list.
    let mut daemon = std::process::Command::new("/usr/lib/notification-daemon/notification-daemon")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .map_err(|e| {
            anyhow::anyhow!("notification-daemon (scripts/install-deps installs it): {e}")
        })?;
    let monitor_log = written.with_file_name("notify.log");
    let mut monitor = std::process::Command::new("dbus-monitor")
        .args([
            "--session",
            "type='method_call',interface='org.freedesktop.Notifications',member='Notify'",
        ])
        .stdout(std::fs::File::create(&monitor_log)?)
        .stderr(std::process::Stdio::null())
        .spawn()?;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let stamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_millis();
    let subject = format!("Résultat confidentiel {stamp}");
    let mail = format!(
        "From: Dr Secret TOUTCACHE <secret.toutcache@labo-sandbox.mssante.fr>\r\nTo: {address}\r\n\
         Subject: {subject}\r\nMessage-ID: <notify-{stamp}@pli.test>\r\n\
         Date: Mon, 23 Nov 2026 09:00:00 +0100\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n\
         Hémoglobine glyquée 7,9 %.\r\n"
    );
    let cfg = sandbox_config();
    let mut m = pli_e2e::sync_support::master_session(&cfg, address).await;
    m.append("INBOX", None, None, mail.as_bytes()).await?;
    m.logout().await.ok();
    let outcome = async {
        let deadline = std::time::Instant::now() + LONG;
        let seen = loop {
            let log = std::fs::read_to_string(&monitor_log).unwrap_or_default();
            if log.contains("nouveau message") {
                break log;
            }
            anyhow::ensure!(
                std::time::Instant::now() < deadline,
                "no notification for the new mail: {log}"
            );
            tokio::time::sleep(Duration::from_millis(300)).await;
        };
        anyhow::ensure!(seen.contains(address), "the mailbox is named: {seen}");
        for secret in [
            subject.as_str(),
            "TOUTCACHE",
            "secret.toutcache",
            "Hémoglobine",
        ] {
            anyhow::ensure!(!seen.contains(secret), "{secret} in a notification: {seen}");
        }
        s.wait_until(
            &format!(
                "Array.from(document.querySelectorAll('[data-testid=message-row]'))\
                 .some((r) => r.textContent.includes('{subject}'))"
            ),
            LONG,
        )
        .await?;
        Ok(())
    }
    .await;
    monitor.kill().ok();
    daemon.kill().ok();
    monitor.wait().ok();
    daemon.wait().ok();
    outcome?;
    shot(s, "07-new-mail").await;
    Ok(())
}

/// The shell applied its rendering decision (decisions 0035 and 0036) to the webview the
/// person used: the WebKit features `pli_core::rendering::webkit_features` lists for the
/// rendering it logged (on this machine without a GPU: AsyncOverflowScrolling off, damage-limited
/// compositing on) were set through WebKit's API before the page loaded, none was missing, none
/// was set that the decision does not list.
fn webview_painted_as_decided(log: &str) {
    use pli_core::rendering::{webkit_features, Rendering};
    let first = |needle: &str| log.lines().find(|l| l.contains(needle));
    let decided = first("webview rendering (decision 0035)")
        .unwrap_or_else(|| panic!("the shell logged no rendering decision:\n{log}"));
    let rendering = [
        ("rendering=Cpu", Rendering::Cpu),
        ("rendering=Gpu", Rendering::Gpu),
        ("rendering=AsConfigured", Rendering::AsConfigured),
    ]
    .into_iter()
    .find(|(text, _)| decided.contains(text))
    .map(|(_, r)| r)
    .unwrap_or_else(|| panic!("unknown rendering in {decided:?}"));
    // The app ran with the test's environment (the wrapper only adds to it).
    let expected = webkit_features(rendering, &|k| std::env::var_os(k));
    let set: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("webview: WebKit feature"))
        .collect();
    for (id, on) in &expected {
        assert!(
            set.iter().any(|l| l.contains("WebKit feature set")
                && l.contains(&format!("feature=\"{id}\""))
                && l.contains(&format!("on={on}"))),
            "{id} was not set to {on} in the webview ({rendering:?}):\n{log}"
        );
    }
    assert_eq!(
        set.len(),
        expected.len(),
        "features set in the webview besides {expected:?} ({rendering:?}):\n{log}"
    );
    // Set before the page loaded (decision 0037: WebKit reads some only then): from the hook
    // as the webview went into its window, before Tauri's `setup` (where the page is loading
    // already), not by the late fallback.
    assert!(
        first("no hook before the first page").is_none(),
        "the shell fell back to setting the webview up late:\n{log}"
    );
    if let Some(last) = set.last() {
        let lines: Vec<&str> = log.lines().collect();
        let at = |line: &str| lines.iter().position(|l| *l == line);
        let window = first("setup: window created")
            .unwrap_or_else(|| panic!("no 'setup: window created' step in the log:\n{log}"));
        assert!(
            at(last) < at(window),
            "features set after the window's page started loading:\n{log}"
        );
    }
}
