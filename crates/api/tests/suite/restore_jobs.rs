//! Restore jobs over HTTPS against the emulated tenant: v8 background restores (poll the operation session, then
//! its events and statistics), per-version restore, device-code sign-in, one failing item among others, and a
//! server restart while a job runs.

use crate::common;

use common::*;
use reqwest::StatusCode;
use serde_json::{json, Value};

async fn events(s: &TestServer, id: &str) -> Vec<Value> {
    let (st, b) = s.get(&format!("/v8/RestoreSessions/{id}/Events?limit=1000"), Some(&s.token)).await;
    assert_eq!(st, StatusCode::OK, "{b}");
    b["results"].as_array().unwrap().clone()
}

async fn fault(s: &TestServer, rule: Value) {
    let r =
        s.tenant.http.post(format!("{}/_emulator/faults", s.tenant.emu.base_url())).json(&rule).send().await.unwrap();
    assert!(r.status().is_success(), "{}", r.text().await.unwrap());
}

async fn clear_faults(s: &TestServer) {
    let r = s.tenant.http.delete(format!("{}/_emulator/faults", s.tenant.emu.base_url())).send().await.unwrap();
    assert!(r.status().is_success());
}

#[tokio::test]
async fn v8_restore_runs_in_the_background_and_one_failing_item_does_not_stop_the_rest() {
    let s = TestServer::start(DEFAULT_SEED).await;
    let password = prepare(&s);
    let sid = s.explore(8, "Veod", Some(&s.t1.to_rfc3339())).await;
    let od = s.changes.onedrive;
    let (edited, deleted) = (s.changes.edited.clone(), s.changes.deleted.clone());
    let parent = s.tenant.emu.emu.state().items[&deleted].parent_id.clone();
    // Uploads of new items (addressed by name, `…/items/{parent}:/{name}:/content`) fail in the tenant, so the
    // deleted document cannot come back; the edited one is written into its item (`…/items/{id}/content`).
    fault(&s, json!({"method": "PUT", "pathContains": ":/", "status": 403})).await;

    let body = json!({"userName": s.changes.upn, "userPassword": password, "documentAction": "Overwrite",
        "documents": [{"id": edited}, {"id": deleted}]});
    let path = format!("/v8/RestoreSessions/{sid}/Organization/OneDrives/{od}/Documents/restore");
    let (st, b) = s.post(&path, Some(&s.token), body.clone()).await;
    assert_eq!(st, StatusCode::OK, "{b}");
    let op = b["sessionId"].as_str().expect("sessionId").to_string();
    assert_ne!(op, sid, "a restore operation session of its own");
    assert_eq!(b.as_object().unwrap().len(), 1, "{b}");

    let session = s.wait_stopped(&op).await;
    assert_eq!(session["result"], "Warning", "{session}");
    assert_eq!(session["type"], "Veod");
    // The edited document is restored although the other one failed.
    assert_eq!(tenant_item(&s, &edited).unwrap().0, backed_up_hash(&s, &edited).await);
    assert!(live_child(&s, &parent, &s.changes.deleted_name).is_none());

    let evs = events(&s, &op).await;
    let restore: Vec<&Value> = evs.iter().filter(|e| e["type"] == "Restore").collect();
    assert_eq!(restore.len(), 2, "{evs:?}");
    let failed = restore.iter().find(|e| e["status"] == "Failed").expect("a failed event");
    assert_eq!(failed["itemName"], json!(s.changes.deleted_name));
    assert!(restore.iter().any(|e| e["status"] == "Success" && e["itemName"] == json!(s.changes.edited_name)));

    let (st, stats) = s.get(&format!("/v8/RestoreSessions/{op}/Statistics"), Some(&s.token)).await;
    assert_eq!(st, StatusCode::OK, "{stats}");
    assert_eq!((stats["totalItemsCount"].clone(), stats["restoredItemsCount"].clone()), (json!(2), json!(1)));
    assert_eq!(stats["failedItemsCount"], 1, "{stats}");
    assert_eq!(stats["items"].as_array().unwrap().len(), 2);
    assert_eq!(stats["errors"].as_array().unwrap().len(), 1);

    // Without the fault the deleted document comes back under its name; the edited one is unchanged (skipped).
    clear_faults(&s).await;
    let (st, b) = s.post(&path, Some(&s.token), body).await;
    assert_eq!(st, StatusCode::OK, "{b}");
    let op2 = b["sessionId"].as_str().unwrap().to_string();
    let session = s.wait_stopped(&op2).await;
    assert_eq!(session["result"], "Success", "{session}");
    let back = live_child(&s, &parent, &s.changes.deleted_name).expect("restored by name");
    assert_eq!(tenant_item(&s, &back).unwrap().0, backed_up_hash(&s, &deleted).await);
    let (_, stats) = s.get(&format!("/v8/RestoreSessions/{op2}/Statistics"), Some(&s.token)).await;
    assert_eq!((stats["restoredItemsCount"].clone(), stats["skippedItemsCount"].clone()), (json!(1), json!(1)));

    // Checked before anything runs: unknown document 404, a folder id on a Documents path 404, wrong password 400.
    let (st, _) = s
        .post(
            &format!("/v8/RestoreSessions/{sid}/Organization/OneDrives/{od}/Documents/nope/restore"),
            Some(&s.token),
            json!({}),
        )
        .await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let bad = json!({"userName": s.changes.upn, "userPassword": "wrong"});
    let (st, b) =
        s.post(&format!("/v8/RestoreSessions/{sid}/Organization/OneDrives/{od}/restore"), Some(&s.token), bad).await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{b}");
    assert!(b["message"].as_str().unwrap().contains("userName"), "{b}");
}

