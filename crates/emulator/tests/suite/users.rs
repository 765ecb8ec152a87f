//! Graph users: list (paging, $select, $filter), get by id/UPN, /me, drives, and permission checks.

use crate::common;

use common::*;
use serde_json::{json, Value};

#[tokio::test]
async fn list_users_paging_select_filter() {
    let t = TestTenant::start("users=3").await;
    let token = t.graph_token().await;
    let (status, v) = t.get(&token, "/users").await;
    assert_eq!(status, 200);
    let users = v["value"].as_array().unwrap();
    assert_eq!(users.len(), 3);
    assert!(v.get("@odata.nextLink").is_none());
    let (id, upn, _) = t.user(0);
    let first = &users[0];
    assert_eq!(first["id"], id);
    assert_eq!(first["userPrincipalName"], upn);
    assert_eq!(first["mail"], upn);
    let display = first["displayName"].as_str().unwrap();
    assert_eq!(format!("{} {}", first["givenName"].as_str().unwrap(), first["surname"].as_str().unwrap()), display);
    assert!(first.get("accountEnabled").is_none(), "not in the default property set");
    assert!(first["businessPhones"].is_array());

    // $select keeps id and the named properties only; accountEnabled on request.
    let (_, v) = t.get(&token, "/users?$select=displayName,accountEnabled").await;
    let u = v["value"][0].as_object().unwrap();
    let mut keys: Vec<&str> = u.keys().map(String::as_str).collect();
    keys.sort();
    assert_eq!(keys, ["accountEnabled", "displayName", "id"]);
    assert_eq!(u["accountEnabled"], true);

    // Paging with $top; nextLink is absolute and followed verbatim.
    let (_, p1) = t.get(&token, "/users?$top=2").await;
    assert_eq!(p1["value"].as_array().unwrap().len(), 2);
    let next = p1["@odata.nextLink"].as_str().unwrap();
    assert!(next.starts_with(&t.graph("/users")));
    let (status, p2) = t.get(&token, next).await;
    assert_eq!(status, 200);
    assert_eq!(p2["value"].as_array().unwrap().len(), 1);
    assert!(p2.get("@odata.nextLink").is_none());
    let mut all: Vec<Value> = p1["value"].as_array().unwrap().clone();
    all.extend(p2["value"].as_array().unwrap().iter().cloned());
    assert_eq!(all, users.clone());

    // Default page size from settings.
    t.emu.emu.state().settings.page_size = 1;
    let (_, v) = t.get(&token, "/users").await;
    assert_eq!(v["value"].as_array().unwrap().len(), 1);
    assert!(v["@odata.nextLink"].is_string());
    t.emu.emu.state().settings.page_size = 200;

    // $filter.
    let (status, v) = t.get(&token, &format!("/users?$filter=userPrincipalName eq '{}'", upn.to_uppercase())).await;
    assert_eq!(status, 200);
    assert_eq!(v["value"].as_array().unwrap().len(), 1);
    assert_eq!(v["value"][0]["id"], id);
    t.emu.emu.state().users.get_mut(&id).unwrap().disabled = true;
    let (_, v) = t.get(&token, "/users?$filter=accountEnabled eq true&$select=accountEnabled").await;
    assert_eq!(v["value"].as_array().unwrap().len(), 2);
    assert!(v["value"].as_array().unwrap().iter().all(|u| u["accountEnabled"] == true));
    let (status, v) = t.get(&token, "/users?$filter=startswith(displayName,'A')").await;
    assert_eq!(status, 400);
    assert_graph_error(&v, "Request_UnsupportedQuery");
}

#[tokio::test]
async fn get_user_by_id_and_upn() {
    let t = TestTenant::start("users=2").await;
    let token = t.graph_token().await;
    let (id, upn, _) = t.user(1);
    let (status, by_id) = t.get(&token, &format!("/users/{id}")).await;
    assert_eq!(status, 200);
    assert_eq!(by_id["userPrincipalName"], upn);
    let (status, by_upn) = t.get(&token, &format!("/users/{}", upn.to_uppercase())).await;
    assert_eq!(status, 200);
    assert_eq!(by_upn, by_id);
    let (_, sel) = t.get(&token, &format!("/users/{id}?$select=mail")).await;
    assert_eq!(sel, json!({"id": id, "mail": upn}));

    let (status, v) = t.get(&token, "/users/nobody@contoso.onmicrosoft.com").await;
    assert_eq!(status, 404);
    assert_graph_error(&v, "Request_ResourceNotFound");
    assert!(v["error"]["message"].as_str().unwrap().contains("nobody@contoso.onmicrosoft.com"));

    // /me needs a delegated token.
    let (status, v) = t.get(&token, "/me").await;
    assert_eq!(status, 400);
    assert!(v["error"]["message"].as_str().unwrap().contains("delegated"));
}

