//! Signing in to the organization for a restore, with the credentials of the request (veeam-api-notes §16.19):
//!
//! * `userName` + `userPassword` (bulk bodies: `officeUsername` + `officeUserpassword`, or `officePassword` as the
//!   v2/v3 docs spell it): resource owner password sign-in of that account;
//! * `applicationId` + `applicationCertificate` (base64 PFX) + `applicationCertificatePassword`: a client assertion
//!   signed with the PFX's key;
//! * `userCode`: a device code obtained from `POST …/RestoreSessions/{id}/organization/restoreDeviceCode`
//!   ([`request_device_code`]); the restore polls Entra ID until the user has approved the code (or it expires /
//!   is declined). A code serves one restore, of the session's organization, for the account that asked for it.
//!
//! Wrong passwords and certificates are refused before anything is written (400). Credentials live in memory for
//! the request (or the background job) only: never logged, never stored. Pending device codes are kept in the
//! catalog, sealed with the repository key ([`crate::store::device_codes`]), so any node can use a code until it expires.
//!
//! Where the tenant is: the organization's config, else [`AppState::restore_access`] (Microsoft's cloud by default;
//! tests point it at the emulator).

use axum::extract::{FromRequest, Request};
use m365::auth::DeviceCode;
use m365::{Credential, Endpoints, GraphClient, Resource, TenantConfig};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::Value;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::ctx::auth::CurrentUser;
use crate::edge::error::ApiError;
use crate::edge::lenient::de::text;
use crate::edge::lenient::{LenientJson, Obj};
use crate::state::AppState;
use crate::store::device_codes::{self, PendingCode};

/// A signed-in client, or one whose device-code sign-in still has to be approved.
pub enum SignIn {
    /// Ready to use.
    Ready(GraphClient),
    /// Polls Entra ID until the user approves the code ([`SignIn::complete`]).
    Pending(GraphClient, DeviceCode),
}

impl SignIn {
    /// The client once signed in; for a device code this polls until approval, decline or expiry. The error is a
    /// message for the client.
    pub async fn complete(self) -> Result<GraphClient, String> {
        match self {
            SignIn::Ready(c) => Ok(c),
            SignIn::Pending(c, code) => match c.tokens().complete_device_code(&code).await {
                Ok(()) => Ok(c),
                Err(m365::M365Error::Token { error, .. }) => Err(format!(
                    "Sign-in with the device code failed ({error}): the code was declined, expired or not approved \
                     in time. Get a new code with …/organization/restoreDeviceCode."
                )),
                Err(e) => Err(format!("Sign-in with the device code failed: {e}")),
            },
        }
    }

    /// Whether signing in may still take a while (a device code waiting for approval).
    pub fn is_pending(&self) -> bool {
        matches!(self, SignIn::Pending(..))
    }
}

/// Where and as which app to sign in for a restore of an organization.
struct TenantAccess {
    tenant: String,
    client_id: String,
    endpoints: Endpoints,
}

/// The organization's tenant, endpoints and the client id to sign in with (`app` when the request names one). An
/// organization registered by `vault365 org add` carries its endpoints and app (`endpoints`, `clientId`) in its
/// config, so `serve` restores to the tenant the backups came from; [`AppState::restore_access`] is the fallback.
async fn tenant_of(state: &AppState, org: Uuid, app: Option<String>) -> Result<TenantAccess, ApiError> {
    let org = state
        .catalog
        .organization(org)
        .await?
        .ok_or_else(|| ApiError::not_found("The organization of this restore session no longer exists."))?;
    let fallback = state.restore_access.get();
    let configured = |name: &str| org.config.get(name).and_then(Value::as_str).map(str::to_string);
    let client_id = app
        .or_else(|| configured("applicationId"))
        .or_else(|| configured("clientId"))
        .or(fallback.client_id)
        .ok_or_else(|| ApiError::bad_request("The organization has no application id configured for restores."))?;
    let endpoints = match org.config.get("endpoints") {
        Some(v) => serde_json::from_value::<Endpoints>(v.clone())
            .map_err(|e| ApiError::internal(format!("The organization's configured endpoints are invalid: {e}")))?,
        None => fallback.endpoints,
    };
    Ok(TenantAccess { tenant: org.tenant_id, client_id, endpoints })
}

fn client(t: TenantAccess, credential: Credential) -> Result<GraphClient, ApiError> {
    let cfg = TenantConfig { endpoints: t.endpoints, tenant: t.tenant, client_id: t.client_id, credential };
    GraphClient::new(cfg, 4).map_err(|e| ApiError::internal(format!("Graph client: {e}")))
}

/// The credentials of a restore body (see the module docs): a device code's `userCode`, an application certificate,
/// or a user name and password (`officeUsername`/`officeUserpassword`/`officePassword`: how the v2/v3 docs spell them
/// in bulk bodies).
#[derive(Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Credentials {
    pub user_code: Option<String>,
    pub application_id: Option<String>,
    /// A PFX file with its private key, base64.
    pub application_certificate: Option<String>,
    #[serde(default, deserialize_with = "text")]
    pub application_certificate_password: Option<String>,
    pub user_name: Option<String>,
    pub office_username: Option<String>,
    #[serde(default, deserialize_with = "text")]
    pub user_password: Option<String>,
    #[serde(default, deserialize_with = "text")]
    pub office_userpassword: Option<String>,
    #[serde(default, deserialize_with = "text")]
    pub office_password: Option<String>,
}

/// Extractor: a restore body as typed options `T` and the [`Credentials`] beside them (both read from the same
/// lenient JSON object, which holds the two sets of properties side by side).
pub struct RestoreBody<T>(pub T, pub Credentials);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for RestoreBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let LenientJson(body) = LenientJson::<Obj>::from_request(req, state).await?;
        RestoreBody::of(&body)
    }
}

