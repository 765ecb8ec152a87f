//! S3-compatible object storage as a repository backend (AWS S3, MinIO, Ceph RGW, s3s, ...).
//!
//! The repository layout is the same as on a local directory; only the [`ObjectStore`] handed to
//! [`crate::store::Repository::open`] / [`crate::store::Repository::init`] changes. Several processes (server nodes)
//! may open the same bucket: packs and index objects are named by random ids, so concurrent writers never overwrite
//! each other, and [`crate::store::Repository::refresh_index`] picks up what other nodes stored.

use std::sync::Arc;

use object_store::aws::{AmazonS3Builder, S3ConditionalPut};
use object_store::prefix::PrefixStore;
use object_store::ObjectStore;

use super::error::{Result, StoreError};

/// Region used when none is configured (most S3-compatible servers ignore it, but requests are signed with it).
pub const DEFAULT_REGION: &str = "us-east-1";

/// Where and how to reach an S3-compatible bucket. Build a store from it with [`s3_store`].
#[derive(Clone, PartialEq, Eq)]
pub struct S3Config {
    /// Bucket name (must exist; the repository never creates buckets).
    pub bucket: String,
    /// Endpoint URL of an S3-compatible server, e.g. `http://127.0.0.1:9000`; `None` = AWS S3 of [`Self::region`].
    pub endpoint: Option<String>,
    /// Region the requests are signed for ([`DEFAULT_REGION`] when unsure).
    pub region: String,
    /// Access key id.
    pub access_key: String,
    /// Secret access key (never printed by `Debug`).
    pub secret_key: String,
    /// Allow a plain-HTTP endpoint (test servers, a trusted private network). HTTPS otherwise.
    pub allow_http: bool,
    /// Optional key prefix inside the bucket, so several repositories can share one bucket (`None` = bucket root).
    pub prefix: Option<String>,
}

impl std::fmt::Debug for S3Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3Config")
            .field("bucket", &self.bucket)
            .field("endpoint", &self.endpoint)
            .field("region", &self.region)
            .field("access_key", &self.access_key)
            .field("secret_key", &"<redacted>")
            .field("allow_http", &self.allow_http)
            .field("prefix", &self.prefix)
            .finish()
    }
}

impl S3Config {
    /// Parses the compact form `s3://KEY:SECRET@HOST[:PORT]/BUCKET[/PREFIX…][?region=R]` (HTTPS endpoint) or
    /// `s3+http://…` (plain HTTP, `allow_http`). Key and secret are percent-decoded. Used for test-server settings
    /// (`VAULT365_TEST_S3`) and anywhere one string is more convenient than a table.
    ///
    /// Fails with [`StoreError::InvalidOptions`] when a part is missing.
    pub fn from_url(url: &str) -> Result<S3Config> {
        let bad = |why: &str| StoreError::InvalidOptions(format!("S3 URL {}: {why}", redact_url(url)));
        let parsed = url::Url::parse(url).map_err(|e| bad(&e.to_string()))?;
        let allow_http = match parsed.scheme() {
            "s3" => false,
            "s3+http" => true,
            other => return Err(bad(&format!("scheme must be s3:// or s3+http://, not {other}://"))),
        };
        let host = parsed.host_str().filter(|h| !h.is_empty()).ok_or_else(|| bad("no host"))?;
        let endpoint = match parsed.port() {
            Some(p) => format!("{}://{host}:{p}", if allow_http { "http" } else { "https" }),
            None => format!("{}://{host}", if allow_http { "http" } else { "https" }),
        };
        let decode = |s: &str| percent_encoding::percent_decode_str(s).decode_utf8_lossy().into_owned();
        let access_key = decode(parsed.username());
        let secret_key = decode(parsed.password().unwrap_or(""));
        if access_key.is_empty() || secret_key.is_empty() {
            return Err(bad("KEY:SECRET@ missing"));
        }
        let mut segments = parsed.path().trim_matches('/').splitn(2, '/');
        let bucket = segments.next().filter(|b| !b.is_empty()).ok_or_else(|| bad("no bucket"))?.to_string();
        let prefix = segments.next().map(|p| p.trim_matches('/').to_string()).filter(|p| !p.is_empty());
        let region = parsed
            .query_pairs()
            .find(|(k, _)| k == "region")
            .map(|(_, v)| v.into_owned())
            .unwrap_or_else(|| DEFAULT_REGION.to_string());
        Ok(S3Config { bucket, endpoint: Some(endpoint), region, access_key, secret_key, allow_http, prefix })
    }
}

