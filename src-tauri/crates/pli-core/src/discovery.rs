//! Mail server discovery from DNS SRV records (RFC 6186; Ref#2 ECO.1.1.9).
//!
//! When the user gives only a mailbox address, Pli asks DNS, for the address's domain, for:
//!
//! | record | service | transport security |
//! |---|---|---|
//! | `_imaps._tcp.<domain>` | IMAP | implicit TLS ([`Security::Tls`]) |
//! | `_imap._tcp.<domain>` | IMAP | STARTTLS ([`Security::Starttls`]) |
//! | `_submissions._tcp.<domain>` | submission | implicit TLS (RFC 8314) |
//! | `_submission._tcp.<domain>` | submission | STARTTLS |
//!
//! # Choosing among the records
//!
//! For each service (IMAP, then submission), the records of both kinds are merged and ordered
//! by [`order`]:
//! 1. a record whose target is `.` is dropped: RFC 2782 says the domain decidedly does not
//!    offer that service there;
//! 2. lower **priority** first, across both kinds: the operator's own preference wins, so an
//!    operator that wants STARTTLS first publishes `_imap._tcp` with a lower priority;
//! 3. at equal priority, **implicit TLS before STARTTLS** (RFC 8314 §5.1: TLS from the first
//!    byte leaves no plaintext step to attack);
//! 4. then, inside a group of equal priority and kind, a **weighted random** order (RFC 2782:
//!    a record's chance of coming first is proportional to its weight; weight-0 records come
//!    last in practice, though each may still be picked);
//! 5. the first record of the list is the one used (the rest are alternatives).
//!
//! There is no SRV name for plaintext IMAP or submission without STARTTLS, so a discovered
//! endpoint is never a downgrade: [`Security`] only has STARTTLS and implicit TLS, and the
//! connection code refuses a server without STARTTLS.
//!
//! # What DNS is trusted for
//!
//! Only for *where to connect*: a host name and a port. DNS is not authenticated (no DNSSEC
//! here), so nothing else is taken from it: the TLS certificate of the discovered host is
//! verified against the configured trust anchors (IGC Santé) and **the host name the SRV record
//! named**, exactly as for a hand-written configuration, before any token is sent. A spoofed
//! answer can at worst point Pli to a server that fails that check.
//!
//! Manual values always win ([`Discovered::with_overrides`]): a host given by the user or the
//! configuration replaces the discovered one.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::net::SocketAddr;
use std::time::Duration;

use hickory_resolver::config::{NameServerConfig, ResolverConfig};
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::proto::rr::RData;
use hickory_resolver::{Resolver, TokioResolver};
use serde::Serialize;

use crate::config::{Config, Security, ServerConfig};

/// Where the resolver asks.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DiscoveryOptions {
    /// A DNS server (`ip:port`) to ask instead of the system resolver (tests, sandbox).
    pub nameserver: Option<SocketAddr>,
    /// Time allowed for each lookup; `None`: the resolver's default (5 s).
    pub timeout: Option<Duration>,
}

impl DiscoveryOptions {
    /// The options of a configuration's `[discovery]` section (system resolver without it).
    pub fn from_config(cfg: &Config) -> Self {
        Self {
            nameserver: cfg.discovery.as_ref().and_then(|d| d.nameserver),
            timeout: None,
        }
    }
}

/// How an endpoint was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// Both endpoints (those found) come from DNS SRV records.
    Srv,
    /// Everything was given by hand; DNS was not asked.
    Manual,
    /// Some values from DNS SRV, the others given by hand.
    #[serde(rename = "srv+manual")]
    SrvAndManual,
}

/// A discovered (or given) endpoint: the shape of [`ServerConfig`] without `connect_addr`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Endpoint {
    /// Host name (checked against the server certificate).
    pub host: String,
    /// TCP port.
    pub port: u16,
    /// STARTTLS or implicit TLS.
    pub security: Security,
}

impl Endpoint {
    /// As a configuration entry (connect to `host` itself).
    pub fn to_server_config(&self) -> ServerConfig {
        ServerConfig {
            host: self.host.clone(),
            port: self.port,
            security: self.security,
            connect_addr: None,
        }
    }
}

