//! Any bytes as an XDM zip: reading must not panic nor exceed its limits.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(pkg) = pli_cda::xdm::read(data) {
        for d in &pkg.documents {
            let _ = pli_cda::parse(&d.bytes);
        }
    }
});