#[tokio::test]
async fn per_version_restore_and_copy() {
    let s = TestServer::start(DEFAULT_SEED).await;
    let password = prepare(&s);
    let sid = s.explore(8, "Veod", None).await;
    let od = s.changes.onedrive;
    let edited = s.changes.edited.clone();
    // The backed-up versions of the edited document, oldest first: versionId 1 is the oldest.
    let mut versions = s.catalog.versions_at(od, &edited, s.t2, true).await.unwrap();
    versions.reverse();
    assert!(versions.len() >= 2, "the seed gives documents several versions");
    let oldest = versions[0].version.content_hash.clone();
    assert_ne!(oldest, tenant_item(&s, &edited).unwrap().0);
    let creds = json!({"userName": s.changes.upn, "userPassword": password});
    let doc = format!("/v8/RestoreSessions/{sid}/Organization/OneDrives/{od}/Documents/{edited}");

    // v8: version 1 back into the document, as one more version.
    let (_, count_before, _) = tenant_item(&s, &edited).unwrap();
    let (st, b) = s.post(&format!("{doc}/Versions/1/restore"), Some(&s.token), creds.clone()).await;
    assert_eq!(st, StatusCode::OK, "{b}");
    let session = s.wait_stopped(b["sessionId"].as_str().unwrap()).await;
    assert_eq!(session["result"], "Success", "{session}");
    let (hash, count, _) = tenant_item(&s, &edited).unwrap();
    assert_eq!((hash, count), (oldest.clone(), count_before + 1));

    // v7: copy version 2 into a folder (synchronous statistics).
    let sid7 = s.explore(7, "Veod", None).await;
    let body = json!({"userName": s.changes.upn, "userPassword": password, "folder": "Versions copy"});
    let (st, b) = s
        .post(
            &format!("/v7/RestoreSessions/{sid7}/Organization/OneDrives/{od}/Documents/{edited}/Versions/2/copyTo"),
            Some(&s.token),
            body,
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{b}");
    assert_eq!(b["restoredItemsCount"], 1, "{b}");
    let folder = {
        let st = s.tenant.emu.emu.state();
        st.items
            .values()
            .find(|i| i.name == "Versions copy" && i.is_folder && i.deleted.is_none())
            .map(|i| i.id.clone())
    }
    .expect("folder created");
    let copy = {
        let st = s.tenant.emu.emu.state();
        let mut found = None;
        for i in st.items.values().filter(|i| i.deleted.is_none() && i.name == s.changes.edited_name && i.id != edited)
        {
            let mut p = i.parent_id.clone();
            while let Some(id) = p {
                if id == folder {
                    found = Some(i.id.clone());
                }
                p = st.items.get(&id).and_then(|x| x.parent_id.clone());
            }
        }
        found
    }
    .expect("copy below the folder");
    assert_eq!(tenant_item(&s, &copy).unwrap().0, versions[1].version.content_hash);
    // The v7 restore left its events on the exploring session.
    let (_, stats) = s.get(&format!("/v7/RestoreSessions/{sid7}/Statistics"), Some(&s.token)).await;
    assert_eq!(stats["restoredItemsCount"], 1, "{stats}");

    // Unknown versions, a folder's version other than 1, a document path with a folder id: 404.
    let (st, _) = s.post(&format!("{doc}/Versions/99/restore"), Some(&s.token), creds.clone()).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let (st, _) = s.post(&format!("{doc}/Versions/x/restore"), Some(&s.token), creds.clone()).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let folder_id = {
        let st = s.tenant.emu.emu.state();
        st.items
            .values()
            .find(|i| i.is_folder && i.drive_id == s.changes.drive_id && i.parent_id.is_some())
            .map(|i| i.id.clone())
    };
    if let Some(f) = folder_id.filter(|f| f != &folder) {
        let base = format!("/v8/RestoreSessions/{sid}/Organization/OneDrives/{od}");
        let (st, _) = s.post(&format!("{base}/Folders/{f}/Versions/2/restore"), Some(&s.token), creds.clone()).await;
        assert_eq!(st, StatusCode::NOT_FOUND);
        let (st, _) = s.post(&format!("{base}/Documents/{f}/restore"), Some(&s.token), creds.clone()).await;
        assert_eq!(st, StatusCode::NOT_FOUND);
    }
}

#[tokio::test]
async fn device_code_sign_in_for_restores() {
    let mut s = TestServer::start(DEFAULT_SEED).await;
    prepare(&s);
    let od = s.changes.onedrive;
    let edited = s.changes.edited.clone();
    let (tenant_http, emulator_url, upn) = (s.tenant.http.clone(), s.tenant.emu.base_url(), s.changes.upn.clone());
    let approve = |code: String| {
        let (http, url, upn) = (tenant_http.clone(), emulator_url.clone(), upn.clone());
        async move {
            let r = http
                .post(format!("{url}/_emulator/devicecode/approve"))
                .json(&json!({"user_code": code, "user": upn}))
                .send()
                .await
                .unwrap();
            assert!(r.status().is_success(), "{}", r.text().await.unwrap());
        }
    };

    // v7: get a code, approve it, restore with it (synchronous).
    let sid = s.explore(7, "Veod", Some(&s.t1.to_rfc3339())).await;
    let (st, dc) =
        s.post(&format!("/v7/RestoreSessions/{sid}/organization/restoreDeviceCode"), Some(&s.token), json!({})).await;
    assert_eq!(st, StatusCode::OK, "{dc}");
    let code = dc["userCode"].as_str().unwrap().to_string();
    assert!(dc["verificationUrl"].as_str().unwrap().starts_with("http"), "{dc}");
    assert!(dc["expiresIn"].as_i64().unwrap() > 0, "{dc}");
    approve(code.clone()).await;
    // The pending code is in the catalog, sealed with the repository key, so a restarted server (or another node)
    // can use it.
    let row = sqlx::query("SELECT sealed, code FROM api_device_codes").fetch_one(s.state.pool()).await.unwrap();
    let (sealed, stored): (i64, String) =
        (sqlx::Row::try_get(&row, "sealed").unwrap(), sqlx::Row::try_get(&row, "code").unwrap());
    assert_eq!(sealed, 1);
    assert!(!stored.contains("device_code") && !stored.contains(&code), "{stored}");
    s.restart().await;
    prepare(&s);
    let path = format!("/v7/RestoreSessions/{sid}/Organization/OneDrives/{od}/Documents/{edited}/restore");
    let (st, b) = s.post(&path, Some(&s.token), json!({"userCode": code})).await;
    assert_eq!(st, StatusCode::OK, "{b}");
    assert_eq!(b["restoredItemsCount"], 1, "{b}");
    assert_eq!(tenant_item(&s, &edited).unwrap().0, backed_up_hash(&s, &edited).await);
    // A code serves one restore; another user cannot use someone else's code.
    let (st, b) = s.post(&path, Some(&s.token), json!({"userCode": code})).await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{b}");
    assert!(b["message"].as_str().unwrap().contains("userCode"), "{b}");

    // v8: the job waits for the approval that comes after the request.
    s.graph(
        reqwest::Method::PUT,
        &format!("/drives/{}/items/{edited}/content", s.changes.drive_id),
        None,
        Some(b"changed again".to_vec()),
    )
    .await;
    let sid8 = s.explore(8, "Veod", Some(&s.t1.to_rfc3339())).await;
    let (st, dc) =
        s.post(&format!("/v8/RestoreSessions/{sid8}/Organization/restoreDeviceCode"), Some(&s.token), json!({})).await;
    assert_eq!(st, StatusCode::OK, "{dc}");
    let code = dc["userCode"].as_str().unwrap().to_string();
    let path = format!("/v8/RestoreSessions/{sid8}/Organization/OneDrives/{od}/Documents/{edited}/restore");
    let (st, b) = s.post(&path, Some(&s.token), json!({"userCode": code})).await;
    assert_eq!(st, StatusCode::OK, "{b}");
    let op = b["sessionId"].as_str().unwrap().to_string();
    let (_, session) = s.get(&format!("/v8/RestoreSessions/{op}"), Some(&s.token)).await;
    assert_eq!(session["state"], "Working", "waiting for approval: {session}");
    approve(code).await;
    let session = s.wait_stopped(&op).await;
    assert_eq!(session["result"], "Success", "{session}");
    assert_eq!(tenant_item(&s, &edited).unwrap().0, backed_up_hash(&s, &edited).await);
}

#[tokio::test]
async fn a_job_running_when_the_server_stops_is_failed_after_restart() {
    let mut s = TestServer::start(DEFAULT_SEED).await;
    let password = prepare(&s);
    let sid = s.explore(8, "Veod", Some(&s.t1.to_rfc3339())).await;
    let od = s.changes.onedrive;
    // Every write to the tenant is slow, so the job is still running when the server goes down.
    fault(&s, json!({"method": "PUT", "latencyMs": 20000})).await;
    let body = json!({"userName": s.changes.upn, "userPassword": password});
    let (st, b) =
        s.post(&format!("/v8/RestoreSessions/{sid}/Organization/OneDrives/{od}/restore"), Some(&s.token), body).await;
    assert_eq!(st, StatusCode::OK, "{b}");
    let op = b["sessionId"].as_str().unwrap().to_string();
    let (_, session) = s.get(&format!("/v8/RestoreSessions/{op}"), Some(&s.token)).await;
    assert_eq!(session["state"], "Working", "{session}");

    s.restart().await;
    let (st, session) = s.get(&format!("/v8/RestoreSessions/{op}"), Some(&s.token)).await;
    assert_eq!(st, StatusCode::OK, "{session}");
    assert_eq!((session["state"].clone(), session["result"].clone()), (json!("Stopped"), json!("Failed")), "{session}");
    assert!(session["details"].as_str().unwrap().contains("interrupted"), "{session}");
    assert!(session["endTime"].is_string(), "{session}");
    let evs = events(&s, &op).await;
    assert!(evs.iter().any(|e| e["status"] == "Failed" && e["title"] == "Restore interrupted"), "{evs:?}");
    // The exploring session is not a job: it stays usable.
    let (_, explore) = s.get(&format!("/v8/RestoreSessions/{sid}"), Some(&s.token)).await;
    assert_eq!(explore["state"], "Working", "{explore}");
}

/// `POST …/OneDrives/restore` (bulk, `RESTBulkRestoreConfig` with `officeUsername`/`officeUserpassword`) in v7
/// (`RESTSharePointBulkRestoreStatistics`) and v8 (`{sessionId}`), and the plural copyTo forms.
#[tokio::test]
async fn bulk_restore_and_plural_copies() {
    let s = TestServer::start(DEFAULT_SEED).await;
    let password = prepare(&s);
    let od = s.changes.onedrive;
    let edited = s.changes.edited.clone();

    // v7 bulk: the first user's OneDrive back as at t1; an unknown OneDrive is skipped with skipUnresolved.
    let sid = s.explore(7, "Veod", Some(&s.t1.to_rfc3339())).await;
    let body = json!({"officeUsername": s.changes.upn, "officeUserpassword": password, "documentAction": "Overwrite",
        "skipUnresolved": true, "oneDrives": [{"id": od.to_string()}, {"id": uuid::Uuid::new_v4().to_string()}]});
    let (st, b) = s
        .post(&format!("/v7/RestoreSessions/{sid}/Organization/OneDrives/restore"), Some(&s.token), body.clone())
        .await;
    assert_eq!(st, StatusCode::OK, "{b}");
    assert_eq!(b["status"], "Success", "{b}");
    assert_eq!(b["details"].as_array().unwrap().len(), 1, "{b}");
    assert_eq!(b["details"][0]["oneDrive"]["id"], json!(od.to_string()));
    assert_eq!(tenant_item(&s, &edited).unwrap().0, backed_up_hash(&s, &edited).await);
    // Without skipUnresolved the unknown OneDrive is a 404; no OneDrives at all a 400 naming the field.
    let mut strict = body.clone();
    strict["skipUnresolved"] = json!(false);
    let (st, _) =
        s.post(&format!("/v7/RestoreSessions/{sid}/Organization/OneDrives/restore"), Some(&s.token), strict).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let (st, b) = s
        .post(
            &format!("/v7/RestoreSessions/{sid}/Organization/OneDrives/restore"),
            Some(&s.token),
            json!({"oneDrives": []}),
        )
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{b}");
    assert!(b["message"].as_str().unwrap().contains("oneDrives"), "{b}");

    // v8 bulk after another change: a job that brings the content back again.
    s.graph(
        reqwest::Method::PUT,
        &format!("/drives/{}/items/{edited}/content", s.changes.drive_id),
        None,
        Some(b"again".to_vec()),
    )
    .await;
    let sid8 = s.explore(8, "Veod", Some(&s.t1.to_rfc3339())).await;
    let (st, b) =
        s.post(&format!("/v8/RestoreSessions/{sid8}/Organization/OneDrives/restore"), Some(&s.token), body).await;
    assert_eq!(st, StatusCode::OK, "{b}");
    let session = s.wait_stopped(b["sessionId"].as_str().unwrap()).await;
    assert_eq!(session["result"], "Success", "{session}");
    assert_eq!(tenant_item(&s, &edited).unwrap().0, backed_up_hash(&s, &edited).await);

    // v8 Documents/copyTo: two documents into the folder "Plural" of the same OneDrive.
    let copy = json!({"userName": s.changes.upn, "userPassword": password, "folder": "Plural",
        "documents": [{"id": edited}, {"id": s.changes.renamed}]});
    let (st, b) = s
        .post(&format!("/v8/RestoreSessions/{sid8}/Organization/OneDrives/{od}/Documents/copyTo"), Some(&s.token), copy)
        .await;
    assert_eq!(st, StatusCode::OK, "{b}");
    let op = b["sessionId"].as_str().unwrap().to_string();
    assert_eq!(s.wait_stopped(&op).await["result"], "Success");
    let (_, stats) = s.get(&format!("/v8/RestoreSessions/{op}/Statistics"), Some(&s.token)).await;
    assert_eq!(stats["restoredItemsCount"], 2, "{stats}");
    let plural = {
        let st = s.tenant.emu.emu.state();
        st.items.values().find(|i| i.name == "Plural" && i.is_folder && i.deleted.is_none()).map(|i| i.id.clone())
    }
    .expect("Plural folder");
    // The copies keep their t1 names below the folder (the renamed file under its old name).
    let names: Vec<String> = {
        let st = s.tenant.emu.emu.state();
        let mut v: Vec<String> = st
            .items
            .values()
            .filter(|i| {
                i.deleted.is_none() && !i.is_folder && {
                    let mut p = i.parent_id.clone();
                    let mut below = false;
                    while let Some(id) = p {
                        below |= id == plural;
                        p = st.items.get(&id).and_then(|x| x.parent_id.clone());
                    }
                    below
                }
            })
            .map(|i| i.name.clone())
            .collect();
        v.sort();
        v
    };
    let mut want = vec![s.changes.edited_name.clone(), s.changes.renamed_old_name.clone()];
    want.sort();
    assert_eq!(names, want);
}

/// `POST …/OneDrives/Action` (v2–v5 bulk restore of whole OneDrives) in both body forms: the v5 docs' wrapped
/// `restoreToOriginalLocation` and the v2/v3 docs' top-level `OfficeUsername`/`OfficePassword`/`OneDrives`.
#[tokio::test]
async fn v2_to_v5_bulk_onedrive_action_in_both_body_forms() {
    let s = TestServer::start(DEFAULT_SEED).await;
    let password = prepare(&s);
    let od = s.changes.onedrive;
    let edited = s.changes.edited.clone();
    let content_path = format!("/drives/{}/items/{edited}/content", s.changes.drive_id);
    let change = |content: &'static [u8]| s.graph(reqwest::Method::PUT, &content_path, None, Some(content.to_vec()));
    let t1 = s.t1.to_rfc3339();
    assert_ne!(tenant_item(&s, &edited).unwrap().0, backed_up_hash(&s, &edited).await, "the tenant moved on");

    // v5: the options wrapped in the action (lenient spelling of its name).
    let sid5 = s.explore(5, "Veod", Some(&t1)).await;
    let wrapped = json!({"restoretoOriginallocation": {"officeUsername": s.changes.upn, "officeUserpassword": password,
        "documentVersion": "last", "documentAction": "overwrite", "oneDrives": [{"id": od.to_string()}]}});
    let (st, b) =
        s.post(&format!("/v5/RestoreSessions/{sid5}/Organization/OneDrives/Action"), Some(&s.token), wrapped).await;
    assert_eq!(st, StatusCode::OK, "{b}");
    assert_eq!(b["status"], "Success", "{b}");
    assert_eq!(tenant_item(&s, &edited).unwrap().0, backed_up_hash(&s, &edited).await);

    // v3: the same at the top level, the passwords spelled as the v2/v3 docs spell them; an unknown OneDrive is
    // skipped with SkipUnresolved.
    change(b"changed after the v5 restore").await;
    let sid3 = s.explore(3, "Veod", Some(&t1)).await;
    let flat = json!({"OfficeUsername": s.changes.upn, "OfficePassword": password, "OnPremisesUsername": "",
        "OnPremisesPassword": "", "SkipUnresolved": true, "DocumentVersion": "Last", "DocumentAction": "Overwrite",
        "OneDrives": [{"Id": od.to_string()}, {"Id": uuid::Uuid::new_v4().to_string()}]});
    let (st, b) =
        s.post(&format!("/v3/RestoreSessions/{sid3}/Organization/OneDrives/Action"), Some(&s.token), flat).await;
    assert_eq!(st, StatusCode::OK, "{b}");
    assert_eq!(b["details"].as_array().unwrap().len(), 1, "{b}");
    assert_eq!(tenant_item(&s, &edited).unwrap().0, backed_up_hash(&s, &edited).await);

    // Another action, a wrong password, another user's session and the verb era are refused before anything runs.
    change(b"changed after the v3 restore").await;
    let now = tenant_item(&s, &edited).unwrap().0;
    let path5 = format!("/v5/RestoreSessions/{sid5}/Organization/OneDrives/Action");
    let (st, b) = s.post(&path5, Some(&s.token), json!({"copyTo": {"oneDrives": [{"id": od.to_string()}]}})).await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{b}");
    assert!(b["message"].as_str().unwrap().contains("restoreToOriginalLocation"), "{b}");
    let bad = json!({"restoreToOriginalLocation": {"officeUsername": s.changes.upn, "officeUserpassword": "wrong",
        "oneDrives": [{"id": od.to_string()}]}});
    let (st, b) = s.post(&path5, Some(&s.token), bad.clone()).await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{b}");
    let (st, _) = s.post(&path5, Some(&s.other_token), bad).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let sid7 = s.explore(7, "Veod", Some(&t1)).await;
    let (st, _) =
        s.post(&format!("/v7/RestoreSessions/{sid7}/Organization/OneDrives/Action"), Some(&s.token), json!({})).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    assert_eq!(tenant_item(&s, &edited).unwrap().0, now, "nothing was written by the refused requests");
}