impl From<&ServerConfig> for Endpoint {
    fn from(s: &ServerConfig) -> Self {
        Self {
            host: s.host.clone(),
            port: s.port,
            security: s.security,
        }
    }
}

/// The result of a discovery.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Discovered {
    /// The IMAP endpoint, if one is offered.
    pub imap: Option<Endpoint>,
    /// The submission endpoint, if one is offered.
    pub smtp: Option<Endpoint>,
    /// Where the values come from.
    pub source: Source,
}

impl Discovered {
    /// Replaces discovered values by the ones given by hand (each one independently).
    pub fn with_overrides(mut self, imap: Option<Endpoint>, smtp: Option<Endpoint>) -> Self {
        let manual = imap.is_some() || smtp.is_some();
        if let Some(e) = imap {
            self.imap = Some(e);
        }
        if let Some(e) = smtp {
            self.smtp = Some(e);
        }
        if manual && self.source == Source::Srv {
            self.source = Source::SrvAndManual;
        }
        self
    }
}

/// Errors of a discovery; messages in French, for the user.
#[derive(Debug, thiserror::Error)]
pub enum DiscoveryError {
    /// Not a mailbox address.
    #[error("adresse « {0} » invalide : attendu une adresse de messagerie comme prenom.nom@domaine.mssante.fr")]
    InvalidAddress(String),
    /// No usable SRV record at all.
    #[error(
        "aucun enregistrement DNS SRV pour le domaine {domain} (noms essayés : {}) ; \
         saisissez le serveur IMAP et le serveur SMTP à la main (voir la documentation de votre opérateur)",
        tried.join(", ")
    )]
    NotFound {
        /// The domain.
        domain: String,
        /// Every name asked.
        tried: Vec<String>,
    },
    /// The resolver could not be set up or did not answer.
    #[error("la recherche DNS de {name} a échoué ({detail}) ; vérifiez la connexion réseau ou saisissez les serveurs à la main")]
    Resolver {
        /// The name being looked up (or the resolver set-up).
        name: String,
        /// The resolver's error.
        detail: String,
    },
}

/// One SRV record, as read from DNS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SrvRecord {
    /// Lower is preferred.
    pub priority: u16,
    /// Relative chance among records of equal priority.
    pub weight: u16,
    /// TCP port.
    pub port: u16,
    /// Target host name, without the trailing dot; `.` means "service not offered".
    pub target: String,
}

/// The SRV names of one service: (label, security), implicit TLS first.
const IMAP_NAMES: [(&str, Security); 2] = [
    ("_imaps._tcp", Security::Tls),
    ("_imap._tcp", Security::Starttls),
];
const SUBMISSION_NAMES: [(&str, Security); 2] = [
    ("_submissions._tcp", Security::Tls),
    ("_submission._tcp", Security::Starttls),
];

/// The domain of a mailbox address (lower-cased, without a trailing dot).
pub fn domain_of(address: &str) -> Result<String, DiscoveryError> {
    let invalid = || DiscoveryError::InvalidAddress(address.to_owned());
    let address = address.trim();
    let (local, domain) = address.rsplit_once('@').ok_or_else(invalid)?;
    let domain = domain.trim_end_matches('.').to_ascii_lowercase();
    let label_ok = |l: &str| {
        !l.is_empty()
            && l.len() <= 63
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
    };
    if local.is_empty()
        || local.contains('@')
        || !domain.contains('.')
        || domain.len() > 253
        || !domain.split('.').all(label_ok)
    {
        return Err(invalid());
    }
    Ok(domain)
}

