//! Search finds a message by a word that only its attached CDA document holds (not its subject
//! or body), after a real sync from the sandbox's Dovecot.

use base64::Engine as _;
use pli_core::store::SearchFilter;
use pli_e2e::sandbox_config;
use pli_e2e::sync_support::{master_session, stamp, temp_store, Client};

/// A CDA R2 document whose section narrative says `word`.
fn cda(word: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<ClinicalDocument xmlns="urn:hl7-org:v3">
  <code code="11488-4" codeSystem="2.16.840.1.113883.6.1" displayName="CR de consultation"/>
  <title>Compte rendu de consultation</title>
  <effectiveTime value="20260101120000+0100"/>
  <recordTarget><patientRole><id root="1.2.250.1.213.1.4.10" extension="279035121518989"/>
    <patient><name><family qualifier="BR">MARTIN</family><given>Lucie</given></name>
    <administrativeGenderCode code="F"/><birthTime value="19790315"/></patient></patientRole></recordTarget>
  <component><structuredBody><component><section><title>Conclusion</title>
    <text><paragraph>Examen {word} sans anomalie.</paragraph></text>
  </section></component></structuredBody></component>
</ClinicalDocument>"#
    )
}

/// Message `n` of run `tag`: the same subject and body every time, the CDA attached in base64.
fn mail(n: u32, tag: &str, cda: &str) -> Vec<u8> {
    let b64 = base64::engine::general_purpose::STANDARD.encode(cda);
    let lines: Vec<&str> = b64
        .as_bytes()
        .chunks(76)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect();
    format!(
        "From: b.roux@pli-sandbox.mssante.fr\r\nTo: urgences@pli-sandbox.mssante.fr\r\n\
         Subject: Compte rendu {tag}\r\nMessage-ID: <cda-{tag}-{n}@pli.test>\r\n\
         Date: Mon, 2 Nov 2026 10:0{n}:00 +0100\r\nMIME-Version: 1.0\r\n\
         Content-Type: multipart/mixed; boundary=sep\r\n\r\n\
         --sep\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nCompte rendu en piece jointe.\r\n\
         --sep\r\nContent-Type: text/xml; name=CR.xml\r\n\
         Content-Disposition: attachment; filename=CR.xml\r\nContent-Transfer-Encoding: base64\r\n\r\n\
         {}\r\n--sep--\r\n",
        lines.join("\r\n")
    )
    .into_bytes()
}

#[tokio::test]
async fn a_word_only_in_an_attached_cda_finds_the_message() {
    let cfg = sandbox_config();
    let hugo = Client::new(cfg.clone(), "emergency", 1, None).await;
    let tag = format!("{}", stamp());
    let folder = format!("pli-cda-search-{tag}");
    // Made up, and unique to this run: only the first message's document says it.
    let word = format!("zorbaxine{tag}");
    let with_word = mail(1, &tag, &cda(&word));
    let without = mail(2, &tag, &cda("ordinaire"));
    assert!(!String::from_utf8_lossy(&with_word).contains(&word));

    let mut m = master_session(&cfg, &hugo.mailbox).await;
    m.create(&folder).await.unwrap();
    m.append(&folder, None, None, &with_word).await.unwrap();
    m.append(&folder, None, None, &without).await.unwrap();

    let (_dir, store) = temp_store().await;
    hugo.sync(&store).await;
    let search = |query: String| {
        let store = &store;
        let folder = folder.clone();
        async move {
            store
                .search(&SearchFilter {
                    query,
                    folder: Some(folder),
                    ..Default::default()
                })
                .await
                .unwrap()
        }
    };
    // Subject and body are the same in both messages: they match both.
    assert_eq!(search(format!("compte rendu {tag}")).await.len(), 2);
    // The document's word finds the one message that carries it, by prefix too.
    for query in [word.clone(), format!("{}*", &word[..12])] {
        let hits = search(query.clone()).await;
        assert_eq!(hits.len(), 1, "{query}: {hits:?}");
        let expected = format!("cda-{tag}-1@pli.test");
        assert_eq!(hits[0].message_id.as_deref(), Some(expected.as_str()));
        assert!(hits[0].has_documents);
    }
    // The CDA's narrative in general is indexed too.
    assert_eq!(search(format!("ordinaire {tag}")).await.len(), 1);

    m.delete(&folder).await.ok();
    m.logout().await.ok();
}
