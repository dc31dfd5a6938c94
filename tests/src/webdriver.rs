//! A small W3C WebDriver client (the few endpoints the GUI tests use), over reqwest.
//!
//! The desktop app is driven through `tauri-driver`, which forwards to `WebKitWebDriver`.

use std::time::Duration;

use anyhow::{anyhow, bail, Context, Result};
use base64::Engine as _;
use serde_json::{json, Value};

/// One WebDriver session.
#[derive(Debug)]
pub struct Session {
    http: reqwest::Client,
    base: String,
    id: String,
}

/// The W3C "element" key in JSON answers.
const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";

impl Session {
    /// Starts the Tauri app `application` through tauri-driver at `driver_url`.
    pub async fn start_tauri(driver_url: &str, application: &str) -> Result<Self> {
        Self::start_tauri_with(driver_url, application, &[]).await
    }

    /// Starts the Tauri app with command-line arguments (e.g. `--config FILE`).
    pub async fn start_tauri_with(
        driver_url: &str,
        application: &str,
        args: &[String],
    ) -> Result<Self> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .build()?;
        let caps = json!({
            "capabilities": { "alwaysMatch": {
                "browserName": "wry",
                "tauri:options": { "application": application, "args": args }
            }}
        });
        let resp: Value = http
            .post(format!("{driver_url}/session"))
            .json(&caps)
            .send()
            .await
            .with_context(|| format!("tauri-driver at {driver_url}"))?
            .json()
            .await?;
        let id = resp["value"]["sessionId"]
            .as_str()
            .ok_or_else(|| anyhow!("no session: {resp}"))?
            .to_owned();
        Ok(Self {
            http,
            base: driver_url.trim_end_matches('/').to_owned(),
            id,
        })
    }

    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<Value> {
        let url = format!("{}/session/{}{}", self.base, self.id, path);
        let mut req = self.http.request(method, &url);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp: Value = req.send().await?.json().await?;
        if let Some(err) = resp["value"].get("error") {
            bail!("webdriver {path}: {err} {}", resp["value"]["message"]);
        }
        Ok(resp["value"].clone())
    }

    /// The document title.
    pub async fn title(&self) -> Result<String> {
        Ok(self
            .call(reqwest::Method::GET, "/title", None)
            .await?
            .as_str()
            .unwrap_or_default()
            .to_owned())
    }

    /// Waits until a CSS selector matches, then returns the element's text.
    pub async fn wait_text(&self, css: &str, timeout: Duration) -> Result<String> {
        let deadline = std::time::Instant::now() + timeout;
        loop {
            let found = self
                .call(
                    reqwest::Method::POST,
                    "/element",
                    Some(json!({"using": "css selector", "value": css})),
                )
                .await;
            if let Ok(el) = found {
                let id = el[ELEMENT_KEY]
                    .as_str()
                    .ok_or_else(|| anyhow!("bad element {el}"))?
                    .to_owned();
                let text = self
                    .call(reqwest::Method::GET, &format!("/element/{id}/text"), None)
                    .await?;
                return Ok(text.as_str().unwrap_or_default().to_owned());
            }
            if std::time::Instant::now() > deadline {
                bail!("no element matches {css}");
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Runs a script in the page and returns its value.
    pub async fn execute(&self, script: &str) -> Result<Value> {
        self.execute_with(script, json!([])).await
    }

    /// Runs a script with arguments (`arguments[0]`, …) and returns its value.
    pub async fn execute_with(&self, script: &str, args: Value) -> Result<Value> {
        self.call(
            reqwest::Method::POST,
            "/execute/sync",
            Some(json!({"script": script, "args": args})),
        )
        .await
    }

    /// Waits until a CSS selector matches; returns the first element's id.
    pub async fn wait_for(&self, css: &str, timeout: Duration) -> Result<String> {
        let deadline = std::time::Instant::now() + timeout;
        loop {
            if let Ok(el) = self
                .call(
                    reqwest::Method::POST,
                    "/element",
                    Some(json!({"using": "css selector", "value": css})),
                )
                .await
            {
                return el[ELEMENT_KEY]
                    .as_str()
                    .map(str::to_owned)
                    .ok_or_else(|| anyhow!("bad element {el}"));
            }
            if std::time::Instant::now() > deadline {
                bail!("no element matches {css} after {timeout:?}");
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Waits until `script` (a JS expression) is truthy; returns its value.
    pub async fn wait_until(&self, script: &str, timeout: Duration) -> Result<Value> {
        let deadline = std::time::Instant::now() + timeout;
        loop {
            let last;
            match self.execute(&format!("return ({script});")).await {
                Ok(v) if !(v.is_null() || v == json!(false) || v == json!(0) || v == json!("")) => {
                    return Ok(v)
                }
                Ok(v) => last = v,
                Err(e) => last = json!(e.to_string()),
            }
            if std::time::Instant::now() > deadline {
                bail!("still false after {timeout:?}: {script} (last: {last})");
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    /// Clicks the first element matching `css` (waiting for it).
    pub async fn click(&self, css: &str, timeout: Duration) -> Result<()> {
        let id = self.wait_for(css, timeout).await?;
        self.call(
            reqwest::Method::POST,
            &format!("/element/{id}/click"),
            Some(json!({})),
        )
        .await
        .with_context(|| format!("click {css}"))?;
        Ok(())
    }

    /// Empties the first input matching `css`.
    pub async fn clear(&self, css: &str, timeout: Duration) -> Result<()> {
        let id = self.wait_for(css, timeout).await?;
        self.call(
            reqwest::Method::POST,
            &format!("/element/{id}/clear"),
            Some(json!({})),
        )
        .await
        .with_context(|| format!("clear {css}"))?;
        Ok(())
    }

    /// Types `text` into the first element matching `css` (for a file input: a path).
    pub async fn type_into(&self, css: &str, text: &str, timeout: Duration) -> Result<()> {
        let id = self.wait_for(css, timeout).await?;
        self.call(
            reqwest::Method::POST,
            &format!("/element/{id}/value"),
            Some(json!({"text": text})),
        )
        .await
        .with_context(|| format!("type into {css}"))?;
        Ok(())
    }

    /// A PNG screenshot of the window.
    pub async fn screenshot(&self) -> Result<Vec<u8>> {
        let v = self.call(reqwest::Method::GET, "/screenshot", None).await?;
        let b64 = v.as_str().ok_or_else(|| anyhow!("no screenshot data"))?;
        Ok(base64::engine::general_purpose::STANDARD.decode(b64)?)
    }

    /// Ends the session (closes the app).
    pub async fn quit(self) -> Result<()> {
        self.http
            .delete(format!("{}/session/{}", self.base, self.id))
            .send()
            .await?;
        Ok(())
    }
}
