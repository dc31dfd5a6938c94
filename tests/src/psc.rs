//! Getting real tokens from the sandbox PSC (oidc-provider configured like Pro Santé Connect).
//!
//! `code_pkce` plays the browser: it follows the authorization request through the provider's
//! login and consent pages, catches the loopback redirect, and redeems the code with the PKCE
//! verifier. `ciba` plays the desktop side of CIBA: backchannel request, then polling while the
//! sandbox "approves on the phone" after a delay.

use std::time::Duration;

use anyhow::{anyhow, bail, Context, Result};
use base64::Engine as _;
use pli_core::config::{Config, SecretRef};
use serde::Deserialize;
use sha2::Digest;

/// The provider metadata Pli uses.
#[derive(Debug, Clone, Deserialize)]
pub struct Discovery {
    pub issuer: String,
    pub authorization_endpoint: String,
    pub token_endpoint: String,
    #[serde(default)]
    pub userinfo_endpoint: Option<String>,
    #[serde(default)]
    pub introspection_endpoint: Option<String>,
    #[serde(default)]
    pub revocation_endpoint: Option<String>,
    #[serde(default)]
    pub backchannel_authentication_endpoint: Option<String>,
    #[serde(default)]
    pub scopes_supported: Vec<String>,
}

/// A token response.
#[derive(Debug, Clone, Deserialize)]
pub struct Tokens {
    pub access_token: String,
    #[serde(default)]
    pub refresh_token: Option<String>,
    #[serde(default)]
    pub id_token: Option<String>,
    #[serde(default)]
    pub expires_in: Option<u64>,
}

fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .cookie_store(true)
        .timeout(Duration::from_secs(20))
        .build()
        .expect("http client")
}

/// Fetches the PSC discovery document at the configured (non-standard) path.
pub async fn discover(cfg: &Config) -> Result<Discovery> {
    let url = cfg.discovery_url();
    let d: Discovery = http()
        .get(&url)
        .send()
        .await
        .with_context(|| format!("GET {url}"))?
        .error_for_status()?
        .json()
        .await?;
    Ok(d)
}

