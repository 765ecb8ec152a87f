//! The repository `config` object and the options chosen at [`crate::store::Repository::init`].
//!
//! `config` is JSON so that an operator can see what a repository is (format, version, parameters)
//! without the password. It contains the random master key only wrapped (AES-256-GCM) under a key
//! derived from the password with Argon2id.

use serde::{Deserialize, Serialize};

use super::crypto::{self, AeadKey, KdfParams};
use super::error::{Result, StoreError};

/// Format version this build reads and writes.
pub const FORMAT_VERSION: u32 = 1;
/// Value of the `format` field, identifying a vault365 repository.
pub(crate) const FORMAT_NAME: &str = "vault365-repository";

/// FastCDC (v2020) chunk size bounds in bytes.
///
/// Fixed per repository: changing them moves every cut point and defeats deduplication.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChunkerParams {
    /// Minimum chunk size (content smaller than this is one chunk).
    pub min_size: u32,
    /// Target average chunk size.
    pub avg_size: u32,
    /// Maximum chunk size.
    pub max_size: u32,
}

impl Default for ChunkerParams {
    /// 256 KiB / 1 MiB / 4 MiB.
    fn default() -> Self {
        ChunkerParams { min_size: 256 * 1024, avg_size: 1024 * 1024, max_size: 4 * 1024 * 1024 }
    }
}

impl ChunkerParams {
    /// Checks the bounds the fastcdc crate asserts on (it would panic otherwise) and their order.
    pub fn validate(&self) -> Result<()> {
        use fastcdc::v2020::{AVERAGE_MAX, AVERAGE_MIN, MAXIMUM_MAX, MAXIMUM_MIN, MINIMUM_MAX, MINIMUM_MIN};
        let ok = (MINIMUM_MIN..=MINIMUM_MAX).contains(&self.min_size)
            && (AVERAGE_MIN..=AVERAGE_MAX).contains(&self.avg_size)
            && (MAXIMUM_MIN..=MAXIMUM_MAX).contains(&self.max_size)
            && self.min_size <= self.avg_size
            && self.avg_size <= self.max_size;
        if ok {
            Ok(())
        } else {
            Err(StoreError::InvalidOptions(format!(
                "chunk sizes min={} avg={} max={} must satisfy {MINIMUM_MIN}<=min<={MINIMUM_MAX}, \
                 {AVERAGE_MIN}<=avg<={AVERAGE_MAX}, {MAXIMUM_MIN}<=max<={MAXIMUM_MAX}, min<=avg<=max",
                self.min_size, self.avg_size, self.max_size
            )))
        }
    }
}

/// Options for [`crate::store::Repository::init_with`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InitOptions {
    /// Password key-derivation cost.
    pub kdf: KdfParams,
    /// Chunk size bounds (stored in config; fixed for the repository's life).
    pub chunker: ChunkerParams,
    /// Target pack size in bytes; a pack is uploaded once it reaches this size.
    pub pack_size: u32,
    /// zstd compression level (1..=22).
    pub compression_level: i32,
}

impl Default for InitOptions {
    fn default() -> Self {
        InitOptions {
            kdf: KdfParams::default(),
            chunker: ChunkerParams::default(),
            pack_size: 16 * 1024 * 1024,
            compression_level: 3,
        }
    }
}

impl InitOptions {
    /// Defaults with a deliberately cheap password KDF (256 KiB, 1 pass).
    ///
    /// For tests only: it makes brute-forcing the password cheap.
    pub fn insecure_fast_kdf() -> Self {
        InitOptions { kdf: KdfParams { memory_kib: 256, iterations: 1, parallelism: 1 }, ..Self::default() }
    }

    pub(crate) fn validate(&self) -> Result<()> {
        self.kdf.validate()?;
        self.chunker.validate()?;
        if !(64 * 1024..=1024 * 1024 * 1024).contains(&self.pack_size) {
            return Err(StoreError::InvalidOptions(format!("pack size {} not in 64 KiB..=1 GiB", self.pack_size)));
        }
        if !(1..=22).contains(&self.compression_level) {
            return Err(StoreError::InvalidOptions(format!("zstd level {} not in 1..=22", self.compression_level)));
        }
        Ok(())
    }
}

