//! `pli annuaire …`: the MSSanté directory.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Subcommand, ValueEnum};
use std::io::Write;

use pli_core::annuaire::extraction::{extraction_text, ZipLimits};
use pli_core::annuaire::fhir::FhirDirectory;
use pli_core::annuaire::local::LocalDirectory;
use pli_core::annuaire::{parse_kind, Directory, DirectorySource, Query, SearchOutcome};
use pli_core::config::Config;

/// Subcommands of `pli annuaire`.
#[derive(Debug, Subcommand)]
pub enum AnnuaireCommand {
    /// Search the directory (at most 100 entries per server query: refine when told to).
    Search(SearchArgs),
    /// Import the public "Extraction Correspondance MSSanté" (the published ZIP, or the
    /// pipe-separated text inside it) as the offline directory, replacing the previous copy;
    /// malformed lines are reported and skipped, a suspicious archive imports nothing.
    Import(ImportArgs),
}

/// Arguments of `pli annuaire import`.
#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The extraction: the published ZIP as downloaded, or the text file inside it.
    file: std::path::PathBuf,
    /// Print the report as JSON: {"imported": N, "skipped": [[line, reason], …]}.
    #[arg(long)]
    json: bool,
}

/// Where to search.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Source {
    /// The LDAP directory of the configuration.
    Ldap,
    /// The FHIR Annuaire Santé API (`[directory.fhir]`; needs --name or --mail).
    Fhir,
    /// The offline copy of the public extraction (`pli annuaire import`).
    Local,
}

/// Arguments of `pli annuaire search`.
#[derive(Debug, Args)]
pub struct SearchArgs {
    /// Name or free text (family, given or display name, address); accents and case ignored.
    #[arg(long)]
    name: Option<String>,
    /// Profession code (10 médecin, 21 pharmacien, 60 infirmier…).
    #[arg(long)]
    profession: Option<String>,
    /// Specialty code (SM04 cardiologie, SM54 médecine générale…).
    #[arg(long)]
    specialty: Option<String>,
    /// City (prefix).
    #[arg(long)]
    city: Option<String>,
    /// Postal code (prefix).
    #[arg(long = "postal-code")]
    postal_code: Option<String>,
    /// Department code (25, 2A, 971…).
    #[arg(long)]
    department: Option<String>,
    /// Mailbox type: PER, ORG, APP or CAB.
    #[arg(long = "type")]
    kind: Option<String>,
    /// Organisation (substring).
    #[arg(long)]
    organisation: Option<String>,
    /// Part of the mailbox address (substring).
    #[arg(long)]
    mail: Option<String>,
    /// Source to query.
    #[arg(long, value_enum, default_value = "ldap")]
    source: Source,
    /// Print JSON: {"truncated": bool, "entries": [...]}.
    #[arg(long)]
    json: bool,
}

/// Runs a `pli annuaire` subcommand.
pub fn run(config: Option<&Path>, cmd: AnnuaireCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        AnnuaireCommand::Search(args) => search(config, args),
        AnnuaireCommand::Import(args) => import(config, args),
    }
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?)
}

