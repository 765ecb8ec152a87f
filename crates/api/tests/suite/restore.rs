//! OneDrive restore to the original location and copyTo over HTTPS (v6/v7 synchronous), checking the emulated
//! tenant afterwards.

use crate::common;

use common::*;
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn v7_restore_of_documents_to_the_original_location() {
    let s = TestServer::start(DEFAULT_SEED).await;
    let password = prepare(&s);
    let t1 = s.t1.to_rfc3339();
    let sid = s.explore(7, "Veod", Some(&t1)).await;
    let od = s.changes.onedrive;
    let base = format!("/v7/RestoreSessions/{sid}/Organization/OneDrives/{od}");
    let creds = json!({"userName": s.changes.upn, "userPassword": password});

    // The edited document, Overwrite: same id, backed-up content, one more version.
    let edited = s.changes.edited.clone();
    let (_, versions_before, _) = tenant_item(&s, &edited).unwrap();
    let mut body = creds.clone();
    body["documentAction"] = json!("overwrite");
    let (st, b) = s.post(&format!("{base}/Documents/{edited}/restore"), Some(&s.token), body).await;
    assert_eq!(st, StatusCode::OK, "{b}");
    assert_eq!(b["restoredItemsCount"], 1, "{b}");
    assert_eq!(b["failedItemsCount"], 0);
    let (hash, versions, deleted) = tenant_item(&s, &edited).unwrap();
    assert_eq!(hash, backed_up_hash(&s, &edited).await);
    assert_eq!((versions, deleted), (versions_before + 1, false));

    // The deleted document through the bulk form (lenient spelling): back under its name.
    let deleted_id = s.changes.deleted.clone();
    let parent = s.tenant.emu.emu.state().items[&deleted_id].parent_id.clone();
    let body = json!({"UserName": s.changes.upn, "userpassword": password, "DocumentAction": "Keep",
        "documents": [{"id": deleted_id}, ]});
    let (st, b) = s.post_raw(&format!("{base}/Documents/restore"), Some(&s.token), &body.to_string()).await;
    assert_eq!(st, StatusCode::OK, "{b}");
    assert_eq!(b["restoredItemsCount"], 1, "{b}");
    let back = live_child(&s, &parent, &s.changes.deleted_name).expect("restored by name");
    assert_eq!(tenant_item(&s, &back).unwrap().0, backed_up_hash(&s, &deleted_id).await);

    // Nothing left to do: skipped as unchanged.
    let (st, b) = s.post(&format!("{base}/Documents/{edited}/restore"), Some(&s.token), creds.clone()).await;
    assert_eq!(st, StatusCode::OK, "{b}");
    assert_eq!((b["restoredItemsCount"].clone(), b["skippedItemsByNoChangesCount"].clone()), (json!(0), json!(1)));
}

#[tokio::test]
async fn v6_copy_to_a_folder_and_failure_paths() {
    let s = TestServer::start(DEFAULT_SEED).await;
    let password = prepare(&s);
    let t1 = s.t1.to_rfc3339();
    let sid = s.explore(6, "Veod", Some(&t1)).await;
    let od = s.changes.onedrive;
    let base = format!("/v6/RestoreSessions/{sid}/Organization/OneDrives/{od}");
    let edited = s.changes.edited.clone();
    let body = json!({"userName": s.changes.upn, "userPassword": password, "oneDrive": {"id": od.to_string()},
        "folder": "Copies", "documentVersion": "last", "documentLastVersionAction": "merge"});
    let (st, b) = s.post(&format!("{base}/Documents/{edited}/copyTo"), Some(&s.token), body.clone()).await;
    assert_eq!(st, StatusCode::OK, "{b}");
    assert_eq!(b["restoredItemsCount"], 1, "{b}");
    let copies = {
        let st = s.tenant.emu.emu.state();
        st.items.values().find(|i| i.name == "Copies" && i.is_folder && i.deleted.is_none()).map(|i| i.id.clone())
    }
    .expect("Copies folder created");
    let copy = {
        let st = s.tenant.emu.emu.state();
        st.items
            .values()
            .find(|i| {
                i.name == s.changes.edited_name && i.deleted.is_none() && i.id != edited && {
                    // somewhere below Copies
                    let mut p = i.parent_id.clone();
                    let mut found = false;
                    while let Some(id) = p {
                        if id == copies {
                            found = true;
                            break;
                        }
                        p = st.items.get(&id).and_then(|x| x.parent_id.clone());
                    }
                    found
                }
            })
            .map(|i| i.id.clone())
    }
    .expect("copy below Copies");
    assert_eq!(tenant_item(&s, &copy).unwrap().0, backed_up_hash(&s, &edited).await);
    // The source still has the edited content.
    assert_ne!(tenant_item(&s, &edited).unwrap().0, backed_up_hash(&s, &edited).await);

    // Wrong password: 400, tenant untouched.
    let mut bad = body.clone();
    bad["userPassword"] = json!("wrong");
    let (st, b) = s.post(&format!("{base}/Documents/{edited}/copyTo"), Some(&s.token), bad).await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{b}");
    // No credentials: 400.
    let (st, _) = s.post(&format!("{base}/Documents/{edited}/restore"), Some(&s.token), json!({})).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    // Unknown document: 404.
    let (st, _) = s.post(&format!("{base}/Documents/nope/restore"), Some(&s.token), body.clone()).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    // No token: 401; another user's session: 404.
    let (st, _) = s.post(&format!("{base}/Documents/{edited}/restore"), None, body.clone()).await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);
    let (st, _) = s.post(&format!("{base}/Documents/{edited}/restore"), Some(&s.other_token), body.clone()).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    // The verb paths are not part of v2–v5 (those eras use …/Action).
    let (st, b) = s
        .post(
            &format!("/v5/RestoreSessions/{sid}/Organization/OneDrives/{od}/Documents/{edited}/restore"),
            Some(&s.token),
            body,
        )
        .await;
    assert_eq!(st, StatusCode::NOT_FOUND, "{b}");
}

