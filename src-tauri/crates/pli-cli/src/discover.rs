//! `pli discover ADDRESS [--json]`: the IMAP and submission servers of a mailbox address,
//! from DNS SRV records (RFC 6186, ECO.1.1.9), with manual values that win.

use std::net::SocketAddr;
use std::path::Path;
use std::process::ExitCode;

use clap::Args;
use pli_core::config::{Config, Security};
use pli_core::discovery::{self, Discovered, DiscoveryOptions, Endpoint, Source};

use crate::account::runtime;

/// Arguments of `pli discover`.
#[derive(Debug, Args)]
pub struct DiscoverArgs {
    /// The mailbox address, e.g. prenom.nom@domaine.mssante.fr.
    address: String,
    /// JSON output: `{"imap": {host, port, security} | null, "smtp": … | null, "source":
    /// "srv" | "manual" | "srv+manual"}`; security is "tls" (implicit) or "starttls".
    #[arg(long)]
    json: bool,
    /// Ask this DNS server (ip:port) instead of `[discovery] nameserver` or the system resolver.
    #[arg(long, value_name = "IP:PORT")]
    nameserver: Option<SocketAddr>,
    /// Manual IMAP server, wins over DNS: HOST:PORT[:tls|starttls] (default: tls on 993,
    /// starttls otherwise).
    #[arg(long, value_name = "HOST:PORT[:SECURITY]", value_parser = parse_endpoint)]
    imap: Option<Endpoint>,
    /// Manual submission server, wins over DNS: HOST:PORT[:tls|starttls] (default: tls on
    /// 465, starttls otherwise).
    #[arg(long, value_name = "HOST:PORT[:SECURITY]", value_parser = parse_endpoint)]
    smtp: Option<Endpoint>,
}

fn parse_endpoint(s: &str) -> Result<Endpoint, String> {
    let mut parts = s.split(':');
    let (Some(host), Some(port)) = (parts.next(), parts.next()) else {
        return Err(format!("« {s} » : attendu HOTE:PORT[:tls|starttls]"));
    };
    let port: u16 = port
        .parse()
        .map_err(|_| format!("« {s} » : port invalide"))?;
    let security = match parts.next() {
        None if port == 993 || port == 465 => Security::Tls,
        None | Some("starttls") => Security::Starttls,
        Some("tls") => Security::Tls,
        Some(other) => return Err(format!("« {other} » : attendu tls ou starttls")),
    };
    if host.is_empty() || parts.next().is_some() {
        return Err(format!("« {s} » : attendu HOTE:PORT[:tls|starttls]"));
    }
    Ok(Endpoint {
        host: host.to_owned(),
        port,
        security,
    })
}

/// Runs `pli discover`. The configuration is optional: only its `[discovery]` is used.
pub fn run(config: Option<&Path>, a: DiscoverArgs) -> anyhow::Result<ExitCode> {
    let mut opts = match config {
        Some(p) => DiscoveryOptions::from_config(&Config::load(p)?),
        None => DiscoveryOptions::default(),
    };
    if a.nameserver.is_some() {
        opts.nameserver = a.nameserver;
    }
    let found = if let (Some(imap), Some(smtp)) = (&a.imap, &a.smtp) {
        // Everything given by hand: DNS is not asked, the address is only checked.
        discovery::domain_of(&a.address)?;
        Discovered {
            imap: Some(imap.clone()),
            smtp: Some(smtp.clone()),
            source: Source::Manual,
        }
    } else {
        runtime()?
            .block_on(discovery::discover(&a.address, &opts))?
            .with_overrides(a.imap, a.smtp)
    };
    if a.json {
        println!("{}", serde_json::to_string_pretty(&found)?);
    } else {
        let show = |e: &Option<Endpoint>| match e {
            Some(e) => format!(
                "{}:{} ({})",
                e.host,
                e.port,
                match e.security {
                    Security::Tls => "TLS implicite",
                    Security::Starttls => "STARTTLS",
                }
            ),
            None => "non proposé".into(),
        };
        let source = match found.source {
            Source::Srv => "DNS SRV",
            Source::Manual => "saisie manuelle",
            Source::SrvAndManual => "DNS SRV et saisie manuelle",
        };
        println!("IMAP : {}", show(&found.imap));
        println!("SMTP : {}", show(&found.smtp));
        println!("source : {source}");
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_parse_with_default_security() {
        let e = parse_endpoint("imap.op.fr:993").unwrap();
        assert_eq!((e.port, e.security), (993, Security::Tls));
        let e = parse_endpoint("imap.op.fr:143").unwrap();
        assert_eq!(e.security, Security::Starttls);
        let e = parse_endpoint("smtp.op.fr:2525:tls").unwrap();
        assert_eq!((e.host.as_str(), e.security), ("smtp.op.fr", Security::Tls));
        for bad in ["imap.op.fr", ":143", "h:x", "h:143:plain", "h:143:tls:x"] {
            assert!(parse_endpoint(bad).is_err(), "{bad}");
        }
    }
}