/// Stored Argon2id section of the config.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct KdfSection {
    pub(crate) algorithm: String,
    #[serde(flatten)]
    pub(crate) params: KdfParams,
    /// Hex salt (16 random bytes).
    pub(crate) salt: String,
}

/// The `config` object as stored (JSON).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct Config {
    pub(crate) format: String,
    pub(crate) version: u32,
    /// Random repository id (hex, 32 bytes).
    pub(crate) id: String,
    pub(crate) created: chrono::DateTime<chrono::Utc>,
    pub(crate) chunker: ChunkerParams,
    pub(crate) pack_size: u32,
    pub(crate) compression_level: i32,
    /// AEAD of every chunk, trailer and index object.
    pub(crate) cipher: String,
    pub(crate) kdf: KdfSection,
    /// Hex frame `nonce || AES-256-GCM(master key) || tag` under the password key.
    pub(crate) wrapped_master_key: String,
}

const CIPHER: &str = "aes-256-gcm";
const KDF_ALGORITHM: &str = "argon2id-v19";

impl Config {
    /// Creates a config with a fresh repository id, salt and master key; returns it with the master key.
    pub(crate) fn create(password: &[u8], opts: &InitOptions) -> Result<(Config, [u8; 32])> {
        opts.validate()?;
        let id = hex::encode(crypto::random::<32>()?);
        let salt: [u8; 16] = crypto::random()?;
        let master: [u8; 32] = crypto::random()?;
        let kek = AeadKey::new(&crypto::password_kek(password, &salt, &opts.kdf)?)?;
        let wrapped = kek.seal(&wrap_aad(&id), &master)?;
        let config = Config {
            format: FORMAT_NAME.into(),
            version: FORMAT_VERSION,
            id,
            created: chrono::Utc::now(),
            chunker: opts.chunker,
            pack_size: opts.pack_size,
            compression_level: opts.compression_level,
            cipher: CIPHER.into(),
            kdf: KdfSection { algorithm: KDF_ALGORITHM.into(), params: opts.kdf.clone(), salt: hex::encode(salt) },
            wrapped_master_key: hex::encode(wrapped),
        };
        Ok((config, master))
    }

    /// Parses and validates a stored config (without the password).
    pub(crate) fn parse(bytes: &[u8]) -> Result<Config> {
        let value: serde_json::Value = serde_json::from_slice(bytes)
            .map_err(|e| StoreError::NotARepository(format!("config is not JSON: {e}")))?;
        if value.get("format").and_then(|f| f.as_str()) != Some(FORMAT_NAME) {
            return Err(StoreError::NotARepository(format!("config format is not {FORMAT_NAME:?}")));
        }
        // Check the version before the full shape so a newer format gets the precise error.
        let version = value.get("version").and_then(|v| v.as_u64()).unwrap_or(0);
        if version != u64::from(FORMAT_VERSION) {
            return Err(StoreError::UnsupportedVersion {
                found: u32::try_from(version).unwrap_or(u32::MAX),
                supported: FORMAT_VERSION,
            });
        }
        let config: Config =
            serde_json::from_value(value).map_err(|e| StoreError::corrupt("config", format!("invalid config: {e}")))?;
        if config.cipher != CIPHER || config.kdf.algorithm != KDF_ALGORITHM {
            return Err(StoreError::corrupt(
                "config",
                format!("unsupported cipher {:?} or kdf {:?}", config.cipher, config.kdf.algorithm),
            ));
        }
        InitOptions {
            kdf: config.kdf.params.clone(),
            chunker: config.chunker,
            pack_size: config.pack_size,
            compression_level: config.compression_level,
        }
        .validate()?;
        Ok(config)
    }

