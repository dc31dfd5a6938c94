//! Connectivity: real PSC tokens open the real operator (Dovecot over STARTTLS with XOAUTH2,
//! checked by introspection and the mailbox ACL), lettre submits through the real submission
//! chain, and ldap3 reads the real directory. Test names carry the Ref#2 requirement they prove.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use pli_core::auth::{AccessToken, StaticToken, Xoauth2};
use pli_core::config::{Config, Security};
use pli_core::imap::{self, ImapError};
use pli_e2e::sync_support::master_session;
use pli_e2e::{person, psc, sandbox_config, tls};

async fn imap_open(cfg: &Config, token: &str, mailbox: &str) -> Result<(), ImapError> {
    let creds = StaticToken(AccessToken::new(token));
    let mut s = imap::connect(&cfg.operator.imap, tls(cfg), &creds, mailbox).await?;
    s.select("INBOX").await?;
    s.logout().await?;
    Ok(())
}

fn assert_refused(r: Result<(), ImapError>) {
    match r {
        Err(ImapError::AuthFailed { .. }) => {}
        other => panic!("expected an authentication refusal, got {other:?}"),
    }
}

#[tokio::test]
async fn eco_1_2_1_xoauth2_after_starttls_with_code_pkce_token() {
    let cfg = sandbox_config();
    assert_eq!(cfg.operator.imap.security, Security::Starttls);
    let anne = person(&cfg, "practitioner");
    let t = psc::code_pkce(&cfg, &anne.national_id).await.unwrap();
    let id = psc::jwt_claims(t.id_token.as_deref().expect("id_token")).unwrap();
    assert_eq!(id["acr"], "eidas1", "ID token claims: {id}");
    let mailbox = anne.personal_mailbox.as_deref().unwrap();
    imap_open(&cfg, &t.access_token, mailbox).await.unwrap();
}

#[tokio::test]
async fn eco_1_2_1_xoauth2_with_ciba_token() {
    let cfg = sandbox_config();
    let gp = person(&cfg, "gp");
    let t = psc::ciba(&cfg, &gp.national_id).await.unwrap();
    imap_open(
        &cfg,
        &t.access_token,
        gp.personal_mailbox.as_deref().unwrap(),
    )
    .await
    .unwrap();
}

#[tokio::test]
async fn ciba_refused_login_hint_is_an_error() {
    let cfg = sandbox_config();
    let hint = cfg
        .sandbox
        .as_ref()
        .unwrap()
        .refused_login_hint
        .clone()
        .unwrap();
    let err = psc::ciba_start(&cfg, &hint).await.unwrap_err();
    assert!(err.to_string().contains("CIBA refused"), "{err}");
}

#[tokio::test]
async fn eco_1_2_1_xoauth2_over_implicit_tls() {
    let mut cfg = sandbox_config();
    cfg.operator.imap.port = 10993;
    cfg.operator.imap.security = Security::Tls;
    let anne = person(&cfg, "practitioner");
    let t = psc::code_pkce(&cfg, &anne.national_id).await.unwrap();
    imap_open(
        &cfg,
        &t.access_token,
        anne.personal_mailbox.as_deref().unwrap(),
    )
    .await
    .unwrap();
}

#[tokio::test]
async fn eco_1_2_1_bogus_token_is_refused() {
    let cfg = sandbox_config();
    let anne = person(&cfg, "practitioner");
    let r = imap_open(
        &cfg,
        "not-a-token",
        anne.personal_mailbox.as_deref().unwrap(),
    )
    .await;
    assert_refused(r);
}

#[tokio::test]
async fn eco_1_2_1_another_persons_token_is_refused() {
    let cfg = sandbox_config();
    let anne = person(&cfg, "practitioner");
    let gp = person(&cfg, "gp");
    let t = psc::code_pkce(&cfg, &gp.national_id).await.unwrap();
    let r = imap_open(
        &cfg,
        &t.access_token,
        anne.personal_mailbox.as_deref().unwrap(),
    )
    .await;
    assert_refused(r);
}

