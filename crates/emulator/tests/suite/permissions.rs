//! Permissions (graph-notes §6): the drive owner's permission, inheritance with `inheritedFrom`,
//! invite / createLink / PATCH / DELETE with their failure modes, the `shared` facet and eTag
//! bumps; and the optional server-side copy (§5.7) with its monitor URL.

use crate::common;

use common::*;
use emulator::state::{IdentitySet, NewItem};
use reqwest::Method;
use serde_json::{json, Value};

fn mk(t: &TestTenant, drive: &str, parent: &str, name: &str, content: Option<&[u8]>) -> String {
    let now = chrono::Utc::now();
    let blob = content.map(|c| t.emu.emu.blobs.put(c).unwrap());
    let mut st = t.emu.emu.state();
    let id = st.create_item(NewItem {
        drive_id: drive,
        parent_id: parent,
        name,
        is_folder: content.is_none(),
        by: IdentitySet::default(),
        now,
    });
    if let Some((c, size, qx)) = blob {
        st.add_version(&id, c, size, qx, IdentitySet::default(), now);
    }
    id
}

fn root_of(t: &TestTenant, drive: &str) -> String {
    t.emu.emu.state().drives[drive].root_id.clone()
}

fn values(v: &Value) -> Vec<Value> {
    v["value"].as_array().cloned().unwrap_or_default()
}

fn tags(t: &TestTenant, id: &str) -> (u64, u64) {
    let st = t.emu.emu.state();
    (st.items[id].etag_version, st.items[id].ctag_version)
}