#[tokio::test]
async fn me_and_delegated_permissions() {
    let t = TestTenant::start("users=2").await;
    let (id0, upn0, _) = t.user(0);
    let (id1, _, drive1) = t.user(1);
    let files = t.user_token(&upn0, &TestTenant::password_of(&upn0), "Files.ReadWrite.All").await;
    let (status, me) = t.get(&files, "/me").await;
    assert_eq!(status, 200);
    assert_eq!(me["id"], id0);
    assert_eq!(me["userPrincipalName"], upn0);
    assert_eq!(t.get(&files, &format!("/users/{id0}")).await.0, 200, "a user may read themselves");
    // Reading or listing other users needs a directory permission.
    let (status, v) = t.get(&files, &format!("/users/{id1}")).await;
    assert_eq!(status, 403);
    assert_graph_error(&v, "Authorization_RequestDenied");
    assert_eq!(t.get(&files, "/users").await.0, 403);
    // …but Files.ReadWrite.All lists another user's drives.
    let (status, v) = t.get(&files, &format!("/users/{id1}/drives")).await;
    assert_eq!(status, 200);
    assert_eq!(v["value"][0]["id"], drive1);

    let dir = t.user_token(&upn0, &TestTenant::password_of(&upn0), "User.Read.All").await;
    assert_eq!(t.get(&dir, &format!("/users/{id1}")).await.0, 200);
    assert_eq!(t.get(&dir, "/users").await.0, 200);
    let (status, v) = t.get(&dir, &format!("/users/{id1}/drives")).await;
    assert_eq!(status, 403);
    assert_graph_error(&v, "accessDenied");
    let (status, v) = t.get(&dir, "/me/drives").await;
    assert_eq!(status, 200, "own drives need no file permission: {v}");
}

#[tokio::test]
async fn user_drives() {
    let t = TestTenant::start("users=2").await;
    let token = t.graph_token().await;
    let (id, upn, drive) = t.user(0);
    let (status, v) = t.get(&token, &format!("/users/{upn}/drives")).await;
    assert_eq!(status, 200);
    let drives = v["value"].as_array().unwrap();
    assert_eq!(drives.len(), 1);
    assert_eq!(drives[0]["id"], drive);
    assert_eq!(drives[0]["driveType"], "business");
    assert_eq!(drives[0]["owner"]["user"]["id"], id);
    let (_, sel) = t.get(&token, &format!("/users/{id}/drives?$select=driveType")).await;
    assert_eq!(sel["value"][0], json!({"id": drive, "driveType": "business"}));

    let (status, v) = t.get(&token, "/users/00000000-0000-0000-0000-000000000000/drives").await;
    assert_eq!(status, 404);
    assert_graph_error(&v, "Request_ResourceNotFound");

    // A user whose OneDrive is not provisioned.
    t.emu.emu.state().users.get_mut(&id).unwrap().drive_id = None;
    let (status, v) = t.get(&token, &format!("/users/{id}/drives")).await;
    assert_eq!(status, 404);
    assert_graph_error(&v, "ResourceNotFound");

    // Method not allowed on the collection.
    let (status, _) = t.call(&token, reqwest::Method::POST, "/users", Some(json!({}))).await;
    assert_eq!(status, 405);
}

#[tokio::test]
async fn app_without_user_permissions_is_denied() {
    let t = TestTenant::start("users=1").await;
    let resp = t
        .http
        .post(format!("{}/_emulator/apps", t.base))
        .json(&json!({"secret": "x", "roles": ["Files.Read.All"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    let app: Value = resp.json().await.unwrap();
    let (status, v) = t
        .token_request(&[
            ("grant_type", "client_credentials"),
            ("client_id", app["client_id"].as_str().unwrap()),
            ("client_secret", "x"),
            ("scope", "https://graph.microsoft.com/.default"),
        ])
        .await;
    assert_eq!(status, 200);
    let token = v["access_token"].as_str().unwrap();
    let (status, v) = t.get(token, "/users").await;
    assert_eq!(status, 403);
    assert_graph_error(&v, "Authorization_RequestDenied");
    let (id, _, drive) = t.user(0);
    assert_eq!(t.get(token, &format!("/users/{id}")).await.0, 403);
    let (status, v) = t.get(token, &format!("/users/{id}/drives")).await;
    assert_eq!(status, 200);
    assert_eq!(v["value"][0]["id"], drive);
}