#[tokio::test]
async fn v7_restore_of_a_folder_and_of_the_whole_onedrive() {
    let s = TestServer::start(DEFAULT_SEED).await;
    let password = prepare(&s);
    let t1 = s.t1.to_rfc3339();
    let sid = s.explore(7, "Veod", Some(&t1)).await;
    let od = s.changes.onedrive;
    let base = format!("/v7/RestoreSessions/{sid}/Organization/OneDrives/{od}");
    let creds = json!({"userName": s.changes.upn, "userPassword": password, "documentAction": "Overwrite"});
    let deleted_id = s.changes.deleted.clone();
    let row = s.catalog.item_at(od, &deleted_id, s.t1).await.unwrap().unwrap();

    // The folder holding the deleted document (when it is not at the top level).
    if let Some(folder) = row.state.parent_id.clone() {
        let mut body = creds.clone();
        body["folders"] = json!([{ "id": folder }]);
        let (st, b) = s.post(&format!("{base}/Folders/restore"), Some(&s.token), body).await;
        assert_eq!(st, StatusCode::OK, "{b}");
        assert_eq!(b["failedItemsCount"], 0, "{b}");
        assert!(b["restoredItemsCount"].as_u64().unwrap() >= 1, "{b}");
        let back = live_child(&s, &Some(folder.clone()), &s.changes.deleted_name).expect("restored into its folder");
        assert_eq!(tenant_item(&s, &back).unwrap().0, row.state.quick_xor_hash.clone().unwrap());
        // The single-folder form: nothing changed any more.
        let (st, b) = s.post(&format!("{base}/Folders/{folder}/restore"), Some(&s.token), creds.clone()).await;
        assert_eq!(st, StatusCode::OK, "{b}");
        assert_eq!(b["restoredItemsCount"], 0, "{b}");
    }

    // The whole OneDrive: the edited document gets its t1 content back; the rest is unchanged.
    let (st, b) = s.post(&format!("{base}/restore"), Some(&s.token), creds.clone()).await;
    assert_eq!(st, StatusCode::OK, "{b}");
    assert_eq!(b["failedItemsCount"], 0, "{b}");
    assert!(b["restoredItemsCount"].as_u64().unwrap() >= 1, "{b}");
    assert_eq!(tenant_item(&s, &s.changes.edited).unwrap().0, backed_up_hash(&s, &s.changes.edited).await);
    assert_eq!(
        b["totalItemsCount"].as_u64().unwrap(),
        b["restoredItemsCount"].as_u64().unwrap() + b["skippedItemsByNoChangesCount"].as_u64().unwrap()
    );
}