#[tokio::test]
async fn eco_1_2_1_service_mailbox_opens_only_for_its_members() {
    let cfg = sandbox_config();
    let claire = person(&cfg, "secretary");
    let anne = person(&cfg, "practitioner");
    let hugo = person(&cfg, "emergency");
    let service = claire.mailboxes[0].clone();
    assert!(anne.mailboxes.contains(&service));
    let urgences = hugo
        .mailboxes
        .iter()
        .find(|m| Some(*m) != hugo.personal_mailbox.as_ref())
        .unwrap()
        .clone();

    let t = psc::code_pkce(&cfg, &claire.national_id).await.unwrap();
    imap_open(&cfg, &t.access_token, &service).await.unwrap();
    // The same valid token, on a service mailbox she is not a member of, and on Anne's own.
    assert_refused(imap_open(&cfg, &t.access_token, &urgences).await);
    assert_refused(
        imap_open(
            &cfg,
            &t.access_token,
            anne.personal_mailbox.as_deref().unwrap(),
        )
        .await,
    );
}

#[tokio::test]
async fn eco_1_2_6_revoked_token_is_refused() {
    let cfg = sandbox_config();
    let anne = person(&cfg, "practitioner");
    let mailbox = anne.personal_mailbox.clone().unwrap();
    let t = psc::code_pkce(&cfg, &anne.national_id).await.unwrap();
    imap_open(&cfg, &t.access_token, &mailbox).await.unwrap();
    psc::revoke(&cfg, &t.access_token).await.unwrap();
    assert_refused(imap_open(&cfg, &t.access_token, &mailbox).await);
}

#[tokio::test]
async fn eco_1_1_10_untrusted_server_certificate_is_refused_before_any_token() {
    let cfg = sandbox_config();
    // Trust the public web CAs of the system instead of the sandbox CA: the operator's
    // certificate must then be refused during the handshake, before XOAUTH2 is ever sent.
    let system = std::path::Path::new("/etc/ssl/certs/ca-certificates.crt");
    let tls = pli_core::tls::client_config(system).expect("system CA bundle");
    let creds = StaticToken(AccessToken::new("must-never-be-sent"));
    let anne = person(&cfg, "practitioner");
    let r = imap::connect(
        &cfg.operator.imap,
        tls,
        &creds,
        anne.personal_mailbox.as_deref().unwrap(),
    )
    .await;
    match r {
        Err(ImapError::Tls(msg)) => assert!(msg.to_lowercase().contains("certificate"), "{msg}"),
        other => panic!("expected a TLS refusal, got {other:?}"),
    }
}

#[tokio::test]
async fn eco_1_1_10_wrong_host_name_is_refused() {
    let mut cfg = sandbox_config();
    // Same server, same CA, but a name the certificate does not carry.
    cfg.operator.imap.host = "imap.autre-operateur.mssante.fr".into();
    cfg.operator.imap.connect_addr = Some("127.0.0.1".into());
    let creds = StaticToken(AccessToken::new("must-never-be-sent"));
    let r = imap::connect(&cfg.operator.imap, tls(&cfg), &creds, "x@y").await;
    assert!(matches!(r, Err(ImapError::Tls(_))), "{r:?}");
}

