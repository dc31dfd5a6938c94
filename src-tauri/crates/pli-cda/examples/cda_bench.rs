fn main() {
    for f in std::env::args().skip(1) {
        let b = std::fs::read(&f).unwrap();
        let d = pli_cda::parse(&b).unwrap();
        let t = std::time::Instant::now();
        let r = d.pdf_text();
        match r {
            Some(Ok(s)) => println!(
                "{f}: ok {} chars in {:?}: {:?}",
                s.len(),
                t.elapsed(),
                &s.chars().take(200).collect::<String>()
            ),
            Some(Err(e)) => println!("{f}: err {e}"),
            None => println!("{f}: none"),
        }
    }
}