#[tokio::test]
async fn v7_restore_with_an_application_certificate() {
    let s = TestServer::start(DEFAULT_SEED).await;
    prepare(&s);
    // A new certificate of the organization's application, handed over as a password-protected PFX.
    let (client_id, pfx_b64) = s.application_certificate("pfx pass").await;

    let t1 = s.t1.to_rfc3339();
    let sid = s.explore(7, "Veod", Some(&t1)).await;
    let od = s.changes.onedrive;
    let edited = s.changes.edited.clone();
    let path = format!("/v7/RestoreSessions/{sid}/Organization/OneDrives/{od}/Documents/{edited}/restore");
    let body = json!({"applicationId": client_id, "applicationCertificate": pfx_b64,
        "applicationCertificatePassword": "pfx pass", "documentAction": "Overwrite"});
    // Wrong PFX password: 400, nothing written.
    let mut bad = body.clone();
    bad["applicationCertificatePassword"] = json!("nope");
    let (st, b) = s.post(&path, Some(&s.token), bad).await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{b}");
    assert_ne!(tenant_item(&s, &edited).unwrap().0, backed_up_hash(&s, &edited).await);

    let (st, b) = s.post(&path, Some(&s.token), body).await;
    assert_eq!(st, StatusCode::OK, "{b}");
    assert_eq!(b["restoredItemsCount"], 1, "{b}");
    assert_eq!(tenant_item(&s, &edited).unwrap().0, backed_up_hash(&s, &edited).await);
}

/// v2–v5 `…/Action` with the seed bodies: `{"restoretoOriginallocation": {…}}` (the documents' own spelling) and
/// `{"copyTo": {…}}`; an action the route does not know is a 400 and `/Action` in v6 a 404.
#[tokio::test]
async fn v3_to_v5_action_bodies_restore_and_copy() {
    let s = TestServer::start(DEFAULT_SEED).await;
    let password = prepare(&s);
    let t1 = s.t1.to_rfc3339();
    let sid = s.explore(5, "Veod", Some(&t1)).await;
    let od = s.changes.onedrive;
    let edited = s.changes.edited.clone();
    let doc = |v: u8| format!("/v{v}/RestoreSessions/{sid}/Organization/OneDrives/{od}/Documents/{edited}/Action");

    // restoreToOriginalLocation (v3 path, seed spelling): the edited document gets its backed-up content back.
    let (_, versions_before, _) = tenant_item(&s, &edited).unwrap();
    let seed = format!(
        r#"{{ "restoretoOriginallocation": {{"userName": "{}", "userPassword": "{password}", "DocumentAction": "Overwrite" }} }}"#,
        s.changes.upn
    );
    let (st, b) = s.post_raw(&doc(3), Some(&s.token), &seed).await;
    assert_eq!(st, StatusCode::OK, "{b}");
    assert_eq!(b["restoredItemsCount"], 1, "{b}");
    let (hash, versions, _) = tenant_item(&s, &edited).unwrap();
    assert_eq!(hash, backed_up_hash(&s, &edited).await);
    assert_eq!(versions, versions_before + 1);

    // copyTo (v5) into a folder of the same OneDrive: a new item with the backed-up content.
    let body = json!({"copyTo": {"userName": s.changes.upn, "userPassword": password, "Folder": "FromAction"}});
    let (st, b) = s.post(&doc(5), Some(&s.token), body).await;
    assert_eq!(st, StatusCode::OK, "{b}");
    assert_eq!(b["restoredItemsCount"], 1, "{b}");
    let folder = {
        let st = s.tenant.emu.emu.state();
        st.items.values().find(|i| i.name == "FromAction" && i.is_folder && i.deleted.is_none()).map(|i| i.id.clone())
    }
    .expect("FromAction folder created");
    let copy = {
        let st = s.tenant.emu.emu.state();
        st.items
            .values()
            .find(|i| {
                i.deleted.is_none() && !i.is_folder && i.id != edited && i.name == s.changes.edited_name && {
                    let mut p = i.parent_id.clone();
                    let mut below = false;
                    while let Some(id) = p {
                        below |= id == folder;
                        p = st.items.get(&id).and_then(|x| x.parent_id.clone());
                    }
                    below
                }
            })
            .map(|i| i.id.clone())
    }
    .expect("copy below FromAction");
    assert_eq!(tenant_item(&s, &copy).unwrap().0, backed_up_hash(&s, &edited).await);

    // Wrong password through the dispatcher: 400 and nothing restored.
    let body = json!({"restoreToOriginalLocation": {"userName": s.changes.upn, "userPassword": "wrong"}});
    let (st, b) = s.post(&doc(4), Some(&s.token), body.clone()).await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{b}");
    // An unknown action names the expected ones; v6 has no /Action.
    let (st, b) = s.post(&doc(4), Some(&s.token), json!({"restoreEverything": {}})).await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{b}");
    assert!(b.to_string().contains("restoreToOriginalLocation"), "{b}");
    let (st, _) = s.post(&doc(6), Some(&s.token), body).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
}
