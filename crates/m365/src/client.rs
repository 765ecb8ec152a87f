//! Graph/SharePoint HTTP with the discipline a backup product needs: bounded concurrency,
//! tenant-wide pause on throttling, retries honouring Retry-After, paging, delta and resumable
//! downloads.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use bytes::Bytes;
use futures::{Stream, StreamExt};
use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;
use serde_json::Value;
use tokio::io::{AsyncWrite, AsyncWriteExt};
use tokio::sync::Semaphore;

use crate::auth::{Resource, TokenProvider};
use crate::config::TenantConfig;
use crate::error::{M365Error, Result};
use crate::retry::{is_retryable, retry_after, RequestBudget, RetryPolicy, ThrottleGate};

/// Request counters (for benchmarks: Graph requests per item).
#[derive(Debug, Default)]
pub struct Stats {
    pub requests: AtomicU64,
    pub throttled: AtomicU64,
    pub retries: AtomicU64,
}

/// One page of a delta enumeration.
#[derive(Debug, Clone)]
pub struct DeltaPage {
    pub items: Vec<Value>,
    pub next_link: Option<String>,
    pub delta_link: Option<String>,
}

#[derive(Clone)]
pub struct GraphClient {
    http: reqwest::Client,
    tokens: Arc<TokenProvider>,
    graph_base: String,
    /// Scheme, host and port of `graph_base`: the only origin a Graph token is sent to.
    graph_origin: url::Origin,
    limiter: Arc<Semaphore>,
    gate: Arc<ThrottleGate>,
    budget: Option<Arc<RequestBudget>>,
    pub policy: RetryPolicy,
    pub stats: Arc<Stats>,
}

/// A request to send (rebuilt for every attempt).
pub struct Call<'a> {
    pub method: Method,
    pub url: String,
    pub resource: Option<Resource>,
    pub body: Option<Bytes>,
    pub headers: Vec<(&'a str, String)>,
}

