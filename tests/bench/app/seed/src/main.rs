//! Seeds an encrypted Pli cache with synthetic but realistic mail, for tests/bench/app/run.
//!
//!   bench-app-seed DATA_DIR PROFILE ACCOUNT [COUNT]
//!
//! Opens (creating) `DATA_DIR/pli-cache.db` with `Store::open_profile` (the key goes into the
//! OS keyring under `cache-key:PROFILE`), registers ACCOUNT, creates its INBOX and inserts COUNT
//! messages (default 50,000) newest-first in batches, with bodies and snippets: French subjects
//! and senders, about 1 in 7 an `XDM/1.0/DDM+…` message carrying an `IHE_XDM.ZIP` and a PDF,
//! about 1 in 12 from a patient (`…@patient.mssante.fr`, kept out of the professional lists).
//! Deterministic: the same COUNT gives the same cache contents. Prints one JSON line.
//!
//!   bench-app-seed --time DATA_DIR PROFILE [RUNS]
//!
//! Opens that cache and times what the desktop app asks at start, store-level (median of RUNS,
//! default 5, after one warm-up): opening the store, the folder counts of the side bar, the
//! first page of the unified inbox (rows and total), the patient threads. One JSON line.

use std::path::PathBuf;
use std::time::Instant;

use pli_core::store::{BodyData, NewMessage, Store};

/// A small deterministic generator (xorshift64*), so the bench needs no extra crate.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<'a>(&mut self, v: &[&'a str]) -> &'a str {
        v[self.below(v.len())]
    }
}

const GIVEN: &[&str] = &[
    "Anne", "Bruno", "Claire", "Delphine", "Émilie", "François", "Gaëlle", "Hugo", "Inès",
    "Jérôme", "Karine", "Laurent", "Mélanie", "Nicolas", "Océane", "Pierre", "Quentin",
    "Rosalie", "Sébastien", "Thérèse", "Ulysse", "Valérie", "William", "Yasmine", "Zoé",
];
const FAMILY: &[&str] = &[
    "Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy",
    "Moreau", "Simon", "Laurent", "Lefèvre", "Michel", "Garcia", "David", "Bertrand", "Roux",
    "Vincent", "Fournier", "Morel", "Girard", "André", "Mercier", "Dupont", "Lambert",
    "Bonnet", "François", "Martinez", "Legrand", "Garnier", "Faure", "Rousseau", "Blanc",
];
const DOMAINS: &[&str] = &[
    "chu-rennes.mssante.fr", "aphp.mssante.fr", "ch-cornouaille.mssante.fr",
    "medecin.mssante.fr", "labo-biopole.mssante.fr", "radiologie-ouest.mssante.fr",
    "clinique-pasteur.mssante.fr", "pharmacien.mssante.fr", "infirmier.mssante.fr",
];
const TITLES: &[&str] = &["Dr", "Pr", "", "", "Mme", "M."];
const SUBJECTS: &[&str] = &[
    "Compte rendu de consultation",
    "Résultats d'analyses biologiques",
    "Demande d'avis spécialisé",
    "Lettre de sortie d'hospitalisation",
    "Compte rendu opératoire",
    "Courrier de liaison",
    "Ordonnance de sortie",
    "Demande de rendez-vous",
    "Bilan préopératoire",
    "Suivi post-opératoire",
    "Compte rendu d'imagerie (IRM)",
    "Compte rendu de radiographie thoracique",
    "Réunion de concertation pluridisciplinaire",
    "Adressage pour échographie cardiaque",
    "Renouvellement de traitement",
    "Question sur un patient commun",
    "Planning des gardes",
    "Protocole de soins",
];
const DOC_LABELS: &[&str] = &[
    "CR de biologie",
    "Lettre de liaison à la sortie d'un établissement de soins",
    "CR d'imagerie médicale",
    "CR opératoire",
    "Synthèse médicale",
    "CR de consultation",
];
const PATIENTS: &[(&str, &str, &str, &str)] = &[
    ("279035121518989", "DUPOND", "Léa", "21/03/1979"),
    ("185052A00412356", "SANTONI", "Jean-Baptiste", "12/05/1985"),
    ("292017505604894", "FAURÉ", "Marie-Hélène", "17/01/1992"),
    ("178086912345644", "LEFEBVRE-DURAND", "François", "09/08/1978"),
    ("276062B03308744", "ALBERTINI", "Rosalie", "03/06/1976"),
    ("201121305500772", "NGUYEN", "Chloé", "05/12/2001"),
];
const SENTENCES: &[&str] = &[
    "Je vous remercie de m'avoir adressé votre patient pour avis.",
    "L'examen clinique retrouve un état général conservé.",
    "La tension artérielle est à 13/8, la fréquence cardiaque à 72 par minute.",
    "Le bilan biologique ne montre pas d'anomalie significative.",
    "Je propose de poursuivre le traitement actuel et de revoir le patient dans trois mois.",
    "Vous trouverez ci-joint le compte rendu détaillé.",
    "L'échographie cardiaque retrouve une fraction d'éjection conservée.",
    "Une IRM de contrôle est programmée dans six semaines.",
    "Merci de me tenir informé de l'évolution.",
    "Le patient a été informé des résultats et des suites envisagées.",
    "Pas de contre-indication à l'intervention sous anesthésie générale.",
    "L'hémoglobine glyquée est à 6,8 %, en amélioration.",
    "Je reste à votre disposition pour tout renseignement complémentaire.",
    "Bien confraternellement.",
];

