//! A bucket on any S3-compatible service (AWS, `MinIO`, Garage, Ceph) via `aws-sdk-s3`.
//!
//! Transient failures (throttling, 5xx, timeouts, connection resets) are retried by the SDK's
//! standard retry strategy, exponential backoff with jitter from 100 ms capped at 2 s. The
//! attempts and time limits come from `[storage.faults]` ([`S3Limits`]; defaults: 3 attempts,
//! 2 s to connect, 10 s to the first byte of an answer, 30 s per attempt), and the whole
//! operation is limited to the attempts' sum, so a dead or black-holed provider costs bounded
//! time; the engine's circuit breaker and hedged reads keep most operations from waiting even
//! that long. Checksums are verified by the engine (a hash per shard), so the SDK's optional
//! request/response checksums are only used when the operation requires them.

use std::time::{Duration, SystemTime};

use aws_sdk_s3::Client;
use aws_sdk_s3::config::retry::RetryConfig;
use aws_sdk_s3::config::timeout::TimeoutConfig;
use aws_sdk_s3::config::{
    BehaviorVersion, Credentials, Region, RequestChecksumCalculation, ResponseChecksumValidation,
};
use aws_sdk_s3::error::DisplayErrorContext;
use aws_sdk_s3::primitives::ByteStream;
use bytes::Bytes;
use futures_util::FutureExt;
use futures_util::future::BoxFuture;
use secrecy::{ExposeSecret, SecretString};

use super::{BlobStore, ObjectInfo, is_shard_key};
use crate::error::StoreError;

/// Connection settings of one S3 bucket.
#[derive(Debug, Clone)]
pub struct S3Settings {
    /// Bucket name on the service.
    pub bucket: String,
    /// Endpoint URL; `None` = AWS.
    pub endpoint: Option<String>,
    /// Region.
    pub region: String,
    /// Path-style addressing.
    pub path_style: bool,
    /// Access key id.
    pub access_key_id: String,
    /// Secret access key.
    pub secret_access_key: SecretString,
    /// Time limits and attempts.
    pub limits: S3Limits,
}

/// Time limits and attempts of one S3 client (from [`crate::config::FaultConfig`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct S3Limits {
    /// To open a connection.
    pub connect: Duration,
    /// From sending a request to the first byte of the answer.
    pub first_byte: Duration,
    /// One attempt, body included.
    pub attempt: Duration,
    /// Attempts per operation, the first included.
    pub max_attempts: u32,
}

impl From<&crate::config::FaultConfig> for S3Limits {
    fn from(f: &crate::config::FaultConfig) -> Self {
        Self {
            connect: Duration::from_millis(f.connect_timeout_ms),
            first_byte: Duration::from_secs(f.first_byte_timeout_secs),
            attempt: Duration::from_secs(f.attempt_timeout_secs),
            max_attempts: f.max_attempts,
        }
    }
}

impl Default for S3Limits {
    fn default() -> Self {
        Self::from(&crate::config::FaultConfig::default())
    }
}

/// An S3 bucket.
#[derive(Debug, Clone)]
pub struct S3Store {
    client: Client,
    bucket: String,
}

impl S3Store {
    /// Builds a client for the bucket; no network traffic until the first call.
    pub fn new(s: &S3Settings) -> Self {
        let l = s.limits;
        let mut conf = aws_sdk_s3::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new(s.region.clone()))
            .credentials_provider(Credentials::new(
                s.access_key_id.clone(),
                s.secret_access_key.expose_secret().to_owned(),
                None,
                None,
                "medvault-storage-config",
            ))
            .force_path_style(s.path_style)
            .request_checksum_calculation(RequestChecksumCalculation::WhenRequired)
            .response_checksum_validation(ResponseChecksumValidation::WhenRequired)
            .retry_config(
                RetryConfig::standard()
                    .with_max_attempts(l.max_attempts)
                    .with_initial_backoff(Duration::from_millis(100))
                    .with_max_backoff(Duration::from_secs(2)),
            )
            .timeout_config(
                TimeoutConfig::builder()
                    .connect_timeout(l.connect)
                    .read_timeout(l.first_byte)
                    .operation_attempt_timeout(l.attempt)
                    .operation_timeout((l.attempt + Duration::from_secs(2)) * l.max_attempts.max(1))
                    .build(),
            );
        if let Some(ep) = &s.endpoint {
            conf = conf.endpoint_url(ep);
        }
        Self {
            client: Client::from_conf(conf.build()),
            bucket: s.bucket.clone(),
        }
    }
}

fn s3_err<E: std::error::Error + 'static>(e: E) -> StoreError {
    StoreError::S3(DisplayErrorContext(e).to_string())
}

impl BlobStore for S3Store {
    fn put(&self, key: &str, data: Bytes) -> BoxFuture<'_, Result<(), StoreError>> {
        let req = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .body(ByteStream::from(data));
        async move {
            req.send().await.map_err(s3_err)?;
            Ok(())
        }
        .boxed()
    }

    fn get(&self, key: &str, max_len: u64) -> BoxFuture<'_, Result<Bytes, StoreError>> {
        let req = self.client.get_object().bucket(&self.bucket).key(key);
        async move {
            let resp = match req.send().await {
                Ok(r) => r,
                Err(e)
                    if e.as_service_error().is_some_and(
                        aws_sdk_s3::operation::get_object::GetObjectError::is_no_such_key,
                    ) =>
                {
                    return Err(StoreError::NotFound);
                }
                Err(e) => return Err(s3_err(e)),
            };
            if resp
                .content_length()
                .is_some_and(|l| u64::try_from(l).unwrap_or(u64::MAX) > max_len)
            {
                return Err(StoreError::TooLarge(max_len));
            }
            let body = resp.body.collect().await.map_err(s3_err)?.into_bytes();
            if body.len() as u64 > max_len {
                return Err(StoreError::TooLarge(max_len));
            }
            Ok(body)
        }
        .boxed()
    }

    fn delete(&self, key: &str) -> BoxFuture<'_, Result<(), StoreError>> {
        let req = self.client.delete_object().bucket(&self.bucket).key(key);
        async move {
            req.send().await.map_err(s3_err)?;
            Ok(())
        }
        .boxed()
    }

    fn list(&self) -> BoxFuture<'_, Result<Vec<ObjectInfo>, StoreError>> {
        let mut pages = self
            .client
            .list_objects_v2()
            .bucket(&self.bucket)
            .into_paginator()
            .send();
        async move {
            let mut out = Vec::new();
            while let Some(page) = pages.next().await {
                for obj in page.map_err(s3_err)?.contents() {
                    let Some(key) = obj.key().filter(|k| is_shard_key(k)) else {
                        continue;
                    };
                    out.push(ObjectInfo {
                        key: key.to_owned(),
                        size: obj.size().and_then(|s| u64::try_from(s).ok()).unwrap_or(0),
                        // Unknown age counts as "just written": GC then keeps it.
                        modified: obj
                            .last_modified()
                            .and_then(|t| SystemTime::try_from(*t).ok())
                            .unwrap_or_else(SystemTime::now),
                    });
                }
            }
            Ok(out)
        }
        .boxed()
    }

    fn health(&self) -> BoxFuture<'_, Result<(), StoreError>> {
        let req = self.client.head_bucket().bucket(&self.bucket);
        async move {
            req.send().await.map_err(s3_err)?;
            Ok(())
        }
        .boxed()
    }
}
