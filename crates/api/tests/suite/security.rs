//! Security suite (issue #7): what the other API tests do not cover already.
//!
//! Already covered elsewhere, not repeated here: expired and garbage tokens, `Basic` instead of `Bearer`
//! (`http.rs::unauthenticated_and_expired_tokens`), a form body over the limit on `/token` (`http.rs::body_limit`),
//! plain HTTP on the API port (`http.rs::plain_http_is_not_served`), another user's session on single routes
//! (`sessions.rs`, `onedrive.rs`, `save.rs`, …), hostile names in the unit tests of `engine::export`/`engine::save`.
//!
//! Here:
//! * the fuzz properties (`fuzz/src/lib.rs`) on seeded random inputs — the deterministic stand-in for libFuzzer;
//! * oversized JSON bodies on authenticated routes, with and without `Content-Length` → 413, server still serves;
//! * tampered tokens (one character changed, cut, extended, a refresh token or a token's stored hash used as the
//!   bearer, a logged-out logon) → 401;
//! * every route under `RestoreSessions/{id}` (read from the route modules' source, so new routes are swept too)
//!   answers another user's session with 404/403 (or the 400 an unknown session gets too) — never with data;
//! * a backed-up file named `../../etc/x` (and other hostile names) saved as a ZIP and exported stays inside;
//! * plain HTTP with a valid token gets no API answer, and the TLS port keeps serving afterwards.

use crate::common;

#[allow(dead_code)]
#[path = "../../../../fuzz/src/lib.rs"]
mod fuzz_checks;

use std::collections::BTreeSet;
use std::io::{Cursor, Read};
use std::path::{Component, Path};
use std::time::Duration;

use common::*;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// xorshift64: a fixed seed gives the same inputs on every run, so a failure reproduces.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Pieces of request bodies real clients send, plus the characters that trip lenient parsers.
const BODY_TOKENS: &[&str] = &[
    "{",
    "}",
    "[",
    "]",
    ",",
    ":",
    " ",
    "\n",
    "\"save\"",
    "'explore'",
    "restoreToOriginalLocation",
    "\"copyTo\"",
    "null",
    "true",
    "\"True\"",
    "0",
    "1",
    "-1",
    "1.5e3",
    "18446744073709551616",
    "\"asZip\"",
    "\"showDeleted\"",
    "\"datetime\"",
    "\"2021.04.27 10:49\"",
    "\"2024-05-01T00:00:00+02:00\"",
    "\"a€€\"",
    "\"€ UTC\"",
    "\"ab GMT\"",
    "\"4/27/2021 10:49:00 PM\"",
    "\"T+\"",
    "\"documents\"",
    "\"id\"",
    "\"{6F9619FF-8B86-D011-B42D-00C04FC964FF}\"",
    "//c\n",
    "/*",
    "*/",
    "\u{201C}",
    "\u{201D}",
    "\u{FEFF}",
    "\u{A0}",
    "\\",
    "\"",
    "\\u",
    "\\ud83d",
    "é",
    "\u{0}",
    "userName",
    "$x",
    "_",
    "e",
    ".",
    "-",
];

fn random_body(rng: &mut Rng) -> Vec<u8> {
    let mut s = String::new();
    for _ in 0..rng.below(40) {
        s.push_str(BODY_TOKENS[rng.below(BODY_TOKENS.len())]);
    }
    let mut bytes = s.into_bytes();
    // Raw byte damage too: invalid UTF-8, cut multi-byte characters.
    for _ in 0..rng.below(3) {
        if !bytes.is_empty() {
            let i = rng.below(bytes.len());
            bytes[i] = rng.next() as u8;
        }
    }
    bytes
}

