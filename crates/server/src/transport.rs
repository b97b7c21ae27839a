//! Transport security: what the server speaks to browsers (native TLS, optional) and what it
//! demands of the services it talks to. Plain-text links to storage, mail and the database are
//! refused at start (`http://` S3 endpoints, SMTP without TLS, PostgreSQL without
//! `sslmode=require` or stronger) unless `allow_insecure_transport = true`, which test set-ups
//! on loopback use; then each is named in a warning at start.

use std::path::Path;
use std::sync::Arc;

use crate::config::{Config, TlsConfig};
use anyhow::Context;
use medvault_engine::BucketConfig;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use secrecy::ExposeSecret;

/// Every plain-text link the configuration asks for, in words.
pub fn insecure_links(config: &Config) -> Vec<String> {
    let mut links = Vec::new();
    for bucket in &config.effective_storage().buckets {
        if let BucketConfig::S3 {
            name,
            endpoint: Some(endpoint),
            ..
        } = bucket
            && endpoint.trim().to_ascii_lowercase().starts_with("http://")
        {
            links.push(format!("S3 bucket {name} over plain http ({endpoint})"));
        }
    }
    if let Some(smtp) = &config.smtp
        && smtp.security == "none"
    {
        links.push(format!("SMTP to {} without TLS", smtp.host));
    }
    let url = config.effective_database_url();
    let url = url.expose_secret();
    if is_postgres(url) && !requires_tls(url) {
        links.push("PostgreSQL without sslmode=require".to_owned());
    }
    links
}

fn is_postgres(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

/// Whether a PostgreSQL URL insists on TLS (`sslmode` of `require`, `verify-ca` or
/// `verify-full`).
fn requires_tls(url: &str) -> bool {
    let query = url.split_once('?').map_or("", |(_, q)| q);
    query.split('&').any(|pair| {
        matches!(
            pair.split_once('='),
            Some(("sslmode", "require" | "verify-ca" | "verify-full"))
        )
    })
}

/// Refuses plain-text links unless the configuration allows them; warns about each allowed one.
pub fn check(config: &Config) -> anyhow::Result<()> {
    let links = insecure_links(config);
    if links.is_empty() {
        return Ok(());
    }
    anyhow::ensure!(
        config.allow_insecure_transport,
        "refusing plain-text transport: {}; use TLS, or set allow_insecure_transport = true \
         (loopback test set-ups only)",
        links.join("; ")
    );
    for link in &links {
        tracing::warn!(link = %link, "plain-text transport allowed by allow_insecure_transport");
    }
    Ok(())
}

/// The rustls server configuration for `tls`: the certificate chain and key read from their
/// PEM files, TLS 1.2 and 1.3 with rustls's safe defaults, HTTP/1.1.
pub fn server_config(tls: &TlsConfig) -> anyhow::Result<rustls::ServerConfig> {
    let certs = read_certs(&tls.cert_path)?;
    let key = PrivateKeyDer::from_pem_file(&tls.key_path)
        .with_context(|| format!("reading the TLS key {}", tls.key_path.display()))?;
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut server = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .context("TLS protocol versions")?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .context("the TLS certificate and key do not match or are invalid")?;
    server.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(server)
}

fn read_certs(path: &Path) -> anyhow::Result<Vec<CertificateDer<'static>>> {
    let certs = CertificateDer::pem_file_iter(path)
        .with_context(|| format!("reading the TLS certificate {}", path.display()))?
        .collect::<Result<Vec<_>, _>>()
        .with_context(|| format!("parsing the TLS certificate {}", path.display()))?;
    anyhow::ensure!(!certs.is_empty(), "no certificate in {}", path.display());
    Ok(certs)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s3(endpoint: &str) -> BucketConfig {
        BucketConfig::S3 {
            name: "b1".into(),
            bucket: "medvault-b1".into(),
            endpoint: Some(endpoint.into()),
            region: "garage".into(),
            path_style: true,
            access_key_id: "id".into(),
            secret_access_key: "secret".to_owned().into(),
            provider: None,
        }
    }

    #[test]
    fn plain_text_links_are_named_and_refused_unless_allowed() {
        let mut config = Config::default();
        assert!(
            insecure_links(&config).is_empty(),
            "the embedded default is local"
        );
        config.storage.buckets = vec![s3("http://127.0.0.1:3900"), s3("https://s3.example")];
        config.database_url = Some("postgres://medvault@db.example/medvault".to_owned().into());
        let links = insecure_links(&config);
        assert_eq!(links.len(), 2, "{links:?}");
        assert!(links[0].contains("b1") && links[0].contains("http://127.0.0.1:3900"));
        assert!(check(&config).is_err());
        config.allow_insecure_transport = true;
        assert!(check(&config).is_ok());

        config.allow_insecure_transport = false;
        config.storage.buckets = vec![s3("https://s3.example")];
        config.database_url = Some(
            "postgres://medvault@db.example/medvault?sslmode=verify-full"
                .to_owned()
                .into(),
        );
        assert!(check(&config).is_ok());
    }

    #[test]
    fn sslmode_must_insist_on_tls() {
        assert!(requires_tls("postgres://h/db?sslmode=require"));
        assert!(requires_tls(
            "postgresql://h/db?application_name=x&sslmode=verify-ca"
        ));
        assert!(!requires_tls("postgres://h/db?sslmode=prefer"));
        assert!(!requires_tls("postgres://h/db"));
    }
}
