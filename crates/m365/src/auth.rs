//! Access tokens per resource with caching and renewal before expiry (graph-notes §1).

use std::collections::HashMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::sync::Mutex;
use tokio::time::Instant;

use crate::assertion::client_assertion;
use crate::config::{Credential, TenantConfig};
use crate::error::{M365Error, Result};

/// What a token is for: Graph, or one SharePoint host (tokens are per resource).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Resource {
    Graph,
    SharePoint(String),
}

/// Renew this long before a token expires so no request goes out with a dying token.
const RENEW_MARGIN: Duration = Duration::from_secs(300);

#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    expires_in: u64,
    refresh_token: Option<String>,
}

#[derive(Deserialize)]
struct TokenErrorBody {
    error: String,
    #[serde(default)]
    error_description: String,
}

struct Cached {
    token: String,
    renew_at: Instant,
}

/// Device-code sign-in in progress (`user_code` is shown to the user). Serializable so a server can keep it
/// until a restore uses it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct DeviceCode {
    pub device_code: String,
    pub user_code: String,
    pub verification_uri: String,
    pub expires_in: u64,
    pub interval: u64,
    pub message: String,
}

pub struct TokenProvider {
    http: reqwest::Client,
    cfg: TenantConfig,
    cache: Mutex<HashMap<Resource, Cached>>,
    /// Latest refresh token (rotated on every use) for delegated credentials.
    refresh: Mutex<Option<String>>,
}

impl TokenProvider {
    pub fn new(http: reqwest::Client, cfg: TenantConfig) -> Self {
        let refresh = match &cfg.credential {
            Credential::RefreshToken(t) => Some(t.clone()),
            _ => None,
        };
        Self { http, cfg, cache: Mutex::new(HashMap::new()), refresh: Mutex::new(refresh) }
    }

    pub fn token_url(&self) -> String {
        format!("{}/{}/oauth2/v2.0/token", self.cfg.endpoints.authority, self.cfg.tenant)
    }

    fn scope(&self, r: &Resource) -> String {
        match r {
            Resource::Graph => format!("{}/.default", self.cfg.endpoints.graph_resource),
            Resource::SharePoint(host) => format!("https://{host}/.default"),
        }
    }

    /// A valid token for `r`, from the cache unless it is within the renewal margin.
    pub async fn token(&self, r: &Resource) -> Result<String> {
        // Holding the cache lock while fetching makes concurrent callers wait for one request
        // instead of stampeding the token endpoint.
        let mut cache = self.cache.lock().await;
        if let Some(c) = cache.get(r) {
            if Instant::now() < c.renew_at {
                return Ok(c.token.clone());
            }
        }
        let resp = self.request(r).await?;
        let lifetime = Duration::from_secs(resp.expires_in);
        let renew_at = Instant::now() + lifetime.saturating_sub(RENEW_MARGIN).max(lifetime / 2);
        cache.insert(r.clone(), Cached { token: resp.access_token.clone(), renew_at });
        Ok(resp.access_token)
    }

    /// Forget a cached token (after a 401 says it is no longer accepted).
    pub async fn invalidate(&self, r: &Resource) {
        self.cache.lock().await.remove(r);
    }

    async fn request(&self, r: &Resource) -> Result<TokenResponse> {
        let scope = self.scope(r);
        let mut form: Vec<(&str, String)> = vec![("client_id", self.cfg.client_id.clone())];
        let delegated_scope = format!("{scope} offline_access");
        match &self.cfg.credential {
            Credential::Secret(s) => {
                form.push(("grant_type", "client_credentials".into()));
                form.push(("client_secret", s.clone()));
                form.push(("scope", scope));
            }
            Credential::Certificate { key_pkcs8_der, cert_der, pss } => {
                let a = client_assertion(key_pkcs8_der, cert_der, &self.cfg.client_id, &self.token_url(), *pss)?;
                form.push(("grant_type", "client_credentials".into()));
                form.push(("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer".into()));
                form.push(("client_assertion", a));
                form.push(("scope", scope));
            }
            Credential::Password { username, password } => {
                if let Some(rt) = self.refresh.lock().await.clone() {
                    form.push(("grant_type", "refresh_token".into()));
                    form.push(("refresh_token", rt));
                } else {
                    form.push(("grant_type", "password".into()));
                    form.push(("username", username.clone()));
                    form.push(("password", password.clone()));
                }
                form.push(("scope", delegated_scope.clone()));
            }
            Credential::RefreshToken(_) | Credential::DeviceCode => {
                let rt = self.refresh.lock().await.clone().ok_or_else(|| {
                    M365Error::Config("no refresh token: complete the device-code sign-in first".into())
                })?;
                form.push(("grant_type", "refresh_token".into()));
                form.push(("refresh_token", rt));
                form.push(("scope", delegated_scope.clone()));
            }
        }
        let resp = self.post_form(&self.token_url(), &form).await;
        // A rejected refresh token falls back to the password once (it may have expired).
        let resp = match (resp, &self.cfg.credential) {
            (Err(M365Error::Token { error, .. }), Credential::Password { username, password })
                if error == "invalid_grant" =>
            {
                *self.refresh.lock().await = None;
                let form = vec![
                    ("client_id", self.cfg.client_id.clone()),
                    ("grant_type", "password".into()),
                    ("username", username.clone()),
                    ("password", password.clone()),
                    ("scope", delegated_scope),
                ];
                self.post_form(&self.token_url(), &form).await?
            }
            (r, _) => r?,
        };
        if let Some(rt) = &resp.refresh_token {
            *self.refresh.lock().await = Some(rt.clone());
        }
        Ok(resp)
    }