fn fold(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            'é' | 'è' | 'ê' | 'ë' | 'É' => 'e',
            'à' | 'â' => 'a',
            'ç' => 'c',
            'ï' | 'î' => 'i',
            'ô' => 'o',
            'û' | 'ù' => 'u',
            c => c.to_ascii_lowercase(),
        })
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
        .collect()
}

fn message(rng: &mut Rng, uid: u32, received_at: i64, account: &str) -> NewMessage {
    let roll = rng.below(84);
    let patient = PATIENTS[rng.below(PATIENTS.len())];
    let (from, subject, ins, attachments) = if roll < 7 {
        // A patient writing from the MSSanté patient domain (kept out of the unified inbox).
        let subject = format!("Question de {} {}", patient.2, patient.1);
        (
            (format!("{}@patient.mssante.fr", patient.0), Some(format!("{} {}", patient.2, patient.1))),
            subject,
            Some(patient.0.to_owned()),
            Vec::new(),
        )
    } else {
        let given = rng.pick(GIVEN);
        let family = rng.pick(FAMILY);
        let title = rng.pick(TITLES);
        let addr = format!("{}.{}@{}", fold(given), fold(family), rng.pick(DOMAINS));
        let name = format!("{title} {given} {}", family.to_uppercase()).trim().to_owned();
        if roll < 19 {
            // An XDM/1.0/DDM+ message: health documents with the patient's INS.
            let label = rng.pick(DOC_LABELS);
            let subject = format!("XDM/1.0/DDM+{label} {} {} {}", patient.1, patient.2, patient.3);
            let atts = vec![
                (2, Some("IHE_XDM.ZIP".to_owned()), "application/zip".to_owned(), 18_000 + rng.below(40_000) as u64, true),
                (3, Some(format!("{}.pdf", fold(label))), "application/pdf".to_owned(), 60_000 + rng.below(300_000) as u64, true),
            ];
            ((addr, Some(name)), subject, Some(patient.0.to_owned()), atts)
        } else {
            let mut subject = rng.pick(SUBJECTS).to_owned();
            if rng.below(3) == 0 {
                subject = format!("RE: {subject}");
            }
            if rng.below(4) == 0 {
                subject.push_str(&format!(" — {} {}", patient.1, patient.2));
            }
            ((addr, Some(name)), subject, None, Vec::new())
        }
    };
    let mut text = format!("Cher confrère,\n\n");
    for _ in 0..(3 + rng.below(6)) {
        text.push_str(rng.pick(SENTENCES));
        text.push(' ');
    }
    text.push_str(&format!("\n\n{}\n", from.1.as_deref().unwrap_or(&from.0)));
    let snippet: String = text.chars().filter(|c| *c != '\n').take(140).collect();
    let age_days = (1_767_225_600 - received_at) / 86_400; // days before 2026-01-01
    let mut flags = Vec::new();
    if age_days > 3 || rng.below(3) == 0 {
        flags.push("\\Seen".to_owned());
    }
    if rng.below(40) == 0 {
        flags.push("\\Flagged".to_owned());
    }
    let message_id = format!("bench-{uid}.{}@pli.invalid", rng.next() % 1_000_000);
    let size = (text.len() as u64 + attachments.iter().map(|a| a.3).sum::<u64>() * 4 / 3 + 1_500) as u32;
    NewMessage {
        uid,
        message_id: Some(message_id),
        from: Some(from),
        to: vec![account.to_owned()],
        subject: Some(subject),
        sent_at: Some(received_at - 20 - rng.below(300) as i64),
        received_at: Some(received_at),
        flags,
        size: Some(size),
        patient_ins: ins,
        body: Some(BodyData {
            text,
            html: None,
            snippet,
            attachments,
            attachment_text: String::new(),
            reports: Vec::new(),
        }),
        ..Default::default()
    }
}