/// Orders the records of one service (both kinds merged) by the rules of the module docs;
/// `random` returns a value in `0..=bound` (tests give a fixed one).
pub fn order(
    records: &[(Security, SrvRecord)],
    mut random: impl FnMut(u32) -> u32,
) -> Vec<Endpoint> {
    let mut usable: Vec<&(Security, SrvRecord)> = records
        .iter()
        .filter(|(_, r)| !r.target.is_empty() && r.target != ".")
        .collect();
    // Stable sort: priority, then implicit TLS first.
    usable.sort_by_key(|(s, r)| (r.priority, tls_rank(*s)));
    let mut out = Vec::with_capacity(usable.len());
    let mut rest = usable.as_slice();
    while let Some(((s0, r0), _)) = rest.split_first().map(|(f, t)| (*f, t)) {
        let n = rest
            .iter()
            .take_while(|(s, r)| r.priority == r0.priority && s == s0)
            .count();
        let (group, tail) = rest.split_at(n);
        out.extend(
            weighted(group, &mut random)
                .into_iter()
                .map(|(s, r)| Endpoint {
                    host: r.target.clone(),
                    port: r.port,
                    security: *s,
                }),
        );
        rest = tail;
    }
    out
}

fn tls_rank(s: Security) -> u8 {
    match s {
        Security::Tls => 0,
        Security::Starttls => 1,
    }
}

/// RFC 2782's selection inside one priority group: weight-0 records first in the list, then
/// repeatedly pick the first record whose running weight sum reaches a random value in
/// `0..=total`.
fn weighted<'a>(
    group: &[&'a (Security, SrvRecord)],
    random: &mut impl FnMut(u32) -> u32,
) -> Vec<&'a (Security, SrvRecord)> {
    let mut left: Vec<&'a (Security, SrvRecord)> = group.to_vec();
    left.sort_by_key(|(_, r)| r.weight != 0);
    let mut out = Vec::with_capacity(left.len());
    while !left.is_empty() {
        let total: u32 = left.iter().map(|(_, r)| u32::from(r.weight)).sum();
        let pick = random(total).min(total);
        let mut sum = 0u32;
        let idx = left
            .iter()
            .position(|(_, r)| {
                sum += u32::from(r.weight);
                sum >= pick
            })
            .unwrap_or(0);
        out.push(left.remove(idx));
    }
    out
}

/// A random value in `0..=bound`, without a dependency: the std hasher's random keys.
fn std_random(bound: u32) -> u32 {
    if bound == 0 {
        return 0;
    }
    let mut h = RandomState::new().build_hasher();
    h.write_u32(bound);
    (h.finish() % (u64::from(bound) + 1)) as u32
}

/// Looks up the IMAP and submission SRV records of `address`'s domain and picks one endpoint
/// of each (see the module docs). Fails when neither is offered.
pub async fn discover(
    address: &str,
    opts: &DiscoveryOptions,
) -> Result<Discovered, DiscoveryError> {
    let domain = domain_of(address)?;
    let resolver = resolver(opts)?;
    let mut tried = Vec::new();
    let imap = pick(&resolver, &domain, IMAP_NAMES, &mut tried).await?;
    let smtp = pick(&resolver, &domain, SUBMISSION_NAMES, &mut tried).await?;
    if imap.is_none() && smtp.is_none() {
        return Err(DiscoveryError::NotFound { domain, tried });
    }
    tracing::info!(%domain, ?imap, ?smtp, "DNS SRV discovery");
    Ok(Discovered {
        imap,
        smtp,
        source: Source::Srv,
    })
}

/// The first endpoint of one service (both of its SRV names asked, recorded in `tried`).
async fn pick(
    resolver: &TokioResolver,
    domain: &str,
    names: [(&str, Security); 2],
    tried: &mut Vec<String>,
) -> Result<Option<Endpoint>, DiscoveryError> {
    let mut records = Vec::new();
    for (label, security) in names {
        let name = format!("{label}.{domain}");
        // Fully qualified: no search-domain suffixes are tried.
        let found = lookup(resolver, &format!("{name}.")).await?;
        tried.push(name);
        records.extend(found.into_iter().map(|r| (security, r)));
    }
    Ok(order(&records, std_random).into_iter().next())
}

