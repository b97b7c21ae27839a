//! A real headless Chromium driven over `WebDriver` (chromedriver from Debian) for the browser
//! end-to-end tests: each [`Browser`] is one chromedriver process on a free port; each
//! [`Session`] is one Chromium window with its own fresh profile and download directory.
//!
//! * `MEDVAULT_CHROMEDRIVER` / `MEDVAULT_CHROMIUM`: binaries (default `/usr/bin/chromedriver`,
//!   `/usr/bin/chromium`).
//! * Screenshots go to `<workspace>/target/e2e-screenshots/`; with `MEDVAULT_E2E_UPDATE_DOCS=1`
//!   they are also copied to `docs/screenshots/` for the README.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};
use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;
use tempfile::TempDir;

/// How long any one wait for the page may take before the test fails.
pub const WAIT: Duration = Duration::from_secs(20);

/// A running chromedriver. [`Browser::shutdown`] closes every window it opened and stops it;
/// dropping it stops it too (`SIGTERM` to its own pid, so it quits its browsers, then `SIGKILL`).
pub struct Browser {
    child: Child,
    url: String,
    sessions: std::sync::Mutex<Vec<Client>>,
}

impl Drop for Browser {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            // A plain positive pid: only chromedriver itself is signalled.
            let _ = Command::new("kill")
                .args(["-s", "TERM", &self.child.id().to_string()])
                .status();
            let started = Instant::now();
            while matches!(self.child.try_wait(), Ok(None))
                && started.elapsed() < Duration::from_secs(3)
            {
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// Workspace root (the tests crate's parent).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
}

/// The built SPA: `MEDVAULT_TEST_SPA_DIR`, else `frontend/dist`; fails when it is not built.
pub fn spa_dir() -> Result<PathBuf> {
    let dir = std::env::var_os("MEDVAULT_TEST_SPA_DIR")
        .map_or_else(|| workspace_root().join("frontend/dist"), PathBuf::from);
    if !dir.join("index.html").is_file() {
        bail!(
            "no built SPA in {} (run scripts/build-frontend.sh or make frontend)",
            dir.display()
        );
    }
    Ok(dir)
}

impl Browser {
    /// Starts chromedriver on a free port and waits until it answers.
    pub async fn start() -> Result<Self> {
        let driver = std::env::var("MEDVAULT_CHROMEDRIVER")
            .unwrap_or_else(|_| "/usr/bin/chromedriver".into());
        let port = free_port()?;
        let child = Command::new(&driver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .with_context(|| format!("start {driver} (make test installs chromium-driver)"))?;
        let browser = Self {
            child,
            url: format!("http://127.0.0.1:{port}"),
            sessions: std::sync::Mutex::new(Vec::new()),
        };
        let started = Instant::now();
        loop {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return Ok(browser);
            }
            if started.elapsed() > WAIT {
                bail!("chromedriver did not listen on port {port}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Opens a new headless Chromium window with a fresh profile and download directory.
    pub async fn session(&self, width: u32, height: u32) -> Result<Session> {
        let profile = tempfile::tempdir()?;
        let downloads = tempfile::tempdir()?;
        let chromium =
            std::env::var("MEDVAULT_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
        let caps = json!({
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": chromium,
                "args": [
                    "--headless=new",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-dev-shm-usage",
                    "--disable-background-networking",
                    "--disable-component-update",
                    "--disable-sync",
                    "--disable-default-apps",
                    "--disable-extensions",
                    "--no-first-run",
                    "--no-default-browser-check",
                    "--lang=en-US",
                    format!("--window-size={width},{height}"),
                    format!("--user-data-dir={}", profile.path().display()),
                ],
                "prefs": {
                    "download.default_directory": downloads.path().to_string_lossy(),
                    "download.prompt_for_download": false,
                    "download.directory_upgrade": true,
                    "safebrowsing.enabled": false,
                    "intl.accept_languages": "en-US",
                },
            },
        });
        let serde_json::Value::Object(caps) = caps else {
            bail!("capabilities must be an object");
        };
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        let client = ClientBuilder::new(connector)
            .capabilities(caps)
            .connect(&self.url)
            .await
            .context("open a Chromium session")?;
        client.set_window_size(width, height).await?;
        if let Ok(mut open) = self.sessions.lock() {
            open.push(client.clone());
        }
        Ok(Session {
            client,
            downloads,
            _profile: profile,
        })
    }
}

impl Browser {
    /// Closes every window this driver opened (whether the test passed or not), then stops
    /// chromedriver.
    pub async fn shutdown(self) {
        let open = self
            .sessions
            .lock()
            .map(|mut s| std::mem::take(&mut *s))
            .unwrap_or_default();
        for client in open {
            let _ = client.close().await;
        }
        drop(self);
    }
}

/// One browser window.
pub struct Session {
    /// The `WebDriver` client.
    pub client: Client,
    downloads: TempDir,
    _profile: TempDir,
}

impl Session {
    /// Content-Security-Policy violations the page recorded since it last loaded (`boot.js`
    /// listens for them).
    pub async fn csp_violations(&self) -> Result<Vec<String>> {
        let seen = self
            .client
            .execute("return window.cspViolations || [];", Vec::new())
            .await?;
        Ok(serde_json::from_value(seen)?)
    }

    /// Opens `url`.
    pub async fn goto(&self, url: &str) -> Result<()> {
        self.client.goto(url).await?;
        Ok(())
    }

    /// Waits for an element matching `css` (visible or not).
    pub async fn find(&self, css: &str) -> Result<Element> {
        match self
            .client
            .wait()
            .at_most(WAIT)
            .for_element(Locator::Css(css))
            .await
        {
            Ok(el) => Ok(el),
            Err(e) => Err(self.failure(&format!("waiting for `{css}`: {e}")).await),
        }
    }

    /// An error naming what was awaited, with the page's path and text, and a screenshot
    /// (`target/e2e-screenshots/failure-*.png`) to see what the browser showed.
    async fn failure(&self, what: &str) -> anyhow::Error {
        let path = self.path().await.unwrap_or_default();
        let body = match self.client.find(Locator::Css("body")).await {
            Ok(b) => b.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        };
        let shot = self
            .screenshot(&format!(
                "failure-{}",
                path.trim_matches('/').replace('/', "-")
            ))
            .await
            .map(|p| p.display().to_string())
            .unwrap_or_default();
        anyhow!("{what}\non {path} ({shot}) the page says:\n{body}")
    }

    /// Waits for an element whose text contains `text`, under elements matching `css`.
    pub async fn find_text(&self, css: &str, text: &str) -> Result<Element> {
        let started = Instant::now();
        loop {
            for el in self.client.find_all(Locator::Css(css)).await? {
                if el.text().await.unwrap_or_default().contains(text) {
                    return Ok(el);
                }
            }
            if started.elapsed() > WAIT {
                return Err(self
                    .failure(&format!("no `{css}` containing {text:?} after {WAIT:?}"))
                    .await);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits until nothing matches `css`.
    pub async fn wait_gone(&self, css: &str) -> Result<()> {
        let started = Instant::now();
        while !self.client.find_all(Locator::Css(css)).await?.is_empty() {
            if started.elapsed() > WAIT {
                bail!("`{css}` still present after {WAIT:?}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Ok(())
    }

    /// Clicks the element matching `css`.
    pub async fn click(&self, css: &str) -> Result<()> {
        self.find(css)
            .await?
            .click()
            .await
            .with_context(|| format!("click `{css}`"))?;
        Ok(())
    }

    /// Clicks the first element matching `css` whose text contains `text` (links, buttons).
    pub async fn click_text(&self, css: &str, text: &str) -> Result<()> {
        self.find_text(css, text).await?.click().await?;
        Ok(())
    }

    /// Clears the input matching `css` and types `value` into it.
    pub async fn fill(&self, css: &str, value: &str) -> Result<()> {
        let el = self.find(css).await?;
        el.clear().await?;
        el.send_keys(value)
            .await
            .with_context(|| format!("type into `{css}`"))?;
        Ok(())
    }

    /// The text of the element matching `css`.
    pub async fn text(&self, css: &str) -> Result<String> {
        Ok(self.find(css).await?.text().await?)
    }

    /// The path the browser is on.
    pub async fn path(&self) -> Result<String> {
        Ok(self.client.current_url().await?.path().to_string())
    }

    /// Waits until the browser is on `path`.
    pub async fn wait_path(&self, path: &str) -> Result<()> {
        let started = Instant::now();
        loop {
            let now = self.path().await?;
            if now == path {
                return Ok(());
            }
            if started.elapsed() > WAIT {
                bail!("expected to be on {path}, still on {now}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Saves a PNG of the window as `target/e2e-screenshots/<name>.png` (and in
    /// `docs/screenshots/` when `MEDVAULT_E2E_UPDATE_DOCS` is set).
    pub async fn screenshot(&self, name: &str) -> Result<PathBuf> {
        // Start at the top of the page (a dialog is fixed, so it shows either way), and let
        // rendering settle.
        self.client.execute("window.scrollTo(0, 0)", vec![]).await?;
        tokio::time::sleep(Duration::from_millis(300)).await;
        let png = self.client.screenshot().await?;
        let dir = workspace_root().join("target/e2e-screenshots");
        std::fs::create_dir_all(&dir)?;
        let path = dir.join(format!("{name}.png"));
        std::fs::write(&path, &png)?;
        if std::env::var_os("MEDVAULT_E2E_UPDATE_DOCS").is_some() && !name.starts_with("failure-") {
            let docs = workspace_root().join("docs/screenshots");
            std::fs::create_dir_all(&docs)?;
            std::fs::write(docs.join(format!("{name}.png")), &png)?;
        }
        Ok(path)
    }

    /// Waits for a finished download named `name` in this window's download directory and
    /// returns its bytes.
    pub async fn downloaded(&self, name: &str) -> Result<Vec<u8>> {
        let path = self.downloads.path().join(name);
        let started = Instant::now();
        loop {
            // Chromium writes `<name>.crdownload` first and renames when done.
            if path.is_file() {
                return Ok(std::fs::read(&path)?);
            }
            if started.elapsed() > WAIT {
                let seen: Vec<String> = std::fs::read_dir(self.downloads.path())?
                    .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
                    .collect();
                return Err(anyhow!("no download {name} after {WAIT:?}; found {seen:?}"));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}