/// Hides the secret of an `s3://KEY:SECRET@…` URL for error messages.
fn redact_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        Ok(u) => u.to_string(),
        Err(_) => "(unparsable)".into(),
    }
}

/// Opens an S3-compatible bucket as an object store for [`crate::store::Repository`].
///
/// Path-style requests (works with every S3-compatible server), `If-None-Match` conditional puts (so a second
/// `Repository::init` on the same bucket fails with `AlreadyInitialized` instead of overwriting the key), and
/// object_store's default retry policy (exponential back-off on 5xx and connection errors). TLS through rustls with
/// aws-lc-rs. No request is sent here: a wrong endpoint or credential surfaces at the first operation as
/// [`StoreError::Backend`].
pub fn s3_store(cfg: &S3Config) -> Result<Arc<dyn ObjectStore>> {
    if cfg.bucket.is_empty() {
        return Err(StoreError::InvalidOptions("S3 bucket name is empty".into()));
    }
    let mut builder = AmazonS3Builder::new()
        .with_bucket_name(&cfg.bucket)
        .with_region(if cfg.region.is_empty() { DEFAULT_REGION } else { &cfg.region })
        .with_access_key_id(&cfg.access_key)
        .with_secret_access_key(&cfg.secret_key)
        .with_allow_http(cfg.allow_http)
        .with_virtual_hosted_style_request(false)
        .with_conditional_put(S3ConditionalPut::ETagMatch);
    if let Some(endpoint) = &cfg.endpoint {
        if endpoint.starts_with("http://") && !cfg.allow_http {
            return Err(StoreError::InvalidOptions(format!(
                "S3 endpoint {endpoint} is plain HTTP: set allow_http to use it"
            )));
        }
        builder = builder.with_endpoint(endpoint);
    }
    let store = builder.build()?;
    Ok(match cfg.prefix.as_deref().map(|p| p.trim_matches('/')).filter(|p| !p.is_empty()) {
        Some(prefix) => Arc::new(PrefixStore::new(store, prefix)),
        None => Arc::new(store),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compact_urls_parse_and_hide_the_secret() {
        let c = S3Config::from_url("s3+http://AK:s%2Fcret@127.0.0.1:9000/bucket/some/prefix?region=eu-west-1").unwrap();
        assert_eq!(c.bucket, "bucket");
        assert_eq!(c.endpoint.as_deref(), Some("http://127.0.0.1:9000"));
        assert_eq!(c.region, "eu-west-1");
        assert_eq!((c.access_key.as_str(), c.secret_key.as_str()), ("AK", "s/cret"));
        assert!(c.allow_http);
        assert_eq!(c.prefix.as_deref(), Some("some/prefix"));
        assert!(!format!("{c:?}").contains("s/cret"));

        let c = S3Config::from_url("s3://AK:SK@s3.example.com/b").unwrap();
        assert_eq!(c.endpoint.as_deref(), Some("https://s3.example.com"));
        assert!(!c.allow_http);
        assert_eq!((c.region.as_str(), c.prefix.as_deref()), (DEFAULT_REGION, None));
    }

    #[test]
    fn incomplete_urls_and_configs_are_errors() {
        for bad in ["http://AK:SK@h/b", "s3://h/b", "s3://AK:SK@h", "s3://AK:SK@h/", "not a url"] {
            let e = S3Config::from_url(bad).unwrap_err();
            assert!(matches!(e, StoreError::InvalidOptions(_)), "{bad}: {e}");
            assert!(!e.to_string().contains("SK@"), "secret leaked: {e}");
        }
        let mut c = S3Config::from_url("s3+http://AK:SK@127.0.0.1:1/b").unwrap();
        c.allow_http = false;
        assert!(matches!(s3_store(&c), Err(StoreError::InvalidOptions(_))));
        c.bucket.clear();
        assert!(matches!(s3_store(&c), Err(StoreError::InvalidOptions(_))));
    }
}