#[tokio::test]
async fn owner_permission_and_inheritance() {
    let t = TestTenant::start("users=3").await;
    let token = t.graph_token().await;
    let (owner, upn, drive) = t.user(0);
    let (bob, _, _) = t.user(1);
    let root = root_of(&t, &drive);
    let folder = mk(&t, &drive, &root, "Shared", None);
    let file = mk(&t, &drive, &folder, "doc.txt", Some(b"doc"));

    let (s, v) = t.get(&token, &format!("/users/{upn}/drive/root/permissions")).await;
    assert_eq!(s, 200, "{v}");
    let perms = values(&v);
    assert_eq!(perms.len(), 1, "{v}");
    let op = &perms[0];
    assert_eq!(op["roles"], json!(["owner"]));
    assert_eq!(op["grantedToV2"]["user"]["id"], owner.as_str());
    assert!(op["grantedToV2"]["siteUser"]["loginName"].as_str().unwrap().ends_with(&upn));
    assert_eq!(op["grantedTo"]["user"]["id"], owner.as_str());
    assert!(op.get("inheritedFrom").is_none());
    let owner_pid = op["id"].as_str().unwrap().to_string();

    // The owner permission cannot be removed or changed.
    let (s, v) = t.call(&token, Method::DELETE, &format!("/drives/{drive}/root/permissions/{owner_pid}"), None).await;
    assert_eq!(s, 403);
    assert_graph_error(&v, "accessDenied");
    let (s, _) = t
        .call(
            &token,
            Method::PATCH,
            &format!("/drives/{drive}/root/permissions/{owner_pid}"),
            Some(json!({"roles": ["read"]})),
        )
        .await;
    assert_eq!(s, 403);
    // The OneDrive root itself cannot be shared.
    let (s, _) = t
        .call(
            &token,
            Method::POST,
            &format!("/drives/{drive}/root/invite"),
            Some(json!({"recipients": [{"objectId": bob}], "roles": ["read"], "sendInvitation": false})),
        )
        .await;
    assert_eq!(s, 403);

    // Share the folder; the file inherits.
    let (before_e, before_c) = tags(&t, &folder);
    let (s, v) = t
        .call(
            &token,
            Method::POST,
            &format!("/drives/{drive}/items/{folder}/invite"),
            Some(json!({"recipients": [{"objectId": bob}], "roles": ["write"], "requireSignIn": true, "sendInvitation": false})),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    let granted = &values(&v)[0];
    assert_eq!(granted["roles"], json!(["write"]));
    assert_eq!(granted["grantedToV2"]["user"]["id"], bob.as_str());
    assert!(granted["invitation"]["email"].is_string());
    let bob_pid = granted["id"].as_str().unwrap().to_string();
    let (after_e, after_c) = tags(&t, &folder);
    assert_eq!(after_e, before_e + 1, "eTag bumps on sharing");
    assert_eq!(after_c, before_c, "cTag does not");

    let (s, v) = t.get(&token, &format!("/drives/{drive}/items/{file}/permissions")).await;
    assert_eq!(s, 200);
    let perms = values(&v);
    assert_eq!(perms.len(), 2, "{v}");
    let inherited = perms.iter().find(|p| p["id"] == bob_pid.as_str()).expect("inherited grant");
    assert_eq!(inherited["inheritedFrom"]["id"], folder.as_str());
    assert_eq!(inherited["inheritedFrom"]["driveId"], drive.as_str());
    assert_eq!(inherited["inheritedFrom"]["path"], format!("/drives/{drive}/root:/Shared"));
    let owner_inh = perms.iter().find(|p| p["id"] == owner_pid.as_str()).expect("owner inherited");
    assert_eq!(owner_inh["inheritedFrom"]["id"], root.as_str());

    // One inherited permission by id; it cannot be deleted or changed where it is inherited.
    let (s, v) = t.get(&token, &format!("/drives/{drive}/items/{file}/permissions/{bob_pid}")).await;
    assert_eq!(s, 200);
    assert_eq!(v["inheritedFrom"]["id"], folder.as_str());
    let (s, v) =
        t.call(&token, Method::DELETE, &format!("/drives/{drive}/items/{file}/permissions/{bob_pid}"), None).await;
    assert_eq!(s, 403);
    assert_graph_error(&v, "accessDenied");
    let (s, v) = t.get(&token, &format!("/drives/{drive}/items/{file}/permissions/nope")).await;
    assert_eq!(s, 404);
    assert_graph_error(&v, "itemNotFound");

    // $select applies to the collection.
    let (_, v) = t.get(&token, &format!("/drives/{drive}/items/{file}/permissions?$select=roles")).await;
    assert!(values(&v).iter().all(|p| p.get("grantedToV2").is_none() && p["roles"].is_array()));

    // PATCH roles, then DELETE where it is defined.
    let (s, v) = t
        .call(
            &token,
            Method::PATCH,
            &format!("/drives/{drive}/items/{folder}/permissions/{bob_pid}"),
            Some(json!({"roles": ["read"]})),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["roles"], json!(["read"]));
    let (s, _) = t
        .call(
            &token,
            Method::PATCH,
            &format!("/drives/{drive}/items/{folder}/permissions/{bob_pid}"),
            Some(json!({"roles": ["owner"]})),
        )
        .await;
    assert_eq!(s, 400);
    let (s, _) = t
        .call(
            &token,
            Method::PATCH,
            &format!("/drives/{drive}/items/{folder}/permissions/missing"),
            Some(json!({"roles": ["read"]})),
        )
        .await;
    assert_eq!(s, 404);
    assert!(!t.emu.emu.state().items[&folder].permissions.is_empty());
    let (s, _) =
        t.call(&token, Method::DELETE, &format!("/drives/{drive}/items/{folder}/permissions/{bob_pid}"), None).await;
    assert_eq!(s, 204);
    assert!(t.emu.emu.state().items[&folder].permissions.is_empty(), "shared facet goes away");
    let (s, _) = t.get(&token, &format!("/drives/{drive}/items/{folder}/permissions/{bob_pid}")).await;
    assert_eq!(s, 404);
    let (s, _) =
        t.call(&token, Method::DELETE, &format!("/drives/{drive}/items/{folder}/permissions/{bob_pid}"), None).await;
    assert_eq!(s, 404);
}

#[tokio::test]
async fn invite_resolution_and_validation() {
    let t = TestTenant::start("users=3").await;
    let token = t.graph_token().await;
    let (_, _, drive) = t.user(0);
    let (bob, bob_upn, _) = t.user(1);
    let (carol, carol_upn, _) = t.user(2);
    let root = root_of(&t, &drive);
    let file = mk(&t, &drive, &root, "plan.txt", Some(b"plan"));
    let invite = |body: Value| {
        let t = &t;
        let token = token.clone();
        let file = file.clone();
        let drive = drive.clone();
        async move { t.call(&token, Method::POST, &format!("/drives/{drive}/items/{file}/invite"), Some(body)).await }
    };

    let (s, v) =
        invite(json!({"recipients": [{"objectId": "00000000-0000-4000-8000-000000000000"}], "roles": ["read"]})).await;
    assert_eq!(s, 400);
    assert_graph_error(&v, "invalidRequest");
    assert_eq!(v["error"]["innerError"]["code"], "noResolvedUsers");
    assert!(v["error"]["message"].as_str().unwrap().contains("could not be resolved"));
    let (s, v) = invite(json!({"recipients": [{"email": "ghost@elsewhere.example"}], "roles": ["read"]})).await;
    assert_eq!(s, 400);
    assert_eq!(v["error"]["innerError"]["code"], "noResolvedUsers");
    let (s, v) = invite(json!({"recipients": [{"objectId": bob}], "roles": ["owner"]})).await;
    assert_eq!(s, 400);
    assert_graph_error(&v, "invalidRequest");
    let (s, _) = invite(json!({"recipients": [], "roles": ["read"]})).await;
    assert_eq!(s, 400);
    let (s, _) = invite(json!({"recipients": [{"objectId": bob}], "roles": []})).await;
    assert_eq!(s, 400);
    let (s, _) = invite(json!({"recipients": [{"objectId": bob, "email": bob_upn}], "roles": ["read"]})).await;
    assert_eq!(s, 400);
    assert!(t.emu.emu.state().items[&file].permissions.is_empty(), "failed invites grant nothing");

    // email and alias recipients resolve; one permission per recipient.
    let alias = carol_upn.split('@').next().unwrap().to_string();
    let (s, v) = invite(json!({"recipients": [{"email": bob_upn}, {"alias": alias}], "roles": ["read"],
        "requireSignIn": true, "sendInvitation": false, "expirationDateTime": "2030-01-01T00:00:00Z"}))
    .await;
    assert_eq!(s, 200, "{v}");
    let perms = values(&v);
    assert_eq!(perms.len(), 2);
    assert_eq!(perms[0]["grantedToV2"]["user"]["id"], bob.as_str());
    assert_eq!(perms[1]["grantedToV2"]["user"]["id"], carol.as_str());
    assert_eq!(perms[0]["expirationDateTime"], "2030-01-01T00:00:00Z");
    // Re-inviting updates the existing grant instead of adding one.
    let (s, v) = invite(json!({"recipients": [{"objectId": bob}], "roles": ["write"]})).await;
    assert_eq!(s, 200);
    assert_eq!(values(&v)[0]["id"], perms[0]["id"]);
    assert_eq!(t.emu.emu.state().items[&file].permissions.len(), 2);

    // Unknown item → 404.
    let (s, _) = t
        .call(
            &token,
            Method::POST,
            &format!("/drives/{drive}/items/01NOPE/invite"),
            Some(json!({"recipients": [{"objectId": bob}], "roles": ["read"]})),
        )
        .await;
    assert_eq!(s, 404);
}

#[tokio::test]
async fn create_link_and_retain_inherited_permissions() {
    let t = TestTenant::start("users=3").await;
    let token = t.graph_token().await;
    let (_, _, drive) = t.user(0);
    let (bob, _, _) = t.user(1);
    let (carol, _, _) = t.user(2);
    let root = root_of(&t, &drive);
    let folder = mk(&t, &drive, &root, "Team", None);
    let a = mk(&t, &drive, &folder, "a.txt", Some(b"a"));
    let b = mk(&t, &drive, &folder, "b.txt", Some(b"b"));
    let link = |id: String, body: Value| {
        let t = &t;
        let token = token.clone();
        let drive = drive.clone();
        async move { t.call(&token, Method::POST, &format!("/drives/{drive}/items/{id}/createLink"), Some(body)).await }
    };

    let (s, v) = link(a.clone(), json!({"type": "view", "scope": "organization"})).await;
    assert_eq!(s, 201, "{v}");
    assert_eq!(v["roles"], json!(["read"]));
    assert_eq!(v["link"]["type"], "view");
    assert_eq!(v["link"]["scope"], "organization");
    assert!(v["link"]["webUrl"].as_str().unwrap().starts_with(&t.base));
    assert!(v["shareId"].as_str().unwrap().starts_with("u!"));
    assert_eq!(v["hasPassword"], false);
    let first = v["id"].clone();
    // Same type + scope by the same app → the existing link, 200.
    let (s, v) = link(a.clone(), json!({"type": "view", "scope": "organization"})).await;
    assert_eq!(s, 200);
    assert_eq!(v["id"], first);
    let (s, v) = link(a.clone(), json!({"type": "edit", "scope": "anonymous", "password": "s3cret"})).await;
    assert_eq!(s, 201);
    assert_eq!(v["roles"], json!(["write"]));
    assert_eq!(v["hasPassword"], true);
    assert_ne!(v["id"], first);
    assert_eq!(t.emu.emu.state().items[&a].permissions.len(), 2);

    for bad in [
        json!({"type": "embed"}),
        json!({"type": "nonsense"}),
        json!({}),
        json!({"type": "view", "scope": "galaxy"}),
        json!({"type": "view", "scope": "users", "recipients": [{"objectId": "no-such-user"}]}),
    ] {
        let (s, v) = link(a.clone(), bad.clone()).await;
        assert_eq!(s, 400, "{bad} → {v}");
        assert_graph_error(&v, "invalidRequest");
    }

    // users-scoped link with recipients.
    let (s, v) = link(b.clone(), json!({"type": "view", "scope": "users", "recipients": [{"objectId": bob}]})).await;
    assert_eq!(s, 201, "{v}");
    assert_eq!(v["grantedToIdentitiesV2"][0]["user"]["id"], bob.as_str());
    let (s, v) = link(b.clone(), json!({"type": "view", "scope": "users", "recipients": [{"objectId": carol}]})).await;
    assert_eq!(s, 200);
    assert_eq!(v["grantedToIdentitiesV2"].as_array().unwrap().len(), 2);

    // retainInheritedPermissions:false on the first share cuts what the folder grants.
    let (s, _) = t
        .call(
            &token,
            Method::POST,
            &format!("/drives/{drive}/items/{folder}/invite"),
            Some(json!({"recipients": [{"objectId": carol}], "roles": ["write"], "sendInvitation": false})),
        )
        .await;
    assert_eq!(s, 200);
    let c = mk(&t, &drive, &folder, "c.txt", Some(b"c"));
    let (_, v) = t.get(&token, &format!("/drives/{drive}/items/{c}/permissions")).await;
    assert_eq!(values(&v).len(), 2, "owner + carol inherited: {v}");
    let (s, _) =
        link(c.clone(), json!({"type": "view", "scope": "organization", "retainInheritedPermissions": false})).await;
    assert_eq!(s, 201);
    let (_, v) = t.get(&token, &format!("/drives/{drive}/items/{c}/permissions")).await;
    let perms = values(&v);
    assert!(perms.iter().all(|p| p["grantedToV2"]["user"]["id"] != carol.as_str()), "folder grant not inherited: {v}");
    assert!(perms.iter().any(|p| p["link"]["type"] == "view"));
    assert!(perms.iter().any(|p| p["roles"] == json!(["owner"])), "owner keeps access");
    // a.txt kept inheritance.
    let (_, v) = t.get(&token, &format!("/drives/{drive}/items/{a}/permissions")).await;
    assert!(values(&v).iter().any(|p| p["grantedToV2"]["user"]["id"] == carol.as_str()));
}

#[tokio::test]
async fn shared_facet_follows_own_permissions() {
    let t = TestTenant::start("users=2").await;
    let token = t.graph_token().await;
    let (_, _, drive) = t.user(0);
    let (bob, _, _) = t.user(1);
    let root = root_of(&t, &drive);
    let file = mk(&t, &drive, &root, "s.txt", Some(b"s"));
    let (s, v) = t.get(&token, &format!("/drives/{drive}/items/{file}")).await;
    assert_eq!(s, 200, "{v}");
    assert!(v.get("shared").is_none());
    let ctag = v["cTag"].clone();
    let (s, v) = t
        .call(
            &token,
            Method::POST,
            &format!("/drives/{drive}/items/{file}/invite"),
            Some(json!({"recipients": [{"objectId": bob}], "roles": ["read"], "sendInvitation": false})),
        )
        .await;
    assert_eq!(s, 200);
    let pid = values(&v)[0]["id"].as_str().unwrap().to_string();
    let (_, v) = t.get(&token, &format!("/drives/{drive}/items/{file}")).await;
    assert!(v["shared"].is_object(), "{v}");
    assert_eq!(v["cTag"], ctag, "sharing does not change cTag");
    let (s, _) = t.call(&token, Method::DELETE, &format!("/drives/{drive}/items/{file}/permissions/{pid}"), None).await;
    assert_eq!(s, 204);
    let (_, v) = t.get(&token, &format!("/drives/{drive}/items/{file}")).await;
    assert!(v.get("shared").is_none(), "{v}");
}

#[tokio::test]
async fn server_side_copy_with_versions_and_monitor() {
    let t = TestTenant::start("users=2").await;
    let token = t.graph_token().await;
    let (_, _, drive) = t.user(0);
    let (_, _, target) = t.user(1);
    let root = root_of(&t, &drive);
    let troot = root_of(&t, &target);
    let folder = mk(&t, &drive, &root, "Proj", None);
    let file = mk(&t, &drive, &folder, "spec.txt", Some(b"v1"));
    {
        let (c, size, qx) = t.emu.emu.blobs.put(b"v2 longer").unwrap();
        t.emu.emu.state().add_version(&file, c, size, qx, IdentitySet::default(), chrono::Utc::now());
    }
    let body = json!({"parentReference": {"driveId": target, "id": troot}, "includeAllVersionHistory": true});
    let resp = t
        .http
        .post(t.graph(&format!("/drives/{drive}/items/{folder}/copy")))
        .bearer_auth(&token)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 202);
    let monitor = resp.headers().get("location").unwrap().to_str().unwrap().to_string();
    assert!(monitor.starts_with(&format!("{}/_monitor/", t.base)));
    let mon: Value = t.http.get(&monitor).send().await.unwrap().json().await.unwrap();
    assert_eq!(mon["status"], "completed");
    let new_folder = mon["resourceId"].as_str().unwrap().to_string();
    {
        let st = t.emu.emu.state();
        let nf = &st.items[&new_folder];
        assert_eq!((nf.name.as_str(), nf.drive_id.as_str()), ("Proj", target.as_str()));
        let kid = st.children_of(&new_folder)[0];
        assert_eq!(kid.name, "spec.txt");
        assert_eq!(kid.versions.len(), 2, "history copied");
        assert_eq!(kid.size, 9);
        assert!(kid.permissions.is_empty());
    }
    // Again with the default conflictBehavior (fail) → 409; rename → "Proj 1".
    let (s, v) =
        t.call(&token, Method::POST, &format!("/drives/{drive}/items/{folder}/copy"), Some(body.clone())).await;
    assert_eq!(s, 409);
    assert_graph_error(&v, "nameAlreadyExists");
    let (s, _) = t
        .call(
            &token,
            Method::POST,
            &format!("/drives/{drive}/items/{file}/copy?@microsoft.graph.conflictBehavior=rename"),
            Some(json!({"parentReference": {"driveId": target, "id": troot}, "name": "Proj"})),
        )
        .await;
    assert_eq!(s, 202);
    assert!(t.emu.emu.state().child_by_name(&troot, "Proj 1").is_some());
    // Into itself, or to a missing folder → 400; bad monitor token → 404.
    let (s, _) = t
        .call(
            &token,
            Method::POST,
            &format!("/drives/{drive}/items/{folder}/copy"),
            Some(json!({"parentReference": {"id": folder}})),
        )
        .await;
    assert_eq!(s, 400);
    let (s, _) = t
        .call(
            &token,
            Method::POST,
            &format!("/drives/{drive}/items/{file}/copy"),
            Some(json!({"parentReference": {"id": "01NOPE"}})),
        )
        .await;
    assert_eq!(s, 400);
    let resp = t.http.get(format!("{}/_monitor/forged.token", t.base)).send().await.unwrap();
    assert_eq!(resp.status(), 404);
}