#[tokio::test]
async fn eco_1_0_1_smtp_submission_with_xoauth2_reaches_the_inbox() {
    use futures::TryStreamExt;
    use lettre::AsyncTransport;

    let cfg = sandbox_config();
    let anne = person(&cfg, "practitioner");
    let gp = person(&cfg, "gp");
    let from = anne.personal_mailbox.clone().unwrap();
    let to = gp.personal_mailbox.clone().unwrap();
    let t = psc::code_pkce(&cfg, &anne.national_id).await.unwrap();
    let creds = Xoauth2::new(&from, &AccessToken::new(t.access_token));
    let transport = pli_core::smtp::transport(&cfg.operator, &creds).unwrap();

    let stamp = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let subject = format!("Avis cardiologique — test {stamp}");
    let msg = lettre::Message::builder()
        .from(format!("Dr Anne LEFÈVRE <{from}>").parse().unwrap())
        .to(to.parse().unwrap())
        .subject(subject.clone())
        .body("Chère consœur, cher confrère,\nvoici mon avis.\n".to_owned())
        .unwrap();
    transport.send(msg).await.expect("submission accepted");

    let mut s = master_session(&cfg, &to).await;
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    loop {
        s.select("INBOX").await.unwrap();
        let found = s
            .uid_search(format!("SUBJECT \"test {stamp}\""))
            .await
            .unwrap();
        if let Some(uid) = found.into_iter().next() {
            let fetched: Vec<_> = s
                .uid_fetch(uid.to_string(), "BODY.PEEK[HEADER.FIELDS (SUBJECT FROM)]")
                .await
                .unwrap()
                .try_collect()
                .await
                .unwrap();
            let header =
                String::from_utf8_lossy(fetched[0].header().unwrap_or_default()).to_string();
            assert!(header.contains(&from), "{header}");
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "message not delivered to {to}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    s.logout().await.unwrap();
}

#[tokio::test]
async fn eco_1_0_1_smtp_refuses_another_persons_token() {
    use lettre::AsyncTransport;
    let cfg = sandbox_config();
    let anne = person(&cfg, "practitioner");
    let gp = person(&cfg, "gp");
    let t = psc::code_pkce(&cfg, &gp.national_id).await.unwrap();
    let from = anne.personal_mailbox.clone().unwrap();
    let creds = Xoauth2::new(&from, &AccessToken::new(t.access_token));
    let transport = pli_core::smtp::transport(&cfg.operator, &creds).unwrap();
    let msg = lettre::Message::builder()
        .from(from.parse().unwrap())
        .to(gp.personal_mailbox.clone().unwrap().parse().unwrap())
        .subject("usurpation")
        .body(String::from("x"))
        .unwrap();
    let err = transport.send(msg).await.unwrap_err();
    assert!(pli_core::smtp::is_auth_refusal(&err), "{err}");
}

#[tokio::test]
async fn eco_3_1_4_directory_accented_search_and_100_entry_cap() {
    let cfg = sandbox_config();
    let dir_cfg = cfg.directory.clone().expect("[directory]");
    let dir = pli_core::annuaire::Directory::connect(&dir_cfg)
        .await
        .unwrap();
    let attrs = &dir_cfg.attributes;

    // An accented family name, matched case-insensitively.
    let r = dir
        .search_raw(
            &format!(
                "(&({}=lefèvre)({}=Anne))",
                attrs.family_name, attrs.given_name
            ),
            &[
                attrs.mail.as_str(),
                attrs.family_name.as_str(),
                attrs.mailbox_type.as_str(),
            ],
        )
        .await
        .unwrap();
    assert!(!r.truncated);
    let anne = person(&cfg, "practitioner");
    let hit = r
        .entries
        .iter()
        .find(|e| {
            e.attrs
                .get(&attrs.mail)
                .is_some_and(|m| m.contains(anne.personal_mailbox.as_ref().unwrap()))
        })
        .unwrap_or_else(|| panic!("Anne not found: {:?}", r.entries));
    assert_eq!(hit.attrs[&attrs.family_name], vec!["LEFÈVRE".to_owned()]);
    assert_eq!(hit.attrs[&attrs.mailbox_type], vec!["PER".to_owned()]);

    // A broad query hits the server's 100-entry cap and says so.
    let r = dir.search_raw("(objectClass=*)", &["mail"]).await.unwrap();
    assert!(r.truncated, "a broad query must be reported as truncated");
    assert_eq!(r.entries.len(), 100);
}