impl GraphClient {
    /// `concurrency` bounds requests in flight to this tenant.
    pub fn new(cfg: TenantConfig, concurrency: usize) -> Result<Self> {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("ISV|vault365|vault365/", env!("CARGO_PKG_VERSION")))
            .build()?;
        let graph_base = cfg.endpoints.graph.trim_end_matches('/').to_string();
        let graph_origin = url::Url::parse(&graph_base)
            .map_err(|e| M365Error::Config(format!("Graph endpoint {graph_base:?} is not a URL: {e}")))?
            .origin();
        if !graph_origin.is_tuple() {
            return Err(M365Error::Config(format!("Graph endpoint {graph_base:?} is not an http(s) URL")));
        }
        Ok(Self {
            tokens: Arc::new(TokenProvider::new(http.clone(), cfg)),
            http,
            graph_base,
            graph_origin,
            limiter: Arc::new(Semaphore::new(concurrency.max(1))),
            gate: Arc::new(ThrottleGate::default()),
            budget: None,
            policy: RetryPolicy::default(),
            stats: Arc::new(Stats::default()),
        })
    }

    /// Limit this client to `per_minute` requests a minute (shared by all its clones).
    pub fn with_request_budget(mut self, per_minute: u32) -> Self {
        self.budget = Some(Arc::new(RequestBudget::per_minute(per_minute)));
        self
    }

    pub fn tokens(&self) -> &TokenProvider {
        &self.tokens
    }

    /// Absolute URL for a Graph path (`/users`) or an absolute link (nextLink, deltaLink). Absolute links are
    /// taken as they are; [`GraphClient::send`] refuses to send a token anywhere but where it belongs.
    pub fn url(&self, path_or_url: &str) -> String {
        if is_absolute(path_or_url) {
            path_or_url.to_string()
        } else {
            format!("{}{}", self.graph_base, path_or_url)
        }
    }

    /// The form in which a deltaLink is persisted: path and query relative to the configured Graph base
    /// (`/drives/{id}/root/delta?token=…`), so a stored position does not pin the host it was handed out by (the
    /// emulator restarted on another port, a proxy in front of Graph). A link outside the base stays absolute;
    /// [`GraphClient::stored_link_url`] decides about it when it is read.
    pub fn link_to_store(&self, link: &str) -> String {
        match url::Url::parse(link) {
            Ok(u) if u.origin() == self.graph_origin => match self.path_below_base(&u) {
                Some(rel) => rel,
                None => link.to_string(),
            },
            _ => link.to_string(),
        }
    }

    /// The URL to request for a stored deltaLink. Relative links (see [`GraphClient::link_to_store`]) are resolved
    /// against the configured Graph base. Absolute links (stored by older versions, or handed out by another host)
    /// whose path lies below the base's path (`/v1.0/…`) are moved onto the configured base with the same path and
    /// query: the tenant is the same, only the way to it changed. `None` when the link cannot be placed below the
    /// configured base; the caller then enumerates in full (and diffs against what it holds).
    pub fn stored_link_url(&self, stored: &str) -> Option<String> {
        if !is_absolute(stored) {
            return stored.starts_with('/').then(|| self.url(stored));
        }
        let u = url::Url::parse(stored).ok()?;
        if !matches!(u.scheme(), "http" | "https") {
            return None;
        }
        self.path_below_base(&u).map(|rel| self.url(&rel))
    }

    /// `u`'s path and query relative to the Graph base's path (`/v1.0/drives/x?q` → `/drives/x?q`), if below it.
    fn path_below_base(&self, u: &url::Url) -> Option<String> {
        let base_path = url::Url::parse(&self.graph_base).ok()?.path().trim_end_matches('/').to_string();
        let rest = u.path().strip_prefix(base_path.as_str())?;
        if !rest.starts_with('/') {
            return None;
        }
        Some(match u.query() {
            Some(q) => format!("{rest}?{q}"),
            None => rest.to_string(),
        })
    }

    /// A bearer token only goes where it belongs: a Graph token to the configured Graph origin, a SharePoint token
    /// to its SharePoint host over HTTPS (or to the Graph origin, where the emulator serves SharePoint REST). A
    /// nextLink or deltaLink naming any other origin is refused before a token is even fetched, so a hostile or
    /// misconfigured server cannot collect the tenant's token by handing out links. Pre-authenticated download and
    /// upload URLs carry no token (`resource: None`) and may point anywhere.
    pub fn check_token_destination(&self, url: &str, resource: &Resource) -> Result<()> {
        let refuse = |origin: String| {
            Err(M365Error::UntrustedUrl {
                origin,
                allowed: match resource {
                    Resource::Graph => self.graph_origin.ascii_serialization(),
                    Resource::SharePoint(host) => {
                        format!("https://{host} or {}", self.graph_origin.ascii_serialization())
                    }
                },
            })
        };
        let Ok(u) = url::Url::parse(url) else {
            return refuse(format!("{url:?} (not a URL)"));
        };
        let origin = u.origin();
        if origin == self.graph_origin {
            return Ok(());
        }
        if let Resource::SharePoint(host) = resource {
            if u.scheme() == "https" && u.host_str().is_some_and(|h| h.eq_ignore_ascii_case(host)) {
                return Ok(());
            }
        }
        refuse(origin.ascii_serialization())
    }

    /// Send with retries. Returns the final response whatever its status (callers map errors).
    /// A call carrying a token must go to that token's host ([`GraphClient::check_token_destination`]).
    pub async fn send(&self, call: Call<'_>) -> Result<reqwest::Response> {
        if let Some(r) = &call.resource {
            self.check_token_destination(&call.url, r)?;
        }
        let mut attempt = 0;
        let mut reauthed = false;
        loop {
            attempt += 1;
            self.gate.wait().await;
            if let Some(b) = &self.budget {
                b.acquire().await;
            }
            let _permit = self.limiter.acquire().await.expect("semaphore never closed");
            let mut req = self.http.request(call.method.clone(), &call.url);
            if let Some(r) = &call.resource {
                req = req.bearer_auth(self.tokens.token(r).await?);
            }
            for (k, v) in &call.headers {
                req = req.header(*k, v);
            }
            if let Some(b) = &call.body {
                req = req.body(b.clone());
            }
            self.stats.requests.fetch_add(1, Ordering::Relaxed);
            let resp = match req.send().await {
                Ok(r) => r,
                Err(e)
                    if attempt < self.policy.max_attempts && (e.is_connect() || e.is_timeout() || e.is_request()) =>
                {
                    self.stats.retries.fetch_add(1, Ordering::Relaxed);
                    drop(_permit);
                    tokio::time::sleep(self.policy.backoff(attempt)).await;
                    continue;
                }
                Err(e) => return Err(e.into()),
            };
            let status = resp.status().as_u16();
            if status == 401 && !reauthed {
                if let Some(r) = &call.resource {
                    // The token may have been revoked or expired early: fetch a new one once.
                    reauthed = true;
                    self.tokens.invalidate(r).await;
                    continue;
                }
            }
            if is_retryable(status) && attempt < self.policy.max_attempts {
                let wait = retry_after(resp.headers()).map(|d| d.min(self.policy.max_delay));
                if matches!(status, 429 | 503) {
                    self.stats.throttled.fetch_add(1, Ordering::Relaxed);
                    self.gate.pause_for(wait.unwrap_or_else(|| self.policy.backoff(attempt)));
                }
                self.stats.retries.fetch_add(1, Ordering::Relaxed);
                drop(_permit);
                tokio::time::sleep(wait.unwrap_or_else(|| self.policy.backoff(attempt))).await;
                continue;
            }
            return Ok(resp);
        }
    }

    /// GET a Graph resource as JSON.
    pub async fn get_json<T: DeserializeOwned>(&self, path_or_url: &str) -> Result<T> {
        let resp = self.send(self.graph_call(Method::GET, path_or_url)).await?;
        json_or_error(resp).await
    }

    /// Send a JSON body to Graph and parse the JSON answer (Null for empty bodies).
    pub async fn send_json(&self, method: Method, path_or_url: &str, body: &Value) -> Result<Value> {
        let mut call = self.graph_call(method, path_or_url);
        call.body = Some(Bytes::from(serde_json::to_vec(body).expect("json serialises")));
        call.headers.push(("content-type", "application/json".into()));
        json_or_error(self.send(call).await?).await
    }

    pub fn graph_call(&self, method: Method, path_or_url: &str) -> Call<'static> {
        Call { method, url: self.url(path_or_url), resource: Some(Resource::Graph), body: None, headers: Vec::new() }
    }

    /// Every item of a collection, following `@odata.nextLink`.
    pub async fn get_all(&self, path_or_url: &str) -> Result<Vec<Value>> {
        let mut out = Vec::new();
        let mut next = Some(self.url(path_or_url));
        while let Some(url) = next {
            let page: Value = self.get_json(&url).await?;
            if let Some(v) = page.get("value").and_then(Value::as_array) {
                out.extend(v.iter().cloned());
            }
            next = page.get("@odata.nextLink").and_then(Value::as_str).map(str::to_string);
        }
        Ok(out)
    }

    /// One delta page; 410 Gone (or resync codes) becomes [`M365Error::ResyncRequired`].
    pub async fn delta_page(&self, url: &str) -> Result<DeltaPage> {
        let resp = self.send(self.graph_call(Method::GET, url)).await?;
        if resp.status() == StatusCode::GONE {
            let location = resp.headers().get("location").and_then(|v| v.to_str().ok()).map(str::to_string);
            return Err(M365Error::ResyncRequired { location });
        }
        let page: Value = match json_or_error(resp).await {
            Err(e) if e.has_code("resyncRequired") || e.has_code("syncStateNotFound") => {
                return Err(M365Error::ResyncRequired { location: None })
            }
            r => r?,
        };
        Ok(DeltaPage {
            items: page.get("value").and_then(Value::as_array).cloned().unwrap_or_default(),
            next_link: page.get("@odata.nextLink").and_then(Value::as_str).map(str::to_string),
            delta_link: page.get("@odata.deltaLink").and_then(Value::as_str).map(str::to_string),
        })
    }

    /// Follow a whole delta round from `start`; returns all items (later duplicates win — the
    /// caller applies them in order) and the deltaLink to persist.
    pub async fn delta_all(&self, start: &str) -> Result<(Vec<Value>, String)> {
        let mut items = Vec::new();
        let mut url = self.url(start);
        loop {
            let page = self.delta_page(&url).await?;
            items.extend(page.items);
            match (page.next_link, page.delta_link) {
                (Some(n), _) => url = n,
                (None, Some(d)) => return Ok((items, d)),
                (None, None) => return Err(M365Error::Invalid("delta page without nextLink or deltaLink".into())),
            }
        }
    }

    /// Resolve an item's pre-authenticated download URL (`/content` answers 302).
    pub async fn download_url(&self, content_path: &str) -> Result<String> {
        let resp = self.send(self.graph_call(Method::GET, content_path)).await?;
        match resp.status().as_u16() {
            301..=308 => resp
                .headers()
                .get("location")
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
                .ok_or_else(|| M365Error::Invalid("redirect without Location".into())),
            _ => Err(error_of(resp).await),
        }
    }

    /// Stream a pre-authenticated URL into `out`, resuming with `Range` after a broken transfer.
    /// No Authorization header is sent (Microsoft's download URLs refuse it). Returns bytes written.
    pub async fn download_to<W: AsyncWrite + Unpin>(&self, url: &str, out: &mut W) -> Result<u64> {
        let mut stream = std::pin::pin!(self.download_stream(url, None));
        let mut written = 0;
        while let Some(chunk) = stream.next().await {
            let chunk = chunk?;
            out.write_all(&chunk).await.map_err(|e| M365Error::Invalid(format!("writing download: {e}")))?;
            written += chunk.len() as u64;
        }
        Ok(written)
    }

    /// The bytes behind `url` as a stream that survives broken transfers: after a connection
    /// drops it re-requests the rest with `Range: bytes={received}-` (up to `max_attempts` times).
    /// `resource` adds a bearer token (SharePoint `$value` URLs); `None` for pre-authenticated URLs.
    pub fn download_stream(
        &self,
        url: &str,
        resource: Option<Resource>,
    ) -> impl Stream<Item = Result<Bytes>> + Send + 'static {
        struct St {
            client: GraphClient,
            url: String,
            resource: Option<Resource>,
            written: u64,
            expected: Option<u64>,
            resp: Option<reqwest::Response>,
            failures: u32,
            done: bool,
        }
        let st = St {
            client: self.clone(),
            url: url.to_string(),
            resource,
            written: 0,
            expected: None,
            resp: None,
            failures: 0,
            done: false,
        };
        futures::stream::unfold(st, |mut st| async move {
            if st.done {
                return None;
            }
            loop {
                if st.resp.is_none() {
                    let mut call = Call {
                        method: Method::GET,
                        url: st.url.clone(),
                        resource: st.resource.clone(),
                        body: None,
                        headers: vec![],
                    };
                    if st.written > 0 {
                        call.headers.push(("range", format!("bytes={}-", st.written)));
                    }
                    let resp = match st.client.send(call).await {
                        Ok(r) => r,
                        Err(e) => {
                            st.done = true;
                            return Some((Err(e), st));
                        }
                    };
                    let status = resp.status().as_u16();
                    if !(status == 200 || status == 206) || (st.written > 0 && status == 200) {
                        st.done = true;
                        let err = if status == 200 {
                            // The server ignored Range: splicing a full body after a prefix would corrupt data.
                            M365Error::Invalid("server ignored Range on resume".into())
                        } else {
                            error_of(resp).await
                        };
                        return Some((Err(err), st));
                    }
                    if st.expected.is_none() {
                        st.expected = resp.content_length();
                    }
                    st.resp = Some(resp);
                }
                let resp = st.resp.as_mut().expect("set above");
                match resp.chunk().await {
                    Ok(Some(c)) => {
                        st.written += c.len() as u64;
                        return Some((Ok(c), st));
                    }
                    Ok(None) if st.expected.is_none_or(|t| st.written >= t) => return None,
                    Ok(None) | Err(_) => {
                        st.resp = None;
                        st.failures += 1;
                        if st.failures >= st.client.policy.max_attempts {
                            st.done = true;
                            let msg = format!("download broke {} times at byte {}", st.failures, st.written);
                            return Some((Err(M365Error::Invalid(msg)), st));
                        }
                        st.client.stats.retries.fetch_add(1, Ordering::Relaxed);
                        tokio::time::sleep(st.client.policy.backoff(st.failures)).await;
                    }
                }
            }
        })
    }
}

