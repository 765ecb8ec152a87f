//! Drive delta queries (graph-notes §3): full enumeration, `token=latest`, deltaLink continuation,
//! paging, resync.
//!
//! Model: every change of an item records the drive's next sequence number on the item
//! (`change_seq`, kept by `state::ops`). A round of delta returns the *latest* state of every item
//! with `since < change_seq <= upper`, where `upper` is the drive's sequence number when the round
//! started (a snapshot bound: changes made while a client pages through a round go to the next
//! round). Each changed item is preceded by its live ancestors (duplicates across pages are
//! allowed, as in Graph). Items are ordered by `(change_seq, id)` and a page cursor remembers the
//! last one emitted, so items leaving the window mid-round (because they changed again) do not
//! shift the remaining pages.
//!
//! Tokens are opaque, HMAC-signed (with the tenant signing key) payloads of `{drive, since, upper,
//! cursor}`; anything that does not verify is a 400. A token issued before the drive's
//! `delta_floor` (see [`force_resync`]) or "from the future" (state was reset) answers
//! `410 Gone` with a `Location` header that restarts a full enumeration, error code
//! `resyncRequired` and inner code `resyncChangesApplyDifferences` (graph-notes §3.7, §13.3).
//!
//! Choices where Microsoft's behaviour is not pinned down:
//! - Delta on a folder other than the root → 400 `invalidRequest` (ODB/SPO support root delta only).
//! - Timestamp tokens (`?token=2026-01-05T10:00:00Z`) return items modified or deleted at or after
//!   that instant (plus everything that changed after the oldest of those) and are not subject
//!   to the resync floor.
//! - Request header `deltaExcludeParent: true` omits ancestors, except the root.

use std::collections::HashSet;

use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use super::render::{item_json, ItemOpts};
use super::routes::*;
use crate::ctx::Ctx;
use crate::error::{GraphError, GraphResult};
use crate::state::{State, Time};

/// Signed token payload.
#[derive(Serialize, Deserialize, Debug, Clone)]
struct Token {
    /// Drive id.
    d: String,
    /// Changes after this sequence number.
    s: u64,
    /// Snapshot upper bound of a round in progress (nextLink); absent in deltaLinks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    u: Option<u64>,
    /// Last `(change_seq, item id)` emitted in this round.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    a: Option<(u64, String)>,
    /// Full enumeration: live items only.
    #[serde(default)]
    f: bool,
}

impl Token {
    /// The sequence number at which the token was issued (compared with the resync floor).
    fn issued(&self) -> u64 {
        self.u.unwrap_or(self.s)
    }
}

/// Invalidate every outstanding delta token (and nextLink) of one drive or of all drives: their
/// next use answers 410 resync. Used by the control API.
pub fn force_resync(st: &mut State, drive_id: Option<&str>) {
    for d in st.drives.values_mut().filter(|d| drive_id.is_none_or(|id| id == d.id)) {
        // Bump the sequence so tokens issued from now on sit at or above the floor.
        d.seq += 1;
        d.delta_floor = d.seq;
    }
}

/// The raw token of `?token=` or of the function-call form `delta(token='…')`.
fn raw_token(ctx: &Ctx) -> Option<String> {
    if let Some(t) = ctx.query.get("token") {
        return Some(t.to_string());
    }
    let last = ctx.path.rsplit('/').next()?;
    let last = percent_encoding::percent_decode_str(last).decode_utf8_lossy().into_owned();
    let args = last.split_once('(')?.1.strip_suffix(')')?;
    let v = args.trim().strip_prefix("token")?.trim_start().strip_prefix('=')?.trim();
    let v = v.strip_prefix('\'').and_then(|v| v.strip_suffix('\'')).unwrap_or(v);
    Some(v.to_string())
}

/// Request path without the function arguments: `/drives/x/root/delta`.
fn link_path(ctx: &Ctx) -> String {
    match ctx.path.rsplit_once('/') {
        Some((head, last)) => {
            let name = last.split_once('(').map(|(n, _)| n).unwrap_or(last);
            let name = name.split_once("%28").map(|(n, _)| n).unwrap_or(name);
            format!("{head}/{name}")
        }
        None => ctx.path.clone(),
    }
}

/// Query string of the request without `token` (so `$select`/`$top`/`$expand` carry over).
fn query_without_token(ctx: &Ctx) -> String {
    let mut ser = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in &ctx.query.0 {
        if !k.trim_start_matches('$').eq_ignore_ascii_case("token") {
            ser.append_pair(k, v);
        }
    }
    ser.finish()
}

fn link(ctx: &Ctx, key: &[u8], tok: &Token) -> String {
    let token = crate::preauth::sign(key, tok);
    format!("{}{}?{}", ctx.graph_base(), link_path(ctx), ctx.query.with("token", &token))
}

fn resync(ctx: &Ctx) -> GraphError {
    let q = query_without_token(ctx);
    let fresh = format!("{}{}{}{}", ctx.graph_base(), link_path(ctx), if q.is_empty() { "" } else { "?" }, q);
    GraphError::new(
        StatusCode::GONE,
        "resyncRequired",
        "Resync required. Replace any local items with the server's version (including deletes) if you're sure \
         that the service was up to date with your local changes when you last sync'd. Upload any local changes \
         that the server doesn't know about.",
    )
    .inner("resyncChangesApplyDifferences")
    .header("Location", fresh)
}

