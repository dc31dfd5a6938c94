//! Bounded property tests (few cases, so they run in CI): whatever the sender
//! puts in text, attributes, links or bytes, parsing does not panic and the
//! rendered page stays inert.

mod common;

use common::{assert_safe, cda_with_text};
use proptest::prelude::*;

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Strings biased towards markup and URL tricks.
fn nasty() -> impl Strategy<Value = String> {
    let atoms = prop::sample::select(vec![
        "<script>",
        "</script>",
        "javascript:",
        "JaVaScRiPt:",
        "\t",
        "\n",
        "data:text/html,",
        "vbscript:",
        "\"",
        "'",
        "onload=",
        " onclick=\"x\"",
        "<img src=x onerror=alert(1)>",
        "&#x6A;",
        "http://evil/",
        "#",
        "url(",
        "@import",
        "`",
        "\u{0}",
        "é",
        "</text>",
        "]]>",
        "<!--",
    ]);
    prop::collection::vec(
        prop_oneof![atoms.prop_map(str::to_owned), "[ -~]{0,8}"],
        0..12,
    )
    .prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn sender_strings_never_escape(text in nasty(), attr in nasty(), href in nasty(), style in nasty()) {
        let inner = format!(
            "<paragraph styleCode=\"{s}\">{t}</paragraph><table><tbody><tr><td colspan=\"{a}\" align=\"{a}\">{t}</td></tr></tbody></table>\
             <paragraph><linkHtml href=\"{h}\">{t}</linkHtml><content ID=\"{a}\">{t}</content></paragraph>",
            s = xml_escape(&style), t = xml_escape(&text), a = xml_escape(&attr), h = xml_escape(&href)
        );
        let xml = cda_with_text(&inner, "").replace("<title>Essai</title>", &format!("<title>{}</title>", xml_escape(&text)));
        if let Ok(doc) = pli_cda::parse(xml.as_bytes()) {
            let html = pli_cda::render_html(&doc, &pli_cda::RenderOptions::default());
            assert_safe(&html);
        }
    }

    #[test]
    fn arbitrary_bytes_do_not_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let _ = pli_cda::parse(&bytes);
        let _ = pli_cda::xdm::read(&bytes);
    }

    #[test]
    fn truncated_real_documents_do_not_panic(cut in 0usize..25_000) {
        let full = common::fixture("BIO-TROD_2024.01_COVID-19.xml");
        let cut = cut.min(full.len());
        if let Ok(doc) = pli_cda::parse(&full[..cut]) {
            assert_safe(&pli_cda::render_html(&doc, &pli_cda::RenderOptions::default()));
        }
    }
}