fn import(config: Option<&Path>, args: ImportArgs) -> anyhow::Result<ExitCode> {
    let path = config.context("no configuration: pass --config FILE or set PLI_CONFIG")?;
    let cfg = Config::load(path)?;
    let bytes = std::fs::read(&args.file)
        .with_context(|| format!("cannot read {}", args.file.display()))?;
    // A ZIP (by its magic bytes) is checked and unpacked in memory before anything is
    // imported; plain text goes through as it is.
    let text = extraction_text(bytes, &ZipLimits::default())?;
    let data_dir = pli_core::store::data_dir(&cfg);
    let report = runtime()?.block_on(async {
        let local = LocalDirectory::open(&data_dir).await?;
        local.import(&text).await
    })?;
    if args.json {
        println!("{}", serde_json::to_string(&report)?);
    } else {
        println!("{} entrées importées", report.imported);
        for (line, why) in &report.skipped {
            eprintln!("ligne {line} ignorée : {why}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn search(config: Option<&Path>, args: SearchArgs) -> anyhow::Result<ExitCode> {
    let path = config.context("no configuration: pass --config FILE or set PLI_CONFIG")?;
    let cfg = Config::load(path)?;
    let kind = match args.kind.as_deref() {
        None => None,
        Some(k) => {
            Some(parse_kind(k).with_context(|| format!("--type {k}: PER, ORG, APP or CAB"))?)
        }
    };
    let query = Query {
        name: args.name,
        profession: args.profession,
        specialty: args.specialty,
        city: args.city,
        postal_code: args.postal_code,
        department: args.department,
        kind,
        organisation: args.organisation,
        mail: args.mail,
    };
    let dir_cfg = match args.source {
        Source::Ldap => cfg
            .directory
            .context("the configuration has no [directory] LDAP source")?,
        Source::Local => {
            let data_dir = pli_core::store::data_dir(&cfg);
            let entries = runtime()?.block_on(async {
                let local = LocalDirectory::open(&data_dir).await?;
                if local.is_empty().await? {
                    anyhow::bail!("no offline directory yet: run `pli annuaire import FILE`");
                }
                Ok(local.search(&query, 500).await?)
            })?;
            let outcome = SearchOutcome {
                truncated: entries.len() >= 500,
                entries,
            };
            return print_outcome(
                &outcome,
                args.json,
                "Liste incomplète : seules les 500 premières réponses sont affichées ; affinez la recherche.",
            );
        }
        Source::Fhir => {
            let fhir = cfg
                .directory
                .as_ref()
                .and_then(|d| d.fhir.as_ref())
                .context("the configuration has no [directory.fhir] section")?;
            let mut dir = FhirDirectory::new(fhir, cfg.environment)?;
            let outcome = runtime()?.block_on(run_search(&mut dir, &query))?;
            let note = format!(
                "Liste incomplète : Pli lit au plus {} pages de l'annuaire FHIR par recherche ; \
                 affinez-la.",
                pli_core::annuaire::fhir::MAX_PAGES
            );
            return print_outcome(&outcome, args.json, &note);
        }
    };
    let outcome = runtime()?.block_on(async {
        let mut dir = Directory::connect(&dir_cfg).await?;
        run_search(&mut dir, &query).await
    })?;
    let note = format!(
        "Liste incomplète : la recherche est limitée à {} réponses ; affinez-la.",
        dir_cfg.size_limit
    );
    print_outcome(&outcome, args.json, &note)
}

async fn run_search(
    dir: &mut impl DirectorySource,
    query: &Query,
) -> Result<SearchOutcome, pli_core::annuaire::AnnuaireError> {
    dir.search(query).await
}

fn print_outcome(outcome: &SearchOutcome, json: bool, note: &str) -> anyhow::Result<ExitCode> {
    let mut out = std::io::stdout().lock();
    let printed = if json {
        writeln!(out, "{}", serde_json::to_string(outcome)?)
    } else {
        print_table(&mut out, outcome)
    };
    match printed {
        // A closed pipe (`| head`) is the reader's choice, not an error.
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => return Err(e.into()),
        _ => {}
    }
    if !json && outcome.truncated {
        eprintln!("{note}");
    }
    Ok(ExitCode::SUCCESS)
}

fn print_table(out: &mut impl Write, outcome: &SearchOutcome) -> std::io::Result<()> {
    {
        for e in &outcome.entries {
            writeln!(
                out,
                "{:<45} {:<4} {:<35} {}",
                e.mail,
                e.kind.as_deref().unwrap_or("?"),
                e.display_name.as_deref().unwrap_or(""),
                [e.postal_code.as_deref(), e.city.as_deref()]
                    .into_iter()
                    .flatten()
                    .collect::<Vec<_>>()
                    .join(" ")
            )?;
        }
    }
    Ok(())
}
