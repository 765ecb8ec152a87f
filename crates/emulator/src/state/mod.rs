//! The tenant's state: data types, the derived lookup index, persistence and the mutation
//! helpers that keep delta sequence numbers, eTags and folder sizes consistent.

mod ops;
mod types;

pub use ops::*;
pub use types::*;

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Serialize, Deserialize, Default)]
pub struct State {
    pub tenant: Tenant,
    /// Seed string behind deterministic ids (stable across restarts).
    pub id_seed: String,
    /// Key that signs issued access tokens and pre-authenticated URLs (base64).
    pub signing_key: String,
    pub apps: BTreeMap<String, App>,
    pub users: BTreeMap<String, User>,
    pub drives: BTreeMap<String, Drive>,
    pub items: BTreeMap<String, Item>,
    pub sites: BTreeMap<String, Site>,
    pub lists: BTreeMap<String, List>,
    pub mail: Vec<MailMessage>,
    pub device_codes: BTreeMap<String, DeviceCode>,
    pub refresh_tokens: BTreeMap<String, RefreshGrant>,
    pub upload_sessions: BTreeMap<String, UploadSession>,
    pub mail_upload_sessions: BTreeMap<String, MailUploadSession>,
    pub settings: Settings,
    pub counters: Counters,
    #[serde(skip)]
    pub index: Index,
}

/// Lookups derived from the persisted data; rebuilt on load, maintained by `ops`.
#[derive(Clone, Debug, Default)]
pub struct Index {
    /// parent item id → (lower-cased name → child id), live items only.
    pub children: HashMap<String, BTreeMap<String, String>>,
    /// lower-cased userPrincipalName / mail → user id.
    pub users_by_name: HashMap<String, String>,
}

impl State {
    pub fn new(tenant_name: &str, id_seed: &str) -> Self {
        let mut key = [0u8; 32];
        aws_lc_rs::rand::fill(&mut key).expect("system randomness");
        use base64::Engine;
        Self {
            tenant: Tenant { id: crate::ids::guid(id_seed, "tenant", 0), name: tenant_name.to_string() },
            id_seed: id_seed.to_string(),
            signing_key: base64::engine::general_purpose::STANDARD.encode(key),
            ..Default::default()
        }
    }

    pub fn load(path: &Path) -> anyhow::Result<Self> {
        let data = std::fs::read(path)?;
        let mut st: State = serde_json::from_slice(&data)?;
        st.rebuild_index();
        Ok(st)
    }

    /// Serialise to JSON bytes (the caller writes them outside the lock).
    pub fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("state serialises")
    }

    pub fn rebuild_index(&mut self) {
        let mut idx = Index::default();
        for it in self.items.values() {
            if it.deleted.is_some() {
                continue;
            }
            if let Some(p) = &it.parent_id {
                idx.children.entry(p.clone()).or_default().insert(it.name.to_lowercase(), it.id.clone());
            }
        }
        for u in self.users.values() {
            idx.users_by_name.insert(u.user_principal_name.to_lowercase(), u.id.clone());
            idx.users_by_name.insert(u.mail.to_lowercase(), u.id.clone());
        }
        self.index = idx;
    }

    pub fn next_id(&mut self) -> u64 {
        self.counters.ids += 1;
        self.counters.ids
    }

    pub fn new_guid(&mut self, kind: &str) -> String {
        let n = self.next_id();
        crate::ids::guid(&self.id_seed.clone(), kind, n)
    }

    pub fn new_item_id(&mut self) -> String {
        let n = self.next_id();
        crate::ids::item_id(&self.id_seed.clone(), n)
    }

    /// A user by id, userPrincipalName or mail (case-insensitive).
    pub fn find_user(&self, key: &str) -> Option<&User> {
        self.users
            .get(key)
            .or_else(|| self.index.users_by_name.get(&key.to_lowercase()).and_then(|id| self.users.get(id)))
    }

    pub fn add_user(&mut self, user: User) {
        self.index.users_by_name.insert(user.user_principal_name.to_lowercase(), user.id.clone());
        self.index.users_by_name.insert(user.mail.to_lowercase(), user.id.clone());
        self.users.insert(user.id.clone(), user);
    }
}

/// Write `bytes` to `path` atomically (temp file + rename) so a crash never leaves half a state.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let tmp = path.with_extension("json.tmp");
    let mut f = std::fs::File::create(&tmp)?;
    f.write_all(bytes)?;
    f.sync_all()?;
    std::fs::rename(&tmp, path)
}
