//! Configuration: a TOML file (optional) with environment overrides, so the same binary runs a
//! laptop demo and a server. Secrets never live in the file itself, only paths to them.
//!
//! ```toml
//! data_dir = "/var/lib/vault365"
//! catalog_url = "sqlite:///var/lib/vault365/catalog.db?mode=rwc"   # default: in data_dir
//! [repository]
//! path = "/var/lib/vault365/repository"                          # default: in data_dir
//! password_file = "/etc/vault365/repository.password"            # or VAULT365_REPO_PASSWORD
//! # [repository.s3]                                              # instead of `path`: an S3-compatible bucket
//! # bucket = "vault365"
//! # endpoint = "https://s3.example.internal:9000"                # omit for AWS S3 (then `region` picks it)
//! # region = "us-east-1"
//! # access_key = "AKIA…"
//! # secret_key_file = "/etc/vault365/s3.secret"                  # or VAULT365_S3_SECRET_KEY
//! # allow_http = false                                           # true only for a plain-HTTP endpoint
//! # prefix = "vault365"                                          # optional key prefix inside the bucket
//! [api]                                                          # `vault365 serve`; see api::ApiConfig
//! listen = "0.0.0.0:4443"                                        # or VAULT365_API_LISTEN
//! tls_cert = "/etc/vault365/api.crt"                             # omit both: self-signed in data_dir/tls/
//! tls_key = "/etc/vault365/api.key"
//! ```

use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use serde::Deserialize;

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RepositoryConfig {
    pub path: Option<PathBuf>,
    pub password_file: Option<PathBuf>,
    /// The repository on an S3-compatible bucket instead of `path` (every node of a cluster uses the same one).
    pub s3: Option<S3Settings>,
}

/// `[repository.s3]`: where the bucket is and how to sign requests. The secret key comes from
/// `VAULT365_S3_SECRET_KEY` or `secret_key_file`, never from the file itself.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct S3Settings {
    pub bucket: String,
    /// `https://host:port` of an S3-compatible server; omitted = AWS S3.
    pub endpoint: Option<String>,
    /// Default `us-east-1`.
    pub region: Option<String>,
    pub access_key: String,
    pub secret_key_file: Option<PathBuf>,
    #[serde(default)]
    pub allow_http: bool,
    /// Key prefix inside the bucket (several repositories per bucket).
    pub prefix: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default = "default_data_dir")]
    pub data_dir: PathBuf,
    pub catalog_url: Option<String>,
    #[serde(default)]
    pub repository: RepositoryConfig,
    /// The REST API server (`vault365 serve`).
    #[serde(default)]
    pub api: api::ApiConfig,
    /// `VAULT365_REPOSITORY_S3`, which wins over `[repository.s3]` and `path`.
    #[serde(skip)]
    pub s3_url: Option<String>,
}

fn default_data_dir() -> PathBuf {
    PathBuf::from("vault365-data")
}

impl Config {
    /// Read `file` (if given), then apply `VAULT365_DATA_DIR`, `VAULT365_CATALOG_URL`,
    /// `VAULT365_REPOSITORY` (a directory), `VAULT365_REPOSITORY_S3` (a bucket as
    /// `s3://KEY:SECRET@host[:port]/bucket[/prefix][?region=…]`, `s3+http://` for plain HTTP; replaces
    /// `[repository.s3]`).
    pub fn load(file: Option<&Path>) -> anyhow::Result<Config> {
        let mut cfg: Config = match file {
            Some(f) => {
                let text = std::fs::read_to_string(f).with_context(|| format!("reading config {}", f.display()))?;
                toml::from_str(&text).with_context(|| format!("config {}", f.display()))?
            }
            None => toml::from_str("").expect("empty config parses"),
        };
        if let Ok(d) = std::env::var("VAULT365_DATA_DIR") {
            cfg.data_dir = PathBuf::from(d);
        }
        if let Ok(u) = std::env::var("VAULT365_CATALOG_URL") {
            cfg.catalog_url = Some(u);
        }
        if let Ok(p) = std::env::var("VAULT365_REPOSITORY") {
            cfg.repository.path = Some(PathBuf::from(p));
        }
        if let Ok(u) = std::env::var("VAULT365_REPOSITORY_S3") {
            // Checked here so a typo fails at start-up; the parsed form is rebuilt by `s3_config`.
            repo::store::S3Config::from_url(&u).context("VAULT365_REPOSITORY_S3")?;
            cfg.s3_url = Some(u);
        }
        if let Ok(l) = std::env::var("VAULT365_API_LISTEN") {
            cfg.api.listen = l.parse().with_context(|| format!("VAULT365_API_LISTEN={l} is not an address"))?;
        }
        Ok(cfg)
    }

    pub fn catalog_url(&self) -> String {
        self.catalog_url
            .clone()
            .unwrap_or_else(|| format!("sqlite://{}?mode=rwc", self.data_dir.join("catalog.db").display()))
    }

