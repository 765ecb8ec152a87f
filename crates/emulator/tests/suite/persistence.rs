//! State survives a restart: control-API changes and Graph writes made over HTTP are there after
//! shutdown and a new start in the same directory (whose seed option is then ignored).

use crate::common;

use common::*;
use reqwest::Method;
use serde_json::{json, Value};

#[tokio::test]
async fn state_survives_restart() {
    let t = TestTenant::start("users=2,files=5").await;
    let token = t.graph_token().await;
    let (_, upn, drive) = t.user(0);
    let tenant = t.tenant_id();
    // Control API changes.
    let resp =
        t.http.patch(format!("{}/_emulator/settings", t.base)).json(&json!({"page_size": 3})).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    let resp =
        t.http.post(format!("{}/_emulator/clock/advance", t.base)).json(&json!({"seconds": 120})).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    // Graph writes: a folder and a file with two versions.
    let (s, folder) = t
        .call(
            &token,
            Method::POST,
            &format!("/drives/{drive}/root/children"),
            Some(json!({"name": "Kept", "folder": {}})),
        )
        .await;
    assert_eq!(s, 201, "{folder}");
    let path = format!("/drives/{drive}/root:/Kept/note.txt:/content");
    for body in ["first version", "second version"] {
        let resp = t.http.put(t.graph(&path)).bearer_auth(&token).body(body).send().await.unwrap();
        assert!(resp.status().is_success(), "{}", resp.status());
    }
    let items_before = t.emu.emu.state().items.len();
    let TestTenant { emu, dir, .. } = t;
    emu.shutdown().await.unwrap();

    // Same directory, different seed: the stored tenant wins.
    let t = TestTenant::start_in(dir, "users=7").await;
    assert_eq!(t.tenant_id(), tenant);
    assert_eq!(t.user(0).1, upn);
    {
        let st = t.emu.emu.state();
        assert_eq!(st.users.len(), 2);
        assert_eq!(st.items.len(), items_before);
        assert_eq!(st.settings.page_size, 3);
        assert_eq!(st.settings.clock_offset_secs, 120);
    }
    // Tokens issued before the restart still validate (the signing key persisted).
    let (s, v) = t.get(&token, &format!("/drives/{drive}/root:/Kept/note.txt")).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["size"], 14);
    let resp = t.http.get(t.graph(&path)).bearer_auth(&token).send().await.unwrap();
    let resp = match resp.status().as_u16() {
        302 => t.http.get(resp.headers()["location"].to_str().unwrap()).send().await.unwrap(),
        _ => resp,
    };
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.bytes().await.unwrap(), "second version");
    let (s, versions) = t.get(&token, &format!("/drives/{drive}/root:/Kept/note.txt:/versions")).await;
    assert_eq!(s, 200);
    assert_eq!(versions["value"].as_array().map(Vec::len), Some(2), "{versions}");
    let (s, _): (_, Value) = t.get(&token, &format!("/drives/{drive}/root:/Kept")).await;
    assert_eq!(s, 200);
}

#[tokio::test]
async fn reseed_persists_and_corrupt_state_is_an_error() {
    let t = TestTenant::start("users=1").await;
    let resp = t
        .http
        .post(format!("{}/_emulator/seed", t.base))
        .json(&json!({"spec": "users=3,files=4,seed=9"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let tenant = t.tenant_id();
    let TestTenant { emu, dir, .. } = t;
    emu.shutdown().await.unwrap();
    let t = TestTenant::start_in(dir, "users=1").await;
    assert_eq!(t.tenant_id(), tenant);
    assert_eq!(t.emu.emu.state().users.len(), 3);
    let TestTenant { emu, dir, .. } = t;
    emu.shutdown().await.unwrap();
    // A damaged state file is reported, not silently replaced by a fresh tenant.
    std::fs::write(dir.path().join("state.json"), b"{\"tenant\": ").unwrap();
    let started = emulator::start(emulator::EmulatorConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        state_dir: dir.path().to_path_buf(),
        seed: Some("users=1".into()),
        public_url: None,
    })
    .await;
    assert!(started.is_err());
}
