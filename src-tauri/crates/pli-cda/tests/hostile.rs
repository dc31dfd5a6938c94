//! Hostile input: a clear error, or safe output — never active or remote content.

mod common;

use common::{assert_safe, cda_with_text};
use pli_cda::model::Wrapper;
use pli_cda::{parse, parse_with_limits, render_html, CdaError, Limits, RenderOptions};

fn render(xml: &str) -> String {
    let doc = parse(xml.as_bytes()).unwrap_or_else(|e| panic!("{e}"));
    let html = render_html(&doc, &RenderOptions::default());
    assert_safe(&html);
    html
}

#[test]
fn script_elements_never_come_out() {
    let html = render(&cda_with_text(
        "<paragraph>ok<script>alert(1)</script><xhtml:script xmlns:xhtml=\"http://www.w3.org/1999/xhtml\">alert(2)</xhtml:script></paragraph>\
         <style>body{background:url(http://evil.example/t.png)}</style><iframe src=\"http://evil.example\"/>",
        "",
    ));
    assert!(!html.contains("alert("));
    assert!(!html.contains("evil.example"));
    assert!(html.contains("ok"));
}

#[test]
fn event_handler_attributes_are_dropped() {
    let html = render(&cda_with_text(
        "<table onmouseover=\"alert(1)\" border=\"1\"><tbody><tr onclick=\"x()\"><td ONLOAD=\"y()\" colspan=\"2\" style=\"background:url(http://e/x)\">cell</td></tr></tbody></table>\
         <paragraph onclick=\"z()\">p</paragraph><content styleCode=\"Bold\" onfocus=\"w()\">c</content>",
        "",
    ));
    assert!(html.contains("<td colspan=\"2\">cell</td>"));
    assert!(!html.contains("alert") && !html.contains("x()") && !html.contains("y()"));
}

#[test]
fn dangerous_link_schemes_are_dropped() {
    for href in [
        "javascript:alert(1)",
        "JAVASCRIPT:alert(1)",
        "  javascript:alert(1)",
        "java&#x09;script:alert(1)",
        "java&#10;script:alert(1)",
        "vbscript:msgbox(1)",
        "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
        "DATA:text/html,&lt;script&gt;alert(1)&lt;/script&gt;",
        "file:///etc/passwd",
        "documentsAnnexes/AVK.pdf",
    ] {
        let html = render(&cda_with_text(
            &format!("<paragraph><linkHtml href=\"{href}\">lien</linkHtml></paragraph>"),
            "",
        ));
        assert!(
            html.contains("<span class=\"link-dropped\">lien</span>"),
            "{href}: {html}"
        );
        assert!(!html.to_ascii_lowercase().contains("script:"), "{href}");
    }
}

#[test]
fn web_links_need_an_explicit_action_and_internal_links_work() {
    let html = render(&cda_with_text(
        "<paragraph><linkHtml href=\"https://www.e-cancer.fr\">INCa</linkHtml> <linkHtml href=\"#s1\">haut</linkHtml></paragraph>",
        "",
    ));
    assert!(html.contains("data-pli-href=\"https://www.e-cancer.fr\""));
    assert!(html.contains("(https://www.e-cancer.fr)"), "target shown");
    assert!(html.contains("<a href=\"#cda-s1\">haut</a>"));
    assert!(html.contains("id=\"cda-s1\""));
}

fn media_entry(id: &str, media_type: &str, inner: &str) -> String {
    format!(
        "<entry><observationMedia classCode=\"OBS\" moodCode=\"EVN\" ID=\"{id}\"><value mediaType=\"{media_type}\" representation=\"B64\">{inner}</value></observationMedia></entry>"
    )
}

#[test]
fn active_media_declared_as_images_are_not_inlined() {
    // "<html><script>alert(1)</script></html>" and an SVG with a script.
    let html_b64 = "PGh0bWw+PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0PjwvaHRtbD4=";
    let svg_b64 =
        "PHN2ZyB4bWxucz0iaHR0cDovL3d3dy53My5vcmcvMjAwMC9zdmciIG9ubG9hZD0iYWxlcnQoMSkiLz4=";
    let xml = cda_with_text(
        "<renderMultiMedia referencedObject=\"m1\"/><renderMultiMedia referencedObject=\"m2\"/>",
        &format!(
            "{}{}",
            media_entry("m1", "image/png", html_b64),
            media_entry("m2", "image/svg+xml", svg_b64)
        ),
    );
    let doc = parse(xml.as_bytes()).unwrap();
    assert_eq!(doc.media[0].sniffed_type, "text/html");
    assert_eq!(doc.media[1].sniffed_type, "image/svg+xml");
    let html = render(&xml);
    assert!(!html.contains("<img"));
    assert_eq!(html.matches("Contenu actif (HTML, SVG) refusé").count(), 2);
}