    /// Unwraps the master key with the password (Argon2id; run on a blocking thread).
    pub(crate) fn unwrap_master(&self, password: &[u8]) -> Result<[u8; 32]> {
        let salt = hex::decode(&self.kdf.salt).map_err(|e| StoreError::corrupt("config", format!("salt: {e}")))?;
        if salt.len() < 8 {
            return Err(StoreError::corrupt("config", "salt shorter than 8 bytes"));
        }
        let wrapped = hex::decode(&self.wrapped_master_key)
            .map_err(|e| StoreError::corrupt("config", format!("wrapped key: {e}")))?;
        let kek = AeadKey::new(&crypto::password_kek(password, &salt, &self.kdf.params)?)?;
        // An authentication failure here means the password is wrong (or the config was edited;
        // the two cannot be told apart by design).
        let master = kek.open(&wrap_aad(&self.id), &wrapped).map_err(|_| StoreError::WrongPassword)?;
        master.try_into().map_err(|_| StoreError::corrupt("config", "master key has the wrong length"))
    }
}

/// Associated data of the wrapped master key: binds it to this repository id.
fn wrap_aad(id: &str) -> Vec<u8> {
    format!("vault365 master key v1 {id}").into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cheap() -> InitOptions {
        InitOptions::insecure_fast_kdf()
    }

    #[test]
    fn create_parse_unwrap() {
        let (config, master) = Config::create(b"secret", &cheap()).unwrap();
        let json = serde_json::to_vec(&config).unwrap();
        let parsed = Config::parse(&json).unwrap();
        assert_eq!(parsed.unwrap_master(b"secret").unwrap(), master);
        assert!(matches!(parsed.unwrap_master(b"Secret"), Err(StoreError::WrongPassword)));
    }

    #[test]
    fn parse_rejects_foreign_newer_and_tampered_configs() {
        assert!(matches!(Config::parse(b"not json"), Err(StoreError::NotARepository(_))));
        assert!(matches!(Config::parse(br#"{"format":"restic"}"#), Err(StoreError::NotARepository(_))));
        let (config, _) = Config::create(b"pw", &cheap()).unwrap();
        let mut v = serde_json::to_value(&config).unwrap();
        v["version"] = 2.into();
        let err = Config::parse(&serde_json::to_vec(&v).unwrap()).unwrap_err();
        assert!(matches!(err, StoreError::UnsupportedVersion { found: 2, supported: 1 }), "{err}");
        let mut v = serde_json::to_value(&config).unwrap();
        v["chunker"]["max_size"] = 1.into();
        assert!(matches!(Config::parse(&serde_json::to_vec(&v).unwrap()), Err(StoreError::InvalidOptions(_))));
        let mut v = serde_json::to_value(&config).unwrap();
        v["kdf"]["memory_kib"] = u32::MAX.into();
        assert!(matches!(Config::parse(&serde_json::to_vec(&v).unwrap()), Err(StoreError::InvalidOptions(_))));
        // Renaming the repository (changing the id) invalidates the wrapped key.
        let mut renamed = config.clone();
        renamed.id = hex::encode([0u8; 32]);
        assert!(matches!(renamed.unwrap_master(b"pw"), Err(StoreError::WrongPassword)));
    }

    #[test]
    fn options_are_validated() {
        assert!(InitOptions::default().validate().is_ok());
        let bad = InitOptions { chunker: ChunkerParams { min_size: 8, avg_size: 16, max_size: 32 }, ..cheap() };
        assert!(matches!(bad.validate(), Err(StoreError::InvalidOptions(_))));
        let bad = InitOptions { chunker: ChunkerParams { min_size: 4096, avg_size: 2048, max_size: 65536 }, ..cheap() };
        assert!(bad.validate().is_err(), "min > avg");
        assert!(InitOptions { pack_size: 10, ..cheap() }.validate().is_err());
        assert!(InitOptions { compression_level: 0, ..cheap() }.validate().is_err());
    }
}
