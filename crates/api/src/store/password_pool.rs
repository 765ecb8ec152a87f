//! Password hashing with bounded memory and concurrency.
//!
//! argon2id with the crate's defaults needs 19 MiB of working memory per hash. Hashing on a fresh allocation per
//! request, on its own blocking thread, let anonymous `POST /token` floods grow the process without limit (100
//! concurrent wrong logons: 107 MiB → 2.2 GiB, and glibc kept most of it after the flood). Here at most
//! [`slots`] hashes run at once, each in one of at most [`slots`] working buffers that are allocated on first use and
//! then reused for the life of the process. A caller waits for a free slot up to [`MAX_WAIT`]; after that it gets
//! [`PoolBusy`] (the token endpoint answers 503 with `Retry-After`).
//!
//! Every argon2 computation of the API goes through here: verifying a logon, the decoy computation for unknown
//! names, and hashing new passwords (`user add`, `set_password`).

use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use argon2::password_hash::{PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// At most this many hashes at once (fewer on smaller machines): hashing is CPU-bound, more parallel hashes than
/// cores only add memory, and 4 × 19 MiB keeps the worst case small next to the rest of the server.
const MAX_SLOTS: usize = 4;

/// How long a logon waits for a free slot before it is refused with 503. Long enough to ride out a short burst of
/// legitimate logons (a hash takes tens of milliseconds), short enough that a client gets an answer before its own
/// HTTP timeout.
pub const MAX_WAIT: Duration = Duration::from_secs(10);

/// The largest argon2 memory cost accepted from a stored hash, in KiB (64 MiB). Hashes written by this build use
/// 19 MiB; a corrupt or hostile row must not make one verification allocate gigabytes.
const MAX_M_COST_KIB: u32 = 64 * 1024;

/// No slot became free within [`MAX_WAIT`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("too many password checks in progress; try again shortly")]
pub struct PoolBusy;

/// Hashing failures.
#[derive(Debug, thiserror::Error)]
pub enum HashError {
    /// See [`PoolBusy`].
    #[error(transparent)]
    Busy(#[from] PoolBusy),
    /// The stored hash is not a readable argon2 PHC string, or hashing failed.
    #[error("{0}")]
    Hash(String),
}

struct Pool {
    permits: Arc<Semaphore>,
    /// Idle working buffers; never more than `slots()` exist, since only a permit holder takes or creates one.
    buffers: Mutex<Vec<Vec<Block>>>,
}

fn pool() -> &'static Pool {
    static POOL: OnceLock<Pool> = OnceLock::new();
    POOL.get_or_init(|| Pool { permits: Arc::new(Semaphore::new(slots())), buffers: Mutex::new(Vec::new()) })
}

/// The number of hashes that may run at once: the machine's parallelism, at most 4.
pub fn slots() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get()).clamp(1, MAX_SLOTS)
}

/// The right to run one hash. Holding it (until the hash finishes, even if the waiting request is dropped) is what
/// bounds the memory in use.
#[derive(Debug)]
pub struct HashPermit {
    _slot: OwnedSemaphorePermit,
}

/// Waits up to [`MAX_WAIT`] for a slot.
pub async fn acquire() -> Result<HashPermit, PoolBusy> {
    match tokio::time::timeout(MAX_WAIT, pool().permits.clone().acquire_owned()).await {
        Ok(Ok(slot)) => Ok(HashPermit { _slot: slot }),
        // The semaphore is never closed; a timeout is the only real failure.
        _ => Err(PoolBusy),
    }
}

impl HashPermit {
    /// A new argon2id PHC string for `password` (defaults: m = 19 MiB, t = 2, p = 1; random 16-byte salt).
    pub async fn hash(self, password: String) -> Result<String, HashError> {
        self.run(move |blocks| hash_with(&password, blocks)).await
    }

    /// Whether `password` matches the stored PHC string `phc`. Comparison in constant time.
    pub async fn verify(self, password: String, phc: String) -> Result<bool, HashError> {
        self.run(move |blocks| verify_with(&password, &phc, blocks)).await
    }

    /// The same work as a verification of a password against a default-parameter hash, with the result thrown
    /// away: run for unknown names so that they cost as much time as wrong passwords (no enumeration by timing).
    pub async fn decoy(self, password: String) -> Result<(), HashError> {
        self.run(move |blocks| {
            let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
            argon2_default()
                .hash_password_into_with_memory(password.as_bytes(), b"vault365-decoy-salt", &mut out, blocks)
                .map_err(|e| HashError::Hash(e.to_string()))
        })
        .await
    }

    /// Runs `work` on a blocking thread with a pooled working buffer; the permit is released when it finishes.
    async fn run<T: Send + 'static>(
        self,
        work: impl FnOnce(&mut Vec<Block>) -> Result<T, HashError> + Send + 'static,
    ) -> Result<T, HashError> {
        let permit = self;
        tokio::task::spawn_blocking(move || {
            let pool = pool();
            let taken = pool.buffers.lock().unwrap_or_else(|p| p.into_inner()).pop();
            let mut blocks = taken.unwrap_or_else(|| vec![Block::default(); Params::DEFAULT.block_count()]);
            let result = work(&mut blocks);
            // A larger stored cost grew the buffer for one call; give the pool back the default size only.
            blocks.truncate(Params::DEFAULT.block_count());
            blocks.shrink_to_fit();
            pool.buffers.lock().unwrap_or_else(|p| p.into_inner()).push(blocks);
            drop(permit);
            result
        })
        .await
        .map_err(|e| HashError::Hash(format!("hashing task failed: {e}")))?
    }
}

