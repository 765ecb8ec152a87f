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
        Ok(Self {
            tokens: Arc::new(TokenProvider::new(http.clone(), cfg)),
            http,
            graph_base,
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

    /// Absolute URL for a Graph path (`/users`) or an absolute link (nextLink, deltaLink).
    pub fn url(&self, path_or_url: &str) -> String {
        if path_or_url.starts_with("http://") || path_or_url.starts_with("https://") {
            path_or_url.to_string()
        } else {
            format!("{}{}", self.graph_base, path_or_url)
        }
    }

    /// Send with retries. Returns the final response whatever its status (callers map errors).
    pub async fn send(&self, call: Call<'_>) -> Result<reqwest::Response> {
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