fn b64url(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn random_token() -> String {
    // Tests only: uniqueness, not secrecy, is what matters here.
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_nanos();
    let d = sha2::Sha256::digest(format!("{nanos}-{:?}", std::thread::current().id()));
    b64url(&d)
}

/// Authorization code + PKCE (S256) for `national_id`, driving the sandbox login pages.
pub async fn code_pkce(cfg: &Config, national_id: &str) -> Result<Tokens> {
    let d = discover(cfg).await?;
    let client = http();
    let verifier = random_token() + &random_token();
    let challenge = b64url(&sha2::Sha256::digest(verifier.as_bytes()));
    let redirect = "http://127.0.0.1:53682/callback";
    let state = random_token();
    let nonce = random_token();
    let mut url = url::Url::parse(&d.authorization_endpoint)?;
    url.query_pairs_mut()
        .append_pair("client_id", &cfg.psc.browser.client_id)
        .append_pair("response_type", "code")
        .append_pair("redirect_uri", redirect)
        .append_pair("scope", &cfg.psc.scopes.join(" "))
        .append_pair("acr_values", &cfg.psc.acr_values)
        .append_pair("code_challenge", &challenge)
        .append_pair("code_challenge_method", "S256")
        .append_pair("state", &state)
        .append_pair("nonce", &nonce)
        .append_pair("prompt", "login");
    let mut resp = client.get(url.clone()).send().await?;
    let mut base = url;
    for _ in 0..20 {
        if let Some(loc) = resp.headers().get("location") {
            let loc = base.join(loc.to_str()?)?;
            if loc.as_str().starts_with(redirect) {
                let q: std::collections::HashMap<_, _> = loc.query_pairs().into_owned().collect();
                if q.get("state") != Some(&state) {
                    bail!("state mismatch in redirect {loc}");
                }
                let code = q
                    .get("code")
                    .ok_or_else(|| anyhow!("no code in redirect {loc}"))?;
                let tokens = client
                    .post(&d.token_endpoint)
                    .form(&[
                        ("grant_type", "authorization_code"),
                        ("code", code),
                        ("redirect_uri", redirect),
                        ("client_id", &cfg.psc.browser.client_id),
                        ("code_verifier", &verifier),
                    ])
                    .send()
                    .await?;
                return parse_tokens(tokens).await;
            }
            base = loc.clone();
            resp = client.get(loc).send().await?;
            continue;
        }
        let page_url = resp.url().clone();
        let body = resp.text().await?;
        let action = find_attr(&body, "action=\"")
            .ok_or_else(|| anyhow!("no form on page {page_url}: {}", tail(&body)))?;
        let prompt = find_after(&body, "name=\"prompt\" value=\"").unwrap_or_default();
        let target = page_url.join(&action.replace("&amp;", "&"))?;
        base = target.clone();
        resp = client
            .post(target)
            .form(&[
                ("prompt", prompt.as_str()),
                ("login", national_id),
                ("password", "sandbox"),
            ])
            .send()
            .await?;
    }
    bail!("too many steps in the login flow")
}

/// What the test's "browser" does on the provider's pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BrowserChoice<'a> {
    /// Log in as this national id and approve the consent page.
    Approve(&'a str),
    /// Log in as this national id, then press "Refuser" on the consent page.
    Refuse(&'a str),
}

/// The last page the browser showed.
#[derive(Debug, Clone)]
pub struct BrowsedPage {
    pub url: url::Url,
    pub status: u16,
    pub body: String,
}

/// Plays the system browser on an authorization URL built by Pli: follows redirects (with
/// cookies), fills the sandbox login form, approves or refuses consent, and follows the final
/// redirect to Pli's loopback listener, whose page it returns.
pub async fn browse(authorization_url: &str, choice: BrowserChoice<'_>) -> Result<BrowsedPage> {
    let client = http();
    let (national_id, approve) = match choice {
        BrowserChoice::Approve(n) => (n, true),
        BrowserChoice::Refuse(n) => (n, false),
    };
    let mut url = url::Url::parse(authorization_url)?;
    let mut resp = client.get(url.clone()).send().await?;
    for _ in 0..20 {
        if let Some(loc) = resp.headers().get("location") {
            url = url.join(loc.to_str()?)?;
            resp = client.get(url.clone()).send().await?;
            continue;
        }
        let status = resp.status().as_u16();
        let body = resp.text().await?;
        let Some(action) = find_attr(&body, "action=\"") else {
            return Ok(BrowsedPage { url, status, body });
        };
        let prompt = find_after(&body, "name=\"prompt\" value=\"").unwrap_or_default();
        if prompt == "consent" && !approve {
            let abort = find_after(&body, "<a href=\"")
                .ok_or_else(|| anyhow!("no refuse link on the consent page"))?;
            url = url.join(&abort.replace("&amp;", "&"))?;
            resp = client.get(url.clone()).send().await?;
            continue;
        }
        url = url.join(&action.replace("&amp;", "&"))?;
        resp = client
            .post(url.clone())
            .form(&[
                ("prompt", prompt.as_str()),
                ("login", national_id),
                ("password", "sandbox"),
            ])
            .send()
            .await?;
    }
    bail!("too many steps in the login flow")
}

/// CIBA poll mode for `login_hint`; returns the tokens once the sandbox approves.
pub async fn ciba(cfg: &Config, login_hint: &str) -> Result<Tokens> {
    let auth_req_id = ciba_start(cfg, login_hint).await?;
    let d = discover(cfg).await?;
    let (id, secret) = ciba_client(cfg)?;
    let client = http();
    let mut interval = 1u64;
    for _ in 0..60 {
        tokio::time::sleep(Duration::from_secs(interval)).await;
        let resp = client
            .post(&d.token_endpoint)
            .basic_auth(&id, Some(&secret))
            .form(&[
                ("grant_type", "urn:openid:params:grant-type:ciba"),
                ("auth_req_id", auth_req_id.as_str()),
            ])
            .send()
            .await?;
        if resp.status().is_success() {
            return parse_tokens(resp).await;
        }
        let err: serde_json::Value = resp.json().await?;
        match err["error"].as_str() {
            Some("authorization_pending") => {}
            Some("slow_down") => interval += 5,
            other => bail!("CIBA failed: {other:?} {err}"),
        }
    }
    bail!("CIBA not approved in time")
}

/// Starts CIBA; returns `auth_req_id`, or the provider's error.
pub async fn ciba_start(cfg: &Config, login_hint: &str) -> Result<String> {
    let d = discover(cfg).await?;
    let endpoint = d
        .backchannel_authentication_endpoint
        .ok_or_else(|| anyhow!("no CIBA endpoint in discovery"))?;
    let (id, secret) = ciba_client(cfg)?;
    let resp = http()
        .post(&endpoint)
        .basic_auth(&id, Some(&secret))
        .form(&[
            ("scope", cfg.psc.scopes.join(" ").as_str()),
            ("acr_values", cfg.psc.acr_values.as_str()),
            ("login_hint", login_hint),
            ("binding_message", "PLI-TEST"),
            ("channel", "CARD"),
        ])
        .send()
        .await?;
    let status = resp.status();
    let body: serde_json::Value = resp.json().await?;
    if !status.is_success() {
        bail!("CIBA refused ({status}): {body}");
    }
    Ok(body["auth_req_id"]
        .as_str()
        .ok_or_else(|| anyhow!("no auth_req_id: {body}"))?
        .to_owned())
}

fn ciba_client(cfg: &Config) -> Result<(String, String)> {
    let c = cfg
        .psc
        .ciba
        .as_ref()
        .ok_or_else(|| anyhow!("no [psc.ciba]"))?;
    let secret = match &c.client_secret {
        Some(SecretRef::SandboxLiteral(s)) => s.clone(),
        other => bail!("sandbox CIBA client secret expected, got {other:?}"),
    };
    Ok((c.client_id.clone(), secret))
}

/// Revokes a token at the provider (RFC 7009), as the public client.
pub async fn revoke(cfg: &Config, token: &str) -> Result<()> {
    let d = discover(cfg).await?;
    let endpoint = d
        .revocation_endpoint
        .ok_or_else(|| anyhow!("no revocation endpoint"))?;
    http()
        .post(endpoint)
        .form(&[
            ("token", token),
            ("token_type_hint", "access_token"),
            ("client_id", cfg.psc.browser.client_id.as_str()),
        ])
        .send()
        .await?
        .error_for_status()?;
    Ok(())
}

/// Revokes a refresh token issued to the CIBA client (RFC 7009), authenticated as that client
/// (a provider ignores a revocation by another client, as RFC 7009 §2.2 allows).
pub async fn revoke_ciba_refresh(cfg: &Config, token: &str) -> Result<()> {
    let d = discover(cfg).await?;
    let endpoint = d
        .revocation_endpoint
        .ok_or_else(|| anyhow!("no revocation endpoint"))?;
    let (id, secret) = ciba_client(cfg)?;
    http()
        .post(endpoint)
        .basic_auth(id, Some(secret))
        .form(&[("token", token), ("token_type_hint", "refresh_token")])
        .send()
        .await?
        .error_for_status()?;
    Ok(())
}

async fn parse_tokens(resp: reqwest::Response) -> Result<Tokens> {
    let status = resp.status();
    let text = resp.text().await?;
    if !status.is_success() {
        bail!("token endpoint {status}: {text}");
    }
    Ok(serde_json::from_str(&text)?)
}

/// Decodes the payload of a JWT without checking it (the tests inspect claims only).
pub fn jwt_claims(jwt: &str) -> Result<serde_json::Value> {
    let payload = jwt.split('.').nth(1).ok_or_else(|| anyhow!("not a JWT"))?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload)?;
    Ok(serde_json::from_slice(&bytes)?)
}

fn find_attr(body: &str, prefix: &str) -> Option<String> {
    find_after(body, prefix)
}

fn find_after(body: &str, prefix: &str) -> Option<String> {
    let start = body.find(prefix)? + prefix.len();
    let end = body[start..].find('"')? + start;
    Some(body[start..end].to_owned())
}

fn tail(s: &str) -> &str {
    let n = s.len().saturating_sub(600);
    let mut i = n;
    while !s.is_char_boundary(i) {
        i += 1;
    }
    &s[i..]
}