impl<T: DeserializeOwned> RestoreBody<T> {
    /// The options and credentials of an already parsed body (the v2–v5 action's property).
    pub fn of(body: &Obj) -> Result<RestoreBody<T>, ApiError> {
        Ok(RestoreBody(body.to_typed()?, body.to_typed()?))
    }
}

/// The first of `values` that is not blank.
fn first_given(values: &[&Option<String>]) -> Option<String> {
    values.iter().find_map(|v| v.as_ref().filter(|v| !v.trim().is_empty()).cloned())
}

/// Signs in to organization `org` with `credentials` (see the module docs). Password and certificate
/// sign-ins happen now (400 when refused); a device code is taken from the pending codes and returned as
/// [`SignIn::Pending`].
pub async fn sign_in(
    state: &AppState,
    user: &CurrentUser,
    org: Uuid,
    credentials: &Credentials,
) -> Result<SignIn, ApiError> {
    let c = credentials;
    if let Some(code) = first_given(&[&c.user_code]) {
        let pending = device_codes::claim(state, &code, &user.id, org).await?;
        let p = pending.ok_or_else(|| {
            ApiError::bad_request(
                "'userCode' is unknown or expired: get a device code for this restore session with \
                 POST …/RestoreSessions/{id}/organization/restoreDeviceCode and use it once.",
            )
        })?;
        let t = tenant_of(state, org, Some(p.client_id.clone())).await?;
        let c = client(t, Credential::DeviceCode)?;
        return Ok(SignIn::Pending(c, p.code));
    }
    let (app, credential, what) = match first_given(&[&c.application_certificate]) {
        Some(pfx) => {
            let app = first_given(&[&c.application_id])
                .ok_or_else(|| ApiError::bad_request("'applicationId' is required with 'applicationCertificate'."))?;
            let password = c.application_certificate_password.clone().unwrap_or_default();
            (
                Some(app.trim().to_string()),
                certificate_credential(&pfx, &password)?,
                "applicationId and applicationCertificate",
            )
        }
        None => {
            let username = first_given(&[&c.user_name, &c.office_username]);
            let password =
                [&c.user_password, &c.office_userpassword, &c.office_password].into_iter().find_map(Clone::clone);
            let (Some(username), Some(password)) = (username, password) else {
                return Err(ApiError::bad_request(
                    "Specify the credentials of the organization: 'userName' and 'userPassword', 'applicationId' and \
                     'applicationCertificate', or a 'userCode' from …/organization/restoreDeviceCode.",
                ));
            };
            (None, Credential::Password { username, password }, "userName and userPassword")
        }
    };
    let c = client(tenant_of(state, org, app).await?, credential)?;
    // Sign in now, so wrong credentials fail the request instead of every item.
    if c.tokens().token(&Resource::Graph).await.is_err() {
        return Err(ApiError::bad_request(format!("Sign-in failed: the organization did not accept {what}.")));
    }
    Ok(SignIn::Ready(c))
}

/// The key and certificate of a base64 PKCS#12 (PFX) archive.
fn certificate_credential(pfx_b64: &str, password: &str) -> Result<Credential, ApiError> {
    use base64::Engine;
    let compact: String = pfx_b64.chars().filter(|c| !c.is_whitespace()).collect();
    let der = base64::engine::general_purpose::STANDARD.decode(compact.as_bytes()).map_err(|_| {
        ApiError::bad_request("'applicationCertificate' is not valid base64 (a PFX file encoded as base64).")
    })?;
    let bad = || {
        ApiError::bad_request(
            "'applicationCertificate' could not be opened: not a PFX with a private key, or a wrong \
             'applicationCertificatePassword'.",
        )
    };
    let store = p12_keystore::KeyStore::from_pkcs12(&der, password, p12_keystore::Pkcs12ImportPolicy::Relaxed)
        .map_err(|_| bad())?;
    let (_, chain) = store.private_key_chain().ok_or_else(bad)?;
    let cert = chain.certs().first().ok_or_else(bad)?;
    Ok(Credential::Certificate {
        key_pkcs8_der: chain.key().as_der().to_vec(),
        cert_der: cert.as_der().to_vec(),
        pss: false,
    })
}

/// `POST …/RestoreSessions/{id}/organization/restoreDeviceCode` (`RESTDeviceCodeRequestOptions`): asks Entra ID
/// for a device code to restore organization `org` with and keeps it for the caller's next restore. Answers
/// `RESTDeviceCodeResponse` (`userCode`, `verificationUrl`, `expiresIn` in seconds, `message`).
pub async fn request_device_code(
    state: &AppState,
    user: &CurrentUser,
    org: Uuid,
    application: Option<Uuid>,
) -> Result<DeviceCode, ApiError> {
    let t = tenant_of(state, org, application.map(|u| u.to_string())).await?;
    let client_id = t.client_id.clone();
    let c = client(t, Credential::DeviceCode)?;
    let code = c.tokens().start_device_code().await.map_err(|e| {
        ApiError::bad_request(format!("The organization refused a device code for application {client_id}: {e}"))
    })?;
    let answer = code.clone();
    let pending = PendingCode { owner: user.id.clone(), organization: org, client_id, code };
    device_codes::keep(state, &pending).await?;
    Ok(answer)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_certificates_name_the_field() {
        let e = certificate_credential("not base64!", "").err().unwrap();
        assert!(e.message.contains("applicationCertificate"), "{}", e.message);
        let e = certificate_credential("AAAA", "x").err().unwrap();
        assert!(e.message.contains("applicationCertificatePassword"), "{}", e.message);
    }
}
