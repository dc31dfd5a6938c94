//! Writes the PDF rendition of a CDA document, and prints its ECO.2.1.6 file name.
//!
//! `cargo run -p pli-cda --example cda-pdf -- <cda.xml> <out.pdf> [max-pages]`

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 3 {
        eprintln!("usage: cda-pdf <cda.xml> <out.pdf> [max-pages]");
        std::process::exit(2);
    }
    let bytes = std::fs::read(&args[1]).unwrap_or_else(|e| fail(&format!("{}: {e}", args[1])));
    let doc = pli_cda::parse(&bytes).unwrap_or_else(|e| fail(&format!("{}: {e}", args[1])));
    let mut options = pli_cda::PdfOptions::default();
    if let Some(n) = args.get(3) {
        options.max_pages = n
            .parse()
            .unwrap_or_else(|_| fail("max-pages: not a number"));
    }
    let pdf = pli_cda::render_pdf(&doc, &options);
    if let Some(dir) = std::path::Path::new(&args[2]).parent() {
        std::fs::create_dir_all(dir).unwrap_or_else(|e| fail(&format!("{}: {e}", dir.display())));
    }
    std::fs::write(&args[2], &pdf).unwrap_or_else(|e| fail(&format!("{}: {e}", args[2])));
    println!("{}", pli_cda::rendition_file_name(&doc, None));
}

fn fail(message: &str) -> ! {
    eprintln!("cda-pdf: {message}");
    std::process::exit(1);
}