fn argon2_default() -> Argon2<'static> {
    Argon2::new(Algorithm::Argon2id, Version::V0x13, Params::DEFAULT)
}

fn hash_with(password: &str, blocks: &mut [Block]) -> Result<String, HashError> {
    let mut salt = [0u8; 16];
    aws_lc_rs::rand::fill(&mut salt).map_err(|_| HashError::Hash("no randomness available".into()))?;
    let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
    argon2_default()
        .hash_password_into_with_memory(password.as_bytes(), &salt, &mut out, blocks)
        .map_err(|e| HashError::Hash(e.to_string()))?;
    let salt = SaltString::encode_b64(&salt).map_err(|e| HashError::Hash(e.to_string()))?;
    let output = argon2::password_hash::Output::new(&out).map_err(|e| HashError::Hash(e.to_string()))?;
    let phc = PasswordHash {
        algorithm: argon2::ARGON2ID_IDENT,
        version: Some(Version::V0x13.into()),
        params: (&Params::DEFAULT)
            .try_into()
            .map_err(|e: argon2::password_hash::Error| HashError::Hash(e.to_string()))?,
        salt: Some(salt.as_salt()),
        hash: Some(output),
    };
    Ok(phc.to_string())
}

fn verify_with(password: &str, phc: &str, blocks: &mut Vec<Block>) -> Result<bool, HashError> {
    let bad = |e: &dyn std::fmt::Display| HashError::Hash(format!("stored password hash is unreadable: {e}"));
    let parsed = PasswordHash::new(phc).map_err(|e| bad(&e))?;
    let algorithm = Algorithm::try_from(parsed.algorithm).map_err(|e| bad(&e))?;
    let version = parsed.version.map(Version::try_from).transpose().map_err(|e| bad(&e))?.unwrap_or_default();
    let params = Params::try_from(&parsed).map_err(|e| bad(&e))?;
    if params.m_cost() > MAX_M_COST_KIB {
        return Err(bad(&format_args!("memory cost {} KiB is above {MAX_M_COST_KIB} KiB", params.m_cost())));
    }
    let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else {
        return Err(bad(&"no salt or no hash"));
    };
    let mut salt_buf = [0u8; 64];
    let salt = salt.decode_b64(&mut salt_buf).map_err(|e| bad(&e))?;
    if blocks.len() < params.block_count() {
        blocks.resize(params.block_count(), Block::default());
    }
    let mut out = vec![0u8; expected.len()];
    Argon2::new(algorithm, version, params)
        .hash_password_into_with_memory(password.as_bytes(), salt, &mut out, blocks.as_mut_slice())
        .map_err(|e| HashError::Hash(e.to_string()))?;
    Ok(aws_lc_rs::constant_time::verify_slices_are_equal(&out, expected.as_bytes()).is_ok())
}

#[cfg(test)]
mod tests {
    use super::*;
    use argon2::password_hash::{PasswordHasher, PasswordVerifier};

    #[tokio::test]
    async fn pooled_hashes_interoperate_with_the_crate() {
        let phc = acquire().await.unwrap().hash("correct horse battery".into()).await.unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
        // The crate's own verifier accepts what the pool wrote …
        let parsed = PasswordHash::new(&phc).unwrap();
        assert!(Argon2::default().verify_password(b"correct horse battery", &parsed).is_ok());
        // … and the pool accepts what the crate writes (hashes stored by earlier builds).
        let salt = SaltString::encode_b64(b"0123456789abcdef").unwrap();
        let old = Argon2::default().hash_password(b"older password", &salt).unwrap().to_string();
        assert!(acquire().await.unwrap().verify("older password".into(), old.clone()).await.unwrap());
        assert!(!acquire().await.unwrap().verify("older passwore".into(), old).await.unwrap());
        assert!(acquire().await.unwrap().verify("correct horse battery".into(), phc.clone()).await.unwrap());
        assert!(!acquire().await.unwrap().verify("correct horse batterY".into(), phc).await.unwrap());
        acquire().await.unwrap().decoy("anything".into()).await.unwrap();
    }

    #[tokio::test]
    async fn unreadable_or_hostile_hashes_are_errors() {
        for phc in ["", "plain text", "$argon2id$v=19$m=4194304,t=1,p=1$MDEyMzQ1Njc4OWFiY2RlZg$AAAAAAAAAAAAAAAAAAAAAA"]
        {
            assert!(matches!(acquire().await.unwrap().verify("x".into(), phc.into()).await, Err(HashError::Hash(_))));
        }
    }

    #[tokio::test]
    async fn the_pool_never_holds_more_buffers_than_slots() {
        let tasks: Vec<_> = (0..3 * slots())
            .map(|i| tokio::spawn(async move { acquire().await.unwrap().decoy(format!("pw{i}")).await.unwrap() }))
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
        assert!(pool().buffers.lock().unwrap().len() <= slots());
    }
}
