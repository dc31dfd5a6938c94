//! Any bytes: parsing must not panic, and whatever parses must render inert HTML.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(doc) = pli_cda::parse(data) {
        let html = pli_cda::render_html(&doc, &pli_cda::RenderOptions::default());
        let lower = html.to_ascii_lowercase();
        assert!(!lower.contains("<script"));
        assert!(!lower.contains("href=\"javascript:") && !lower.contains("src=\"javascript:"));
        assert!(!lower.contains(" src=\"http") && !lower.contains("data:text/html"));
        let _ = pli_cda::Summary::of(&doc);
    }
});