fn bad_token() -> GraphError {
    GraphError::bad_request("The delta token is not valid.")
}

/// Sequence number just before the oldest change at or after `at` (timestamp tokens).
fn since_timestamp(st: &State, drive: &str, at: Time) -> u64 {
    st.items
        .values()
        .filter(|i| i.drive_id == drive && (i.modified >= at || i.deleted.is_some_and(|d| d >= at)))
        .map(|i| i.change_seq.saturating_sub(1))
        .min()
        .unwrap_or_else(|| st.drives.get(drive).map(|d| d.seq).unwrap_or(0))
}

/// `GET …/root/delta`.
pub fn drive_delta(ctx: &Ctx, sel: &ItemSel) -> GraphResult {
    let exclude_parents = ctx.header("deltaExcludeParent").is_some_and(|v| v.trim().eq_ignore_ascii_case("true"));
    let raw = raw_token(ctx);
    let st = ctx.emu.state();
    let (drive_id, item_id) = super::resolve::item(ctx, &st, sel)?;
    let drive = &st.drives[&drive_id];
    if item_id != drive.root_id {
        return Err(GraphError::bad_request("Delta is only supported on the root folder of a drive."));
    }
    let key = crate::preauth::signing_key(&st);
    let page = ctx
        .query
        .get("top")
        .map(|t| t.trim().parse::<usize>().map_err(|_| GraphError::bad_request(format!("Invalid $top value '{t}'."))))
        .transpose()?
        .filter(|t| *t > 0)
        .unwrap_or(st.settings.page_size)
        .max(1);

    let tok = match raw.as_deref().map(str::trim) {
        None | Some("") => Token { d: drive_id.clone(), s: 0, u: None, a: None, f: true },
        Some(t) if t.eq_ignore_ascii_case("latest") => {
            let tok = Token { d: drive_id.clone(), s: drive.seq, u: None, a: None, f: false };
            let body = json!({"value": [], "@odata.deltaLink": link(ctx, &key, &tok)});
            return Ok((StatusCode::OK, axum::Json(body)).into_response());
        }
        Some(t) => match chrono::DateTime::parse_from_rfc3339(t) {
            Ok(at) => Token {
                d: drive_id.clone(),
                s: since_timestamp(&st, &drive_id, at.with_timezone(&chrono::Utc)),
                u: None,
                a: None,
                f: false,
            },
            Err(_) => {
                let tok: Token = crate::preauth::verify(&key, t).ok_or_else(bad_token)?;
                if tok.d != drive_id {
                    return Err(GraphError::bad_request("The delta token belongs to another drive."));
                }
                if tok.issued() < drive.delta_floor || tok.issued() > drive.seq {
                    return Err(resync(ctx));
                }
                tok
            }
        },
    };

    let upper = tok.u.unwrap_or(drive.seq);
    let mut changed: Vec<(u64, &str)> = st
        .items
        .values()
        .filter(|i| i.drive_id == drive_id && i.change_seq > tok.s && i.change_seq <= upper)
        .filter(|i| !tok.f || i.deleted.is_none())
        .map(|i| (i.change_seq, i.id.as_str()))
        .filter(|k| tok.a.as_ref().is_none_or(|(s, id)| (k.0, k.1) > (*s, id.as_str())))
        .collect();
    changed.sort_unstable();

    let opts = ItemOpts { delta: true, download_url: true };
    let mut out: Vec<Value> = Vec::new();
    let mut emitted: HashSet<&str> = HashSet::new();
    let mut last: Option<(u64, &str)> = None;
    let mut consumed = 0;
    for &(seq, id) in &changed {
        if out.len() >= page {
            break;
        }
        consumed += 1;
        last = Some((seq, id));
        let mut chain: Vec<String> = st.ancestors(id);
        if exclude_parents {
            chain.retain(|a| *a == drive.root_id);
        }
        for a in chain.iter().rev() {
            if let Some(it) = st.live_item(a) {
                if emitted.insert(it.id.as_str()) {
                    out.push(ctx.select(item_json(ctx.emu, &st, it, opts)));
                }
            }
        }
        if let Some(it) = st.items.get(id) {
            if emitted.insert(it.id.as_str()) {
                out.push(ctx.select(item_json(ctx.emu, &st, it, opts)));
            }
        }
    }

    let mut body = Map::new();
    body.insert("value".into(), Value::Array(out));
    if consumed < changed.len() {
        let (seq, id) = last.expect("a page consumes at least one change");
        let next = Token { d: drive_id.clone(), s: tok.s, u: Some(upper), a: Some((seq, id.to_string())), f: tok.f };
        body.insert("@odata.nextLink".into(), json!(link(ctx, &key, &next)));
    } else {
        let next = Token { d: drive_id.clone(), s: upper, u: None, a: None, f: false };
        body.insert("@odata.deltaLink".into(), json!(link(ctx, &key, &next)));
    }
    Ok((StatusCode::OK, axum::Json(Value::Object(body))).into_response())
}