    pub fn repository_path(&self) -> PathBuf {
        self.repository.path.clone().unwrap_or_else(|| self.data_dir.join("repository"))
    }

    /// The S3 bucket of the repository, when one is configured (`VAULT365_REPOSITORY_S3` or `[repository.s3]`);
    /// `None` = the local directory [`Config::repository_path`].
    pub fn s3_config(&self) -> anyhow::Result<Option<repo::store::S3Config>> {
        if let Some(url) = &self.s3_url {
            return Ok(Some(repo::store::S3Config::from_url(url)?));
        }
        let Some(s3) = &self.repository.s3 else { return Ok(None) };
        if self.repository.path.is_some() {
            bail!("the repository has both `path` and `[repository.s3]`: keep one");
        }
        let secret_key = match std::env::var("VAULT365_S3_SECRET_KEY") {
            Ok(k) => k,
            Err(_) => match &s3.secret_key_file {
                Some(f) => std::fs::read_to_string(f)
                    .with_context(|| format!("reading S3 secret key file {}", f.display()))?
                    .trim_end_matches(['\r', '\n'])
                    .to_string(),
                None => bail!("S3 secret key missing: set VAULT365_S3_SECRET_KEY or repository.s3.secret_key_file"),
            },
        };
        Ok(Some(repo::store::S3Config {
            bucket: s3.bucket.clone(),
            endpoint: s3.endpoint.clone(),
            region: s3.region.clone().unwrap_or_else(|| repo::store::DEFAULT_REGION.to_string()),
            access_key: s3.access_key.clone(),
            secret_key,
            allow_http: s3.allow_http,
            prefix: s3.prefix.clone(),
        }))
    }

    /// Where organization credentials (app secrets, certificate keys) are kept, mode 0600.
    pub fn credentials_dir(&self) -> PathBuf {
        self.data_dir.join("credentials")
    }

    /// Where [`Config::repository_password`] reads the password from, in words.
    pub fn repository_password_source(&self) -> String {
        match (&std::env::var("VAULT365_REPO_PASSWORD"), &self.repository.password_file) {
            (Ok(_), _) => "the environment variable VAULT365_REPO_PASSWORD".into(),
            (Err(_), Some(f)) => format!("the file {}", f.display()),
            (Err(_), None) => "nowhere (no password is configured)".into(),
        }
    }

    /// The repository password: `VAULT365_REPO_PASSWORD`, else `repository.password_file`.
    pub fn repository_password(&self) -> anyhow::Result<String> {
        if let Ok(p) = std::env::var("VAULT365_REPO_PASSWORD") {
            return Ok(p);
        }
        if let Some(f) = &self.repository.password_file {
            let p = std::fs::read_to_string(f).with_context(|| format!("reading password file {}", f.display()))?;
            return Ok(p.trim_end_matches(['\r', '\n']).to_string());
        }
        bail!("repository password missing: set VAULT365_REPO_PASSWORD or repository.password_file in the config")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Config {
        toml::from_str(text).unwrap()
    }

    #[test]
    fn repository_on_s3_reads_the_secret_from_its_file() {
        let dir = tempfile::tempdir().unwrap();
        let secret = dir.path().join("s3.secret");
        std::fs::write(&secret, "the-secret\n").unwrap();
        let cfg = parse(&format!(
            "[repository.s3]\nbucket = \"b\"\nendpoint = \"http://127.0.0.1:9000\"\naccess_key = \"AK\"\n\
             secret_key_file = {:?}\nallow_http = true\nprefix = \"p\"\n",
            secret.display().to_string()
        ));
        let s3 = cfg.s3_config().unwrap().unwrap();
        assert_eq!((s3.bucket.as_str(), s3.access_key.as_str(), s3.secret_key.as_str()), ("b", "AK", "the-secret"));
        assert_eq!((s3.region.as_str(), s3.prefix.as_deref(), s3.allow_http), ("us-east-1", Some("p"), true));
        assert_eq!(s3.endpoint.as_deref(), Some("http://127.0.0.1:9000"));
    }

    #[test]
    fn repository_location_mistakes_are_reported() {
        assert!(parse("").s3_config().unwrap().is_none(), "default: a local directory");
        let both = parse("[repository]\npath = \"/r\"\n[repository.s3]\nbucket = \"b\"\naccess_key = \"AK\"\n");
        assert!(both.s3_config().unwrap_err().to_string().contains("both"));
        let missing =
            parse("[repository.s3]\nbucket = \"b\"\naccess_key = \"AK\"\nsecret_key_file = \"/nonexistent/s\"\n");
        assert!(missing.s3_config().unwrap_err().to_string().contains("/nonexistent/s"));
        assert!(
            toml::from_str::<Config>("[repository.s3]\nbucket = \"b\"\naccess_key = \"AK\"\nsecret_key = \"x\"\n")
                .is_err(),
            "a secret in the file itself is refused"
        );
    }
}