/// The checks of the `action_body` fuzz target on thousands of inputs: real action bodies (strict and lenient) and
/// random token soup.
#[test]
fn fuzz_action_body_property_on_seeded_inputs() {
    let known: &[&str] = &[
        r#"{"explore":{"type":"Veod","datetime":"2021.04.27 10:49","showDeleted":"True","showAllVersions":0}}"#,
        r#"{ "restoretoOriginallocation": {"userName": "j", "userPassword": "p", "documents":[{"id":"a"},]} }"#,
        "{ \u{201C}save\u{201D} : { \u{201C}asZip\u{201D} : \u{201C}false\u{201D} } }",
        r#"{"save":null}"#,
        r#"{"sendTo":{"from":"a@b","to":"c@d","subject":"s","text":"t"}}"#,
        r#"{"copyTo":{"oneDrive":{"id":"x"},"folder":"F","documentVersion":"last"}}"#,
        // Date strings whose last bytes are multi-byte characters (zone suffix checks slice by bytes).
        r#"{"explore":{"datetime":"a€€"}}"#,
        r#"{"explore":{"datetime":"x€ UTC"}}"#,
        &"[".repeat(200),
    ];
    for body in known {
        fuzz_checks::check_action_body(body.as_bytes());
    }
    let mut rng = Rng(0x5EC0_12E7_F022_0001);
    for _ in 0..20_000 {
        fuzz_checks::check_action_body(&random_body(&mut rng));
    }
    // Fully random bytes as well.
    for _ in 0..5_000 {
        let data: Vec<u8> = (0..rng.below(64)).map(|_| rng.next() as u8).collect();
        fuzz_checks::check_action_body(&data);
    }
}

const NAME_PIECES: &[&str] = &[
    "..",
    ".",
    "/",
    "\\",
    "../../etc/x",
    "..\\..\\x",
    "C:",
    "C:\\Windows",
    "\0",
    "\n",
    "\u{7F}",
    " ",
    "a",
    "A",
    "a.txt",
    "A.TXT",
    "CON",
    "nul.txt",
    "COM1",
    "Σ",
    "ς",
    "İ",
    "ß",
    "\u{FFFD}",
    "€",
    "~$",
    ":",
    "*",
    "?",
    "\"",
    "<",
    "|",
];

/// The checks of the `zip_names` fuzz target on thousands of random trees of hostile names.
#[test]
fn fuzz_zip_names_property_on_seeded_inputs() {
    let mut rng = Rng(0x5EC0_12E7_F022_0002);
    for round in 0..6_000 {
        let mut data = Vec::new();
        for _ in 0..rng.below(24) {
            data.push(rng.next() as u8); // op: folder/file, parent
            let long = round % 97 == 0;
            for _ in 0..(if long { 60 } else { rng.below(5) }) {
                data.extend_from_slice(NAME_PIECES[rng.below(NAME_PIECES.len())].as_bytes());
            }
            if rng.below(8) == 0 {
                data.push(rng.next() as u8 & 0x7F);
            }
            data.push(0xFF);
        }
        fuzz_checks::check_zip_names(&data);
    }
}