#[test]
fn remote_references_are_never_fetched() {
    let xml = cda_with_text(
        "<renderMultiMedia referencedObject=\"r1\"/>",
        "<entry><observationMedia ID=\"r1\"><value mediaType=\"image/png\"><reference value=\"http://tracker.example/p.png\"/></value></observationMedia></entry>",
    )
    .replace("<?xml version=\"1.0\" encoding=\"UTF-8\"?>", "<?xml version=\"1.0\"?><?xml-stylesheet type=\"text/xsl\" href=\"http://tracker.example/cda.xsl\"?>");
    let html = render(&xml);
    assert!(!html.contains("tracker.example"));
    assert!(html.contains("Image distante non chargée"));
    assert!(html.contains("Content-Security-Policy"));
}

#[test]
fn doctype_and_entities_are_refused() {
    let billion = r#"<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]><ClinicalDocument xmlns="urn:hl7-org:v3"><title>&lol2;</title></ClinicalDocument>"#;
    let xxe = r#"<?xml version="1.0"?><!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><ClinicalDocument xmlns="urn:hl7-org:v3"><title>&xxe;</title></ClinicalDocument>"#;
    let external_dtd = r#"<?xml version="1.0"?><!DOCTYPE ClinicalDocument SYSTEM "http://evil.example/cda.dtd"><ClinicalDocument xmlns="urn:hl7-org:v3"/>"#;
    for xml in [billion, xxe, external_dtd] {
        assert!(
            matches!(parse(xml.as_bytes()), Err(CdaError::Doctype)),
            "{xml}"
        );
    }
    // Undeclared entities without a DTD are plain errors.
    let undeclared = cda_with_text("<paragraph>&foo;</paragraph>", "");
    assert!(matches!(
        parse(undeclared.as_bytes()),
        Err(CdaError::Xml(_))
    ));
}

#[test]
fn deep_nesting_is_refused() {
    let deep = format!(
        "{}x{}",
        "<content>".repeat(5_000),
        "</content>".repeat(5_000)
    );
    let xml = cda_with_text(&deep, "");
    assert!(matches!(parse(xml.as_bytes()), Err(CdaError::TooDeep(_))));
}

#[test]
fn size_and_media_limits_are_enforced() {
    let xml = cda_with_text(
        "<paragraph>x</paragraph>",
        &media_entry("m", "image/png", &"QUFB".repeat(1000)),
    );
    let tight = Limits {
        max_document_bytes: 1_000,
        ..Limits::default()
    };
    assert!(matches!(
        parse_with_limits(xml.as_bytes(), &tight),
        Err(CdaError::TooLarge { .. })
    ));
    let small_media = Limits {
        max_media_bytes: 100,
        ..Limits::default()
    };
    assert!(matches!(
        parse_with_limits(xml.as_bytes(), &small_media),
        Err(CdaError::Media(_))
    ));
    let many = (0..5)
        .map(|i| media_entry(&format!("m{i}"), "image/png", "QUFB"))
        .collect::<String>();
    let xml = cda_with_text("<paragraph>x</paragraph>", &many);
    let few = Limits {
        max_media: 4,
        ..Limits::default()
    };
    assert!(matches!(
        parse_with_limits(xml.as_bytes(), &few),
        Err(CdaError::Media(_))
    ));
    let nodes = Limits {
        max_nodes: 50,
        ..Limits::default()
    };
    assert!(matches!(
        parse_with_limits(xml.as_bytes(), &nodes),
        Err(CdaError::Xml(_))
    ));
}

#[test]
fn non_cda_and_garbage_get_clear_errors() {
    assert!(
        matches!(parse(b"<html><body>hi</body></html>"), Err(CdaError::NotCda(n)) if n == "html")
    );
    assert!(matches!(parse(b"\xFF\xFEnot utf8"), Err(CdaError::NotUtf8)));
    assert!(matches!(
        parse(b"<ClinicalDocument xmlns=\"urn:hl7-org:v3\">"),
        Err(CdaError::Xml(_))
    ));
    assert!(matches!(
        parse(b"<ClinicalDocument xmlns=\"urn:hl7-org:v3\"/>"),
        Err(CdaError::NoBody)
    ));
    let e = parse(b"<!DOCTYPE x><x/>").unwrap_err().to_string();
    assert!(!e.contains('\n'), "one-line reason");
}