/// Milliseconds since `t`.
fn ms(t: Instant) -> f64 {
    (t.elapsed().as_secs_f64() * 1e5).round() / 100.0
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

async fn time_queries(data_dir: &std::path::Path, profile: &str, runs: usize) {
    use pli_core::store::PageScope;
    const DOMAIN: &str = "patient.mssante.fr";
    let mut open = Vec::new();
    let mut folders = Vec::new();
    let mut first_page = Vec::new();
    let mut patients = Vec::new();
    let mut middle = Vec::new();
    let mut total = 0;
    for run in 0..=runs {
        let t = Instant::now();
        let store = Store::open_profile(data_dir, profile).await.expect("open the cache");
        let o = ms(t);
        let t = Instant::now();
        for (id, _, _) in store.accounts().await.expect("accounts") {
            store.folder_counts(id, DOMAIN).await.expect("folder counts");
        }
        let f = ms(t);
        let t = Instant::now();
        let (n, rows) = store
            .page(&PageScope::Unified, DOMAIN, 0, 100)
            .await
            .expect("page");
        let p = ms(t);
        assert!(!rows.is_empty());
        total = n;
        let t = Instant::now();
        store
            .page(&PageScope::Unified, DOMAIN, total / 2, 100)
            .await
            .expect("middle page");
        let mid = ms(t);
        let t = Instant::now();
        store.patient_threads(DOMAIN).await.expect("patients");
        let th = ms(t);
        store.close().await;
        if run > 0 {
            open.push(o);
            folders.push(f);
            first_page.push(p);
            patients.push(th);
            middle.push(mid);
        }
    }
    println!(
        "{{\"runs\":{runs},\"unified_total\":{total},\"open_ms\":{},\"folder_counts_ms\":{},\"first_page_ms\":{},\"patient_threads_ms\":{},\"middle_page_ms\":{}}}",
        median(open),
        median(folders),
        median(first_page),
        median(patients),
        median(middle)
    );
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("--time") {
        if args.len() < 4 {
            eprintln!("usage: bench-app-seed --time DATA_DIR PROFILE [RUNS]");
            std::process::exit(2);
        }
        let runs = args.get(4).map_or(5, |r| r.parse().expect("RUNS"));
        time_queries(std::path::Path::new(&args[2]), &args[3], runs).await;
        return;
    }
    if args.len() < 4 {
        eprintln!("usage: bench-app-seed DATA_DIR PROFILE ACCOUNT [COUNT]");
        std::process::exit(2);
    }
    let data_dir = PathBuf::from(&args[1]);
    let (profile, account) = (&args[2], &args[3]);
    let count: u32 = args.get(4).map_or(50_000, |c| c.parse().expect("COUNT"));
    let t = Instant::now();
    let store = Store::open_profile(&data_dir, profile).await.expect("open the cache");
    let account_id = store.add_account(account, "PER", None).await.expect("account");
    let inbox = store
        .upsert_folder(account_id, "INBOX", Some("/"), None, true)
        .await
        .expect("INBOX");
    // Newest first, like the sync's walk; one message every ~30 min going back from
    // 2026-01-01 (about 3 years for 50,000).
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let newest = 1_767_225_600i64;
    const BATCH: u32 = 500;
    let mut uid = count;
    while uid > 0 {
        let lo = uid.saturating_sub(BATCH);
        let batch: Vec<NewMessage> = (lo + 1..=uid)
            .rev()
            .map(|u| {
                let received = newest - i64::from(count - u) * 1_800 - rng.below(1_200) as i64;
                message(&mut rng, u, received, account)
            })
            .collect();
        store
            .insert_batch(inbox, &batch, Some(lo + 1))
            .await
            .expect("insert batch");
        uid = lo;
    }
    store.checkpoint().await.expect("checkpoint");
    let path = store.path().to_owned();
    store.close().await;
    let bytes: u64 = std::fs::read_dir(&data_dir)
        .map(|d| d.flatten().filter_map(|e| e.metadata().ok()).map(|m| m.len()).sum())
        .unwrap_or(0);
    println!(
        "{{\"messages\":{count},\"seconds\":{:.2},\"cache\":\"{}\",\"bytes\":{bytes}}}",
        t.elapsed().as_secs_f64(),
        path.display()
    );
}