/// A JSON body over the limit on an authenticated action route → 413 naming the limit, with or without
/// `Content-Length`; the server keeps serving.
#[tokio::test]
async fn oversized_json_bodies_are_refused_and_the_server_keeps_serving() {
    let s = TestServer::start(DEFAULT_SEED).await;
    let limit = api::ApiConfig::default().max_body_bytes;
    let explore = format!("/v6/Organizations/{}/explore", s.org);
    let action = format!("/v5/Organizations/{}/Action", s.org);
    let padding = "x".repeat(limit + 1);
    let big = json!({"type": "Veod", "padding": padding}).to_string();

    for path in [&explore, &action] {
        let (st, body) = s.post_raw(path, Some(&s.token), &big).await;
        assert_eq!(st, StatusCode::PAYLOAD_TOO_LARGE, "{path}: {body}");
        let msg = body["message"].as_str().unwrap_or_default();
        assert!(msg.contains("too large") || msg.contains(&limit.to_string()), "{path}: unclear message {body}");
    }

    // Streamed (chunked, no Content-Length): the limit holds while reading, not only on the declared length.
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> =
        (0..(limit / 65_536 + 4)).map(|_| Ok(vec![b' '; 65_536])).collect();
    let r = s
        .client
        .post(s.url(&explore))
        .bearer_auth(&s.token)
        .header("content-type", "application/json")
        .body(reqwest::Body::wrap_stream(futures::stream::iter(chunks)))
        .send()
        .await;
    match r {
        Ok(r) => {
            let (st, body) = read(r).await;
            assert_eq!(st, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
        }
        // The server may close the connection before the client finished sending: equally refused.
        Err(e) => assert!(!e.is_timeout(), "{e}"),
    }

    // Still serving: a body just under the limit is parsed (and then judged on its content).
    let fits = format!("{{\"type\":\"Veod\",\"pad\":\"{}\"}}", "y".repeat(limit - 64));
    let (st, body) = s.post_raw(&explore, Some(&s.token), &fits).await;
    assert_eq!(st, StatusCode::OK, "{body}");
    assert_eq!(s.get("/v6/RestoreSessions", Some(&s.token)).await.0, StatusCode::OK);
}

/// Tokens are opaque random strings, validated by looking up their hash: there is no signature or claim to forge,
/// so "tampering" is any change of the string. Every variant is refused with the standard 401.
#[tokio::test]
async fn tampered_tokens_are_refused() {
    let s = TestServer::start(DEFAULT_SEED).await;
    let r = s
        .client
        .post(s.url("/v8/token"))
        .form(&[("grant_type", "password"), ("username", ADMIN), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    let (st, t) = read(r).await;
    assert_eq!(st, StatusCode::OK, "{t}");
    let access = t["access_token"].as_str().unwrap().to_string();
    let refresh = t["refresh_token"].as_str().unwrap().to_string();
    let path = "/v8/RestoreSessions";
    assert_eq!(s.get(path, Some(&access)).await.0, StatusCode::OK);

    let flip = |i: usize| {
        let mut b = access.clone().into_bytes();
        b[i] = if b[i] == b'A' { b'B' } else { b'A' };
        String::from_utf8(b).unwrap()
    };
    let n = access.len();
    let mut forged = vec![
        flip(0),
        flip(n / 2),
        flip(n - 1),
        access[..n - 1].to_string(),
        format!("{access}A"),
        format!("{access}="),
        access.to_uppercase(),
        access.to_lowercase(),
        format!(" {access}x"),
        refresh.clone(),
        api::store::tokens::token_hash(&access),
        // A JWT-shaped token with `alg: none` and admin-looking claims.
        "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJzdWIiOiJhZG1pbiIsImV4cCI6OTk5OTk5OTk5OX0.".to_string(),
    ];
    forged.retain(|f| f != &access);
    for f in &forged {
        let (st, body) = s.get(path, Some(f)).await;
        assert_eq!(st, StatusCode::UNAUTHORIZED, "{f}: {body}");
        assert_eq!(body["message"], api::edge::error::UNAUTHORIZED_MESSAGE);
    }
    // The real token still works after all that, then logout revokes it (and its refresh token) for good.
    assert_eq!(s.get(path, Some(&access)).await.0, StatusCode::OK);
    let (st, _) = s.call(Method::POST, "/v8/token/logout", Some(&access), None).await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    assert_eq!(s.get(path, Some(&access)).await.0, StatusCode::UNAUTHORIZED);
    let r = s
        .client
        .post(s.url("/v8/token"))
        .form(&[("grant_type", "refresh_token"), ("refresh_token", refresh.as_str())])
        .send()
        .await
        .unwrap();
    assert!(r.status().is_client_error() && r.status() != StatusCode::NOT_FOUND, "{}", r.status());
}

/// Every path served under `/{version}/RestoreSessions/{id}`: the route table's OpenAPI document (operations registered
/// with `routes!`), plus the modules not yet in the table, read from their source: constants (`const BASE: &str = "…"`)
/// are substituted into `.route(&format!("{BASE}/…"), …)` calls.
fn session_routes() -> BTreeSet<String> {
    let mut out: BTreeSet<String> = api::router::document()
        .paths
        .paths
        .into_keys()
        .filter(|path| path.starts_with("/{version}/RestoreSessions/{id}"))
        .collect();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/resources");
    for entry in std::fs::read_dir(&dir).unwrap() {
        let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        let mut consts: Vec<(String, String)> = Vec::new();
        for line in text.lines() {
            let l = line.trim_start().trim_start_matches("pub ");
            if let Some(rest) = l.strip_prefix("const ") {
                if let (Some((name, _)), Some(start)) = (rest.split_once(':'), rest.find("= \"/{version}")) {
                    let value = rest[start + 3..].trim_end_matches(';').trim_end_matches('"');
                    consts.push((name.trim().to_string(), value.to_string()));
                }
            }
        }
        let mut rest = text.as_str();
        while let Some(i) = rest.find(".route(") {
            rest = &rest[i + 7..];
            let arg = rest.trim_start();
            let raw = if let Some(a) = arg.strip_prefix("&format!(\"") {
                a.split('"').next().unwrap()
            } else if let Some(a) = arg.strip_prefix('"') {
                a.split('"').next().unwrap()
            } else {
                continue;
            };
            let mut path = raw.to_string();
            for (name, value) in &consts {
                path = path.replace(&format!("{{{name}}}"), value);
            }
            let path = path.replace("{{", "{").replace("}}", "}");
            if path.starts_with("/{version}/RestoreSessions/{id}") {
                out.insert(path);
            }
        }
    }
    out
}

/// A session id nobody has.
const UNKNOWN: &str = "0badc0de-0000-4000-8000-000000000000";

/// Another user's restore session is invisible through every route: 404 (or 403), never 2xx or 5xx, and always the
/// same answer as for a session that does not exist, for GET, POST (with an empty and with plausible bodies), PUT
/// and DELETE. As a control, the owner reads the same GET routes.
#[tokio::test]
async fn another_users_restore_session_is_invisible_everywhere() {
    let s = TestServer::start(DEFAULT_SEED).await;
    let routes = session_routes();
    assert!(routes.len() >= 40, "the route scan found only {} routes: {routes:?}", routes.len());
    let veod = s.explore(6, "Veod", None).await;
    let vesp = s.explore(6, "Vesp", None).await;
    let od = s.changes.onedrive.to_string();
    let doc = s.changes.created.clone();
    let sid_of = |route: &str| if route.contains("/Sites") { vesp.as_str() } else { veod.as_str() };
    let concrete = |route: &str, version: &str| {
        let sid = sid_of(route);
        route
            .replace("{version}", version)
            .replace("{id}", sid)
            .replace("{oneDriveId}", &od)
            .replace("{documentId}", &doc)
            .replace("{versionId}", "1.0")
            .split('/')
            .map(|seg| if seg.starts_with('{') { "00000000-0000-0000-0000-000000000001" } else { seg })
            .collect::<Vec<_>>()
            .join("/")
    };
    let bodies: [Option<&[u8]>; 3] = [
        None,
        Some(br#"{"asZip":true,"userName":"u","userPassword":"p","documents":[{"id":"x"}]}"#),
        Some(br#"{"save":{"asZip":true}}"#),
    ];
    let mut owner_ok = 0;
    let mut checked = 0;
    for route in &routes {
        for version in ["v5", "v6", "v7", "v8"] {
            let path = concrete(route, version);
            for method in [Method::GET, Method::POST, Method::PUT, Method::DELETE] {
                let bodies: &[Option<&[u8]>] = if method == Method::POST { &bodies } else { &bodies[..1] };
                for body in bodies {
                    let (st, b) = s.call(method.clone(), &path, Some(&s.other_token), *body).await;
                    checked += 1;
                    // A body the route refuses on its own (400) may be refused before the session is looked up:
                    // harmless as long as an unknown session gets the very same answer (no existence oracle).
                    let (st_unknown, _) = s
                        .call(method.clone(), &path.replace(sid_of(route), UNKNOWN), Some(&s.other_token), *body)
                        .await;
                    assert!(
                        matches!(st, StatusCode::NOT_FOUND | StatusCode::FORBIDDEN | StatusCode::METHOD_NOT_ALLOWED)
                            || (st == StatusCode::BAD_REQUEST && st_unknown == st),
                        "{method} {path} as another user: {st} {b}"
                    );
                    assert_eq!(st, st_unknown, "{method} {path}: another user's session answers unlike an unknown one");
                    let text = b.to_string();
                    assert!(!text.contains(&s.changes.upn), "{method} {path} leaks the OneDrive owner: {text}");
                }
            }
            if version == "v6" && !route.contains("/Sites") {
                let (st, _) = s.get(&path, Some(&s.token)).await;
                owner_ok += usize::from(st == StatusCode::OK);
            }
        }
    }
    assert!(owner_ok >= 5, "the owner could read only {owner_ok} of the GET routes: the sweep proves nothing");
    assert!(checked > 500, "{checked}");
    // The sessions are untouched by all that: still working for their owner.
    for sid in [&veod, &vesp] {
        let (st, b) = s.get(&format!("/v6/RestoreSessions/{sid}"), Some(&s.token)).await;
        assert_eq!(st, StatusCode::OK, "{b}");
        assert_eq!(b["state"], "Working", "{b}");
    }
}

/// A file the tenant names `../../etc/x` (and others: backslashes, `..` folder, absolute, NUL) is saved as a ZIP and
/// exported inside the archive / destination, with every file present.
#[tokio::test]
async fn hostile_names_stay_inside_archives_and_exports() {
    let s = TestServer::start(DEFAULT_SEED).await;
    let hostile_files = ["../../etc/x", "..\\..\\evil.txt", "/abs/path", "nul\0byte", "C:\\Windows\\win.ini", ".."];
    let drive = s.changes.drive_id.clone();
    {
        let emu = &s.tenant.emu.emu;
        let now = emu.now();
        let mut st = emu.state();
        let mut files: Vec<String> = st
            .items
            .values()
            .filter(|i| i.drive_id == drive && !i.is_folder && i.deleted.is_none())
            .map(|i| i.id.clone())
            .collect();
        files.sort();
        assert!(files.len() >= 3, "too few files: {}", files.len());
        // A misbehaving (or hostile) tenant: the emulator's Graph front refuses such names, so rename in its state.
        for (id, name) in files.iter().zip(hostile_files) {
            st.rename_move(id, Some(name), None, Default::default(), now);
        }
        let folder = st
            .items
            .values()
            .find(|i| i.drive_id == drive && i.is_folder && i.parent_id.is_some() && i.deleted.is_none())
            .map(|i| i.id.clone());
        if let Some(f) = folder {
            st.rename_move(&f, Some(".."), None, Default::default(), now);
        }
    }
    let report = s.backup().await;
    let rp = report.restore_point.expect("restore point");
    let live_files = {
        let st = s.tenant.emu.emu.state();
        st.items.values().filter(|i| i.drive_id == drive && !i.is_folder && i.deleted.is_none()).count()
    };

    // Save: the whole OneDrive as a ZIP.
    let sid = s.explore(6, "Veod", None).await;
    let r = s
        .client
        .post(s.url(&format!("/v6/RestoreSessions/{sid}/Organization/OneDrives/{}/save", s.changes.onedrive)))
        .bearer_auth(&s.token)
        .header("content-type", "application/json")
        .body(r#"{"asZip":true}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let bytes = r.bytes().await.unwrap();
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes.to_vec())).unwrap();
    let mut zip_files = 0;
    let mut names = BTreeSet::new();
    for i in 0..zip.len() {
        let mut f = zip.by_index(i).unwrap();
        let name = f.name().to_string();
        assert!(f.enclosed_name().is_some(), "{name:?} escapes the archive");
        assert!(!name.starts_with('/') && !name.contains(['\\', '\0', ':']), "{name:?}");
        let trimmed = name.trim_end_matches('/');
        assert!(trimmed.split('/').all(|c| !c.is_empty() && c != "." && c != ".."), "{name:?}");
        assert!(names.insert(name.to_lowercase()), "duplicate {name:?}");
        if !f.is_dir() {
            let mut data = Vec::new();
            f.read_to_end(&mut data).unwrap();
            zip_files += 1;
        }
    }
    // The session shows deleted items too, so the archive may hold more than the tenant's live files.
    assert!(zip_files >= live_files, "a file is missing from the archive ({zip_files} < {live_files}): {names:?}");

    // Export: everything below the destination, nothing next to or above it.
    let root = tempfile::tempdir().unwrap();
    let dest = root.path().join("a/b/export");
    let rep =
        engine::export::export_restore_point(&s.catalog, &s.repo, rp.id, &dest, &Default::default()).await.unwrap();
    assert!(rep.errors.is_empty(), "{:?}", rep.errors);
    let listing = |p: &Path| -> Vec<String> {
        let mut v: Vec<String> =
            std::fs::read_dir(p).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
        v.sort();
        v
    };
    assert_eq!(listing(root.path()), ["a"]);
    assert_eq!(listing(&root.path().join("a")), ["b"]);
    assert_eq!(listing(&root.path().join("a/b")), ["export"]);
    let mut stack = vec![dest.clone()];
    let mut exported = 0;
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let e = e.unwrap();
            let p = e.path();
            let rel = p.strip_prefix(&dest).unwrap();
            assert!(rel.components().all(|c| matches!(c, Component::Normal(_))), "{p:?}");
            assert!(std::fs::canonicalize(&p).unwrap().starts_with(std::fs::canonicalize(&dest).unwrap()));
            if e.file_type().unwrap().is_dir() {
                stack.push(p);
            } else {
                exported += 1;
            }
        }
    }
    assert!(exported >= live_files, "exported {exported} files of {live_files}");
}

/// Plain HTTP carrying a valid token gets no HTTP answer at all (so no data), and TLS clients are served meanwhile.
#[tokio::test]
async fn plain_http_with_a_valid_token_gets_nothing_and_tls_keeps_serving() {
    let s = TestServer::start(DEFAULT_SEED).await;
    for _ in 0..3 {
        let mut tcp = tokio::net::TcpStream::connect(s.api.addr).await.unwrap();
        let req = format!(
            "GET /v6/RestoreSessions HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {}\r\nConnection: close\r\n\r\n",
            s.token
        );
        tcp.write_all(req.as_bytes()).await.unwrap();
        let mut buf = Vec::new();
        let _ = tokio::time::timeout(Duration::from_secs(15), tcp.read_to_end(&mut buf)).await.expect("not closed");
        assert!(!buf.starts_with(b"HTTP/"), "plain HTTP got an answer: {}", String::from_utf8_lossy(&buf));
        assert!(!String::from_utf8_lossy(&buf).contains("RestoreSessions"), "{buf:?}");
        let (st, b): (StatusCode, Value) = s.get("/v6/RestoreSessions", Some(&s.token)).await;
        assert_eq!(st, StatusCode::OK, "{b}");
    }
    // h2c (HTTP/2 prior knowledge without TLS) is not served either.
    let mut tcp = tokio::net::TcpStream::connect(s.api.addr).await.unwrap();
    tcp.write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n").await.unwrap();
    let mut buf = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(15), tcp.read_to_end(&mut buf)).await.expect("not closed");
    assert!(buf.is_empty() || buf[0] == 0x15, "h2c got a non-TLS answer: {buf:?}");
}