#[test]
fn xades_wrapper_is_unwrapped() {
    let inner = cda_with_text("<paragraph>signé</paragraph>", "")
        .replace("<?xml version=\"1.0\" encoding=\"UTF-8\"?>", "");
    let xml = format!(
        "<ds:Signature xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\"><ds:SignedInfo/><ds:SignatureValue>AAAA</ds:SignatureValue>\
         <ds:Object Id=\"doc\">{inner}</ds:Object></ds:Signature>"
    );
    let doc = parse(xml.as_bytes()).unwrap();
    assert_eq!(doc.wrapper, Some(Wrapper::XadesSignature));
    let html = render_html(&doc, &RenderOptions::default());
    assert!(html.contains("signé") && html.contains("signature électronique"));
}

#[test]
fn auto_presentable_xslt_is_never_run() {
    let inner = cda_with_text("<paragraph>contenu clinique</paragraph>", "")
        .replace("<?xml version=\"1.0\" encoding=\"UTF-8\"?>", "")
        .replace(
            "<ClinicalDocument xmlns=\"urn:hl7-org:v3\"",
            "<c:ClinicalDocument xmlns:c=\"urn:hl7-org:v3\" xmlns=\"urn:hl7-org:v3\"",
        )
        .replace("</ClinicalDocument>", "</c:ClinicalDocument>");
    let xml = format!(
        "<?xml version=\"1.0\"?><?xml-stylesheet type=\"text/xsl\" href=\"#\"?>\
         <xsl:stylesheet version=\"1.0\" xmlns:xsl=\"http://www.w3.org/1999/XSL/Transform\">\
         <xsl:template match=\"/\"><html><script>EVIL_XSLT_MARKER()</script></html></xsl:template>{inner}</xsl:stylesheet>"
    );
    let doc = parse(xml.as_bytes()).unwrap();
    assert_eq!(doc.wrapper, Some(Wrapper::AutoPresentable));
    let html = render_html(&doc, &RenderOptions::default());
    assert_safe(&html);
    assert!(html.contains("contenu clinique"));
    assert!(!html.contains("EVIL_XSLT_MARKER"));
    // A stylesheet with no CDA inside is not a CDA.
    let bare =
        "<xsl:stylesheet version=\"1.0\" xmlns:xsl=\"http://www.w3.org/1999/XSL/Transform\"/>";
    assert!(matches!(parse(bare.as_bytes()), Err(CdaError::NotCda(_))));
}

#[test]
fn narrative_features_render() {
    let html = render(&cda_with_text(
        "<paragraph styleCode=\"BoldItalics\">gras italique</paragraph>\
         <list listType=\"ordered\"><caption>Étapes</caption><item>un</item><item>deux</item></list>\
         <table><caption>Tab</caption><thead><tr><th scope=\"col\">A</th></tr></thead><tbody><tr><td rowspan=\"0\">b</td></tr></tbody><tfoot><tr><td>f</td></tr></tfoot></table>\
         <paragraph>H<sub>2</sub>O x<sup>2</sup><br/>ligne<footnote ID=\"n1\">la note</footnote> et <footnoteRef IDREF=\"n1\"/></paragraph>\
         <paragraph><content revised=\"insert\">ajout</content><content revised=\"delete\">retrait</content></paragraph>",
        "",
    ));
    assert!(html.contains("<p class=\"s-bold s-italics\">gras italique</p>"));
    assert!(html.contains("<div class=\"caption\">Étapes</div><ol><li>un</li><li>deux</li></ol>"));
    assert!(html.contains("<table><caption>Tab</caption><thead><tr><th scope=\"col\">A</th>"));
    assert!(html.contains("<td>b</td>"), "invalid rowspan dropped");
    assert!(html.contains("<tfoot>"));
    assert!(html.contains("H<sub>2</sub>O x<sup>2</sup><br>ligne"));
    assert_eq!(
        html.matches("<a href=\"#fn-1\"").count(),
        2,
        "note and its reference share number 1"
    );
    assert!(html.contains("<li value=\"1\" id=\"fn-1\">la note</li>"));
    assert!(html.contains("<ins>ajout</ins><del>retrait</del>"));
}