fn is_absolute(link: &str) -> bool {
    let b = link.as_bytes();
    b.get(..7).is_some_and(|p| p.eq_ignore_ascii_case(b"http://"))
        || b.get(..8).is_some_and(|p| p.eq_ignore_ascii_case(b"https://"))
}

/// Parse a success body as JSON or turn an error status into [`M365Error`].
pub async fn json_or_error<T: DeserializeOwned>(resp: reqwest::Response) -> Result<T> {
    if !resp.status().is_success() {
        return Err(error_of(resp).await);
    }
    let bytes = resp.bytes().await?;
    let bytes = if bytes.is_empty() { Bytes::from_static(b"null") } else { bytes };
    serde_json::from_slice(&bytes).map_err(|e| M365Error::Invalid(format!("JSON body: {e}")))
}

pub async fn error_of(resp: reqwest::Response) -> M365Error {
    let status = resp.status().as_u16();
    match resp.bytes().await {
        Ok(b) => M365Error::from_body(status, &b),
        Err(e) => e.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Credential, Endpoints};

    fn client(graph: &str) -> GraphClient {
        let endpoints = Endpoints { graph: graph.into(), ..Endpoints::microsoft() };
        let cfg = TenantConfig {
            endpoints,
            tenant: "t".into(),
            client_id: "c".into(),
            credential: Credential::Secret("s".into()),
        };
        GraphClient::new(cfg, 1).unwrap()
    }

    #[test]
    fn delta_links_are_stored_relative_to_the_graph_base() {
        let c = client("http://127.0.0.1:5555/v1.0");
        let link = "http://127.0.0.1:5555/v1.0/drives/b!x/root/delta?token=abc%2Fd&$select=id";
        assert_eq!(c.link_to_store(link), "/drives/b!x/root/delta?token=abc%2Fd&$select=id");
        assert_eq!(c.stored_link_url(&c.link_to_store(link)).as_deref(), Some(link));
        // Another origin or a path outside the base stays absolute (decided when read).
        let other = "http://127.0.0.1:6666/v1.0/drives/x/root/delta?token=1";
        assert_eq!(c.link_to_store(other), other);
        assert_eq!(c.link_to_store("http://127.0.0.1:5555/beta/x"), "http://127.0.0.1:5555/beta/x");
    }

    #[test]
    fn stored_absolute_links_are_rebased_onto_the_configured_base_or_refused() {
        let c = client("http://127.0.0.1:7777/v1.0/");
        // The emulator restarted on another port: same path and query on the configured base.
        assert_eq!(
            c.stored_link_url("http://127.0.0.1:5555/v1.0/drives/x/root/delta?token=abc").as_deref(),
            Some("http://127.0.0.1:7777/v1.0/drives/x/root/delta?token=abc")
        );
        assert_eq!(
            c.stored_link_url("HTTPS://graph.microsoft.com/v1.0/drives/x/root/delta").as_deref(),
            Some("http://127.0.0.1:7777/v1.0/drives/x/root/delta")
        );
        // Not below /v1.0/, not http(s), not a path: a full enumeration instead.
        for bad in [
            "http://127.0.0.1:5555/beta/drives/x/root/delta",
            "http://127.0.0.1:5555/v1.0x/drives",
            "http://127.0.0.1:5555/",
            "ftp://127.0.0.1/v1.0/drives/x",
            "drives/x/root/delta",
            "",
        ] {
            assert_eq!(c.stored_link_url(bad), None, "{bad}");
        }
        assert_eq!(
            c.stored_link_url("/drives/x/root/delta?token=1").as_deref(),
            Some("http://127.0.0.1:7777/v1.0/drives/x/root/delta?token=1")
        );
    }

    #[test]
    fn tokens_go_only_to_their_own_hosts() {
        let c = client("https://graph.microsoft.com/v1.0");
        let graph = Resource::Graph;
        assert!(c.check_token_destination("https://graph.microsoft.com/v1.0/users?$skiptoken=x", &graph).is_ok());
        assert!(c.check_token_destination("https://GRAPH.microsoft.com:443/v1.0/users", &graph).is_ok());
        for bad in [
            "https://evil.example/v1.0/users",
            "http://graph.microsoft.com/v1.0/users",
            "https://graph.microsoft.com:8443/v1.0/users",
            "https://graph.microsoft.com.evil.example/v1.0/users",
            "https://graph.microsoft.com@evil.example/v1.0/users",
            "not a url",
        ] {
            let e = c.check_token_destination(bad, &graph).unwrap_err();
            assert!(matches!(e, M365Error::UntrustedUrl { .. }), "{bad}: {e}");
            assert!(e.to_string().contains("https://graph.microsoft.com"), "{e}");
        }
        let sp = Resource::SharePoint("contoso.sharepoint.com".into());
        assert!(c.check_token_destination("https://contoso.sharepoint.com/sites/a/_api/web", &sp).is_ok());
        assert!(c.check_token_destination("https://other.sharepoint.com/sites/a/_api/web", &sp).is_err());
        assert!(c.check_token_destination("http://contoso.sharepoint.com/sites/a/_api/web", &sp).is_err());
        // A relative path given to `url` cannot be turned into another host either.
        let bare = client("http://127.0.0.1:5555");
        assert!(bare.check_token_destination(&bare.url("@evil.example/x"), &graph).is_err());
    }
}