fn resolver(opts: &DiscoveryOptions) -> Result<TokioResolver, DiscoveryError> {
    let setup = |e: &dyn std::fmt::Display| DiscoveryError::Resolver {
        name: "(configuration du résolveur)".into(),
        detail: e.to_string(),
    };
    let mut builder = match opts.nameserver {
        Some(ns) => {
            let mut server = NameServerConfig::udp_and_tcp(ns.ip());
            for c in &mut server.connections {
                c.port = ns.port();
            }
            Resolver::builder_with_config(
                ResolverConfig::from_name_servers(vec![server]),
                TokioRuntimeProvider::default(),
            )
        }
        None => TokioResolver::builder_tokio().map_err(|e| setup(&e))?,
    };
    if let Some(t) = opts.timeout {
        builder.options_mut().timeout = t;
    }
    builder.build().map_err(|e| setup(&e))
}

/// The SRV records at `name` (fully qualified); none when the name or the record type does
/// not exist.
async fn lookup(resolver: &TokioResolver, name: &str) -> Result<Vec<SrvRecord>, DiscoveryError> {
    match resolver.srv_lookup(name).await {
        Ok(found) => Ok(found
            .answers()
            .iter()
            .filter_map(|rec| match &rec.data {
                RData::SRV(srv) => Some(SrvRecord {
                    priority: srv.priority,
                    weight: srv.weight,
                    port: srv.port,
                    target: target_name(&srv.target.to_ascii()),
                }),
                _ => None,
            })
            .collect()),
        Err(e) if e.is_no_records_found() => Ok(Vec::new()),
        Err(e) => Err(DiscoveryError::Resolver {
            name: name.trim_end_matches('.').to_owned(),
            detail: e.to_string(),
        }),
    }
}