    async fn post_form(&self, url: &str, form: &[(&str, String)]) -> Result<TokenResponse> {
        let resp = self.http.post(url).form(form).send().await?;
        let status = resp.status().as_u16();
        let bytes = resp.bytes().await?;
        if status != 200 {
            let e: TokenErrorBody = serde_json::from_slice(&bytes).unwrap_or(TokenErrorBody {
                error: "invalid_response".into(),
                error_description: String::from_utf8_lossy(&bytes[..bytes.len().min(200)]).into_owned(),
            });
            return Err(M365Error::Token { status, error: e.error, description: e.error_description });
        }
        serde_json::from_slice(&bytes).map_err(|e| M365Error::Invalid(format!("token response: {e}")))
    }

    /// Start a device-code sign-in for delegated Graph access.
    pub async fn start_device_code(&self) -> Result<DeviceCode> {
        let url = format!("{}/{}/oauth2/v2.0/devicecode", self.cfg.endpoints.authority, self.cfg.tenant);
        let scope = format!("{} offline_access", self.scope(&Resource::Graph));
        let resp =
            self.http.post(url).form(&[("client_id", self.cfg.client_id.as_str()), ("scope", &scope)]).send().await?;
        let status = resp.status().as_u16();
        let bytes = resp.bytes().await?;
        if status != 200 {
            let e: TokenErrorBody = serde_json::from_slice(&bytes)
                .unwrap_or(TokenErrorBody { error: "invalid_response".into(), error_description: String::new() });
            return Err(M365Error::Token { status, error: e.error, description: e.error_description });
        }
        serde_json::from_slice(&bytes).map_err(|e| M365Error::Invalid(format!("device code response: {e}")))
    }

    /// Poll until the user approves (or declines / the code expires). On success the refresh
    /// token is kept so later calls renew silently; the Graph token is cached.
    pub async fn complete_device_code(&self, dc: &DeviceCode) -> Result<()> {
        let mut interval = Duration::from_secs(dc.interval.max(1));
        let deadline = Instant::now() + Duration::from_secs(dc.expires_in);
        loop {
            let form = vec![
                ("client_id", self.cfg.client_id.clone()),
                ("grant_type", "urn:ietf:params:oauth:grant-type:device_code".into()),
                ("device_code", dc.device_code.clone()),
            ];
            match self.post_form(&self.token_url(), &form).await {
                Ok(resp) => {
                    if let Some(rt) = &resp.refresh_token {
                        *self.refresh.lock().await = Some(rt.clone());
                    }
                    let renew_at = Instant::now() + Duration::from_secs(resp.expires_in).saturating_sub(RENEW_MARGIN);
                    self.cache.lock().await.insert(Resource::Graph, Cached { token: resp.access_token, renew_at });
                    return Ok(());
                }
                Err(M365Error::Token { error, .. }) if error == "authorization_pending" => {}
                // RFC 8628 §3.5: add five seconds and keep polling.
                Err(M365Error::Token { error, .. }) if error == "slow_down" => interval += Duration::from_secs(5),
                Err(e) => return Err(e),
            }
            if Instant::now() + interval > deadline {
                return Err(M365Error::Token {
                    status: 400,
                    error: "expired_token".into(),
                    description: "device code expired before sign-in completed".into(),
                });
            }
            tokio::time::sleep(interval).await;
        }
    }
}
