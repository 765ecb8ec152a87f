//! TLS material: the configured PEM pair, or a self-signed certificate generated once and kept under
//! `<data_dir>/tls/` so that clients pinning it keep working across restarts. rustls with the aws-lc-rs provider.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::ServerConfig;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

use crate::config::ApiConfig;

/// TLS material that is missing, unreadable or unusable.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// The pair is unusable or inconsistently configured (the message says which file and why).
    #[error("TLS: {0}")]
    Invalid(String),
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The failure.
        source: std::io::Error,
    },
}

impl TlsError {
    fn io(path: &Path, source: std::io::Error) -> TlsError {
        TlsError::Io { path: path.to_path_buf(), source }
    }
}

/// File names of the generated pair inside `<data_dir>/tls/`.
pub const GENERATED_CERT: &str = "cert.pem";
/// See [`GENERATED_CERT`].
pub const GENERATED_KEY: &str = "key.pem";

/// The certificate and key files to use: configured ones, else the generated pair (created when missing).
pub fn cert_paths(cfg: &ApiConfig, data_dir: &Path) -> Result<(PathBuf, PathBuf), TlsError> {
    match (&cfg.tls_cert, &cfg.tls_key) {
        (Some(c), Some(k)) => Ok((c.clone(), k.clone())),
        (None, None) => ensure_self_signed(&data_dir.join("tls"), &cfg.tls_names),
        _ => Err(TlsError::Invalid("set both tls_cert and tls_key, or neither".into())),
    }
}

/// Creates `dir/cert.pem` + `dir/key.pem` (ECDSA P-256, self-signed for localhost, 127.0.0.1, ::1 and `names`)
/// unless both exist.
pub fn ensure_self_signed(dir: &Path, names: &[String]) -> Result<(PathBuf, PathBuf), TlsError> {
    let cert_path = dir.join(GENERATED_CERT);
    let key_path = dir.join(GENERATED_KEY);
    if cert_path.exists() && key_path.exists() {
        return Ok((cert_path, key_path));
    }
    std::fs::create_dir_all(dir).map_err(|e| TlsError::io(dir, e))?;
    let mut sans = vec!["localhost".to_string(), "127.0.0.1".to_string(), "::1".to_string()];
    sans.extend(names.iter().cloned());
    let ck = rcgen::generate_simple_self_signed(sans)
        .map_err(|e| TlsError::Invalid(format!("certificate generation: {e}")))?;
    write_private(&key_path, ck.signing_key.serialize_pem().as_bytes())?;
    std::fs::write(&cert_path, ck.cert.pem()).map_err(|e| TlsError::io(&cert_path, e))?;
    tracing::info!("generated a self-signed TLS certificate at {}", cert_path.display());
    Ok((cert_path, key_path))
}

fn write_private(path: &Path, data: &[u8]) -> Result<(), TlsError> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(path).map_err(|e| TlsError::io(path, e))?;
    f.write_all(data).map_err(|e| TlsError::io(path, e))
}

/// The rustls configuration (aws-lc-rs provider, TLS 1.2 + 1.3, ALPN h2 and http/1.1) for a PEM pair.
pub fn server_config(cert: &Path, key: &Path) -> Result<Arc<ServerConfig>, TlsError> {
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
        .map_err(|e| TlsError::Invalid(format!("{}: {e}", cert.display())))?
        .collect::<Result<_, _>>()
        .map_err(|e| TlsError::Invalid(format!("{}: {e}", cert.display())))?;
    if certs.is_empty() {
        return Err(TlsError::Invalid(format!("{}: no certificate found", cert.display())));
    }
    let key = PrivateKeyDer::from_pem_file(key).map_err(|e| TlsError::Invalid(format!("{}: {e}", key.display())))?;
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsError::Invalid(e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| TlsError::Invalid(format!("certificate/key mismatch or unsupported key: {e}")))?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}