/// `host.example.` → `host.example`; the root name stays `.`.
fn target_name(ascii: &str) -> String {
    if ascii == "." || ascii.is_empty() {
        ".".into()
    } else {
        ascii.trim_end_matches('.').to_ascii_lowercase()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(priority: u16, weight: u16, port: u16, target: &str) -> SrvRecord {
        SrvRecord {
            priority,
            weight,
            port,
            target: target.into(),
        }
    }

    fn hosts(v: &[Endpoint]) -> Vec<(String, u16, Security)> {
        v.iter()
            .map(|e| (e.host.clone(), e.port, e.security))
            .collect()
    }

    #[test]
    fn lower_priority_wins_across_both_kinds() {
        // The operator prefers STARTTLS: it gets the lower priority and is used.
        let r = [
            (Security::Tls, rec(10, 1, 993, "imap.op.fr")),
            (Security::Starttls, rec(5, 1, 143, "imap.op.fr")),
        ];
        let got = order(&r, |_| 0);
        assert_eq!(got[0].security, Security::Starttls);
        assert_eq!(got[0].port, 143);
        assert_eq!(got.len(), 2);
    }

    #[test]
    fn implicit_tls_first_at_equal_priority() {
        let r = [
            (Security::Starttls, rec(0, 100, 143, "a.op.fr")),
            (Security::Tls, rec(0, 1, 993, "b.op.fr")),
        ];
        for pick in [0, 1, 50, 100] {
            let got = order(&r, |b| pick.min(b));
            assert_eq!(
                hosts(&got),
                [
                    ("b.op.fr".into(), 993, Security::Tls),
                    ("a.op.fr".into(), 143, Security::Starttls)
                ]
            );
        }
    }

    #[test]
    fn dot_target_means_not_offered() {
        let r = [
            (Security::Tls, rec(0, 0, 0, ".")),
            (Security::Starttls, rec(1, 0, 143, "imap.op.fr")),
        ];
        let got = order(&r, |_| 0);
        assert_eq!(
            hosts(&got),
            [("imap.op.fr".into(), 143, Security::Starttls)]
        );
        assert!(order(&[(Security::Tls, rec(0, 0, 0, "."))], |_| 0).is_empty());
        assert!(order(&[], |_| 0).is_empty());
    }

    #[test]
    fn weight_decides_inside_a_priority_group() {
        let r = [
            (Security::Tls, rec(0, 10, 993, "light.op.fr")),
            (Security::Tls, rec(0, 90, 993, "heavy.op.fr")),
            (Security::Tls, rec(1, 100, 993, "backup.op.fr")),
        ];
        // Running sums: light 10, heavy 100. A draw ≤ 10 picks light, above picks heavy.
        let first = |draw: u32| order(&r, move |b| draw.min(b))[0].host.clone();
        assert_eq!(first(5), "light.op.fr");
        assert_eq!(first(10), "light.op.fr");
        assert_eq!(first(11), "heavy.op.fr");
        assert_eq!(first(100), "heavy.op.fr");
        // The lower-priority group always comes after.
        let all = order(&r, |b| b);
        assert_eq!(all[2].host, "backup.op.fr");
        assert_eq!(all.len(), 3);
    }

    #[test]
    fn zero_weight_records_come_after_weighted_ones_unless_drawn() {
        let r = [
            (Security::Tls, rec(0, 0, 993, "zero.op.fr")),
            (Security::Tls, rec(0, 5, 993, "five.op.fr")),
        ];
        // A draw of 0 may pick the weight-0 record (RFC 2782), any other draw the weighted one.
        assert_eq!(order(&r, |_| 0)[0].host, "zero.op.fr");
        assert_eq!(order(&r, |b| b)[0].host, "five.op.fr");
        // Only weight-0 records: all kept, in a defined order.
        let z = [
            (Security::Tls, rec(0, 0, 993, "a.op.fr")),
            (Security::Tls, rec(0, 0, 993, "b.op.fr")),
        ];
        assert_eq!(order(&z, |_| 0).len(), 2);
    }

    #[test]
    fn weighted_draw_is_roughly_proportional() {
        let r = [
            (Security::Tls, rec(0, 1, 993, "rare.op.fr")),
            (Security::Tls, rec(0, 3, 993, "common.op.fr")),
        ];
        let common = (0..2000)
            .filter(|_| order(&r, std_random)[0].host == "common.op.fr")
            .count();
        // A draw in 0..=4: 0 and 1 pick "rare", 2..=4 "common": ≈ 3/5 of 2000 (RFC 2782's rule).
        assert!((1000..1500).contains(&common), "{common}");
    }

    #[test]
    fn domain_of_an_address() {
        assert_eq!(
            domain_of("anne.lefevre@Pli-Sandbox.MSSante.fr").unwrap(),
            "pli-sandbox.mssante.fr"
        );
        assert_eq!(
            domain_of(" a@b.fr. ").unwrap(),
            "b.fr",
            "spaces and the root dot"
        );
        for bad in [
            "",
            "anne",
            "@b.fr",
            "a@",
            "a@localhost",
            "a@b..fr",
            "a@-b.fr",
            "a@b c.fr",
        ] {
            let e = domain_of(bad).unwrap_err();
            assert!(e.to_string().contains("invalide"), "{bad}: {e}");
        }
    }

    #[test]
    fn overrides_win_field_by_field() {
        let d = Discovered {
            imap: Some(Endpoint {
                host: "imap.op.fr".into(),
                port: 993,
                security: Security::Tls,
            }),
            smtp: None,
            source: Source::Srv,
        };
        let manual = Endpoint {
            host: "smtp.local".into(),
            port: 587,
            security: Security::Starttls,
        };
        let d = d.with_overrides(None, Some(manual.clone()));
        assert_eq!(d.smtp, Some(manual));
        assert_eq!(d.imap.as_ref().unwrap().port, 993);
        assert_eq!(d.source, Source::SrvAndManual);
        let json = serde_json::to_value(&d).unwrap();
        assert_eq!(json["source"], "srv+manual");
        assert_eq!(json["imap"]["security"], "tls");
    }

    #[test]
    fn not_found_names_what_was_tried() {
        let e = DiscoveryError::NotFound {
            domain: "x.fr".into(),
            tried: vec!["_imaps._tcp.x.fr".into(), "_imap._tcp.x.fr".into()],
        };
        let m = e.to_string();
        assert!(m.contains("aucun enregistrement DNS SRV"), "{m}");
        assert!(m.contains("_imaps._tcp.x.fr, _imap._tcp.x.fr"), "{m}");
    }

    #[test]
    fn target_names_lose_the_root_dot() {
        assert_eq!(target_name("IMAP.Op.fr."), "imap.op.fr");
        assert_eq!(target_name("."), ".");
    }
}
