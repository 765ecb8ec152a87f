//! Era rules: an operation of one era asked in another version is 404 with a message saying where to go, in that
//! version's error shape; in its own era the same request goes on to the handler. Pinned here for every era-bound
//! route family, with real (empty) restore sessions, so that moving the guards out of the handlers into route-group
//! gates keeps the answers.

use api::store::sessions::{self, NewSession, SessionKind};
use axum::http::StatusCode;
use uuid::Uuid;

use crate::inproc::App;

/// v2–v5, v6+ and the like, as inclusive version ranges.
const ACTION: (u8, u8) = (2, 5);
const VERB: (u8, u8) = (6, 8);

const SAVE: &str = "…/save is not available in API {version}; use POST …/Action.";
const SEND: &str = "…/send is not available in API {version}; use POST …/Action.";
const ACTION_ONLY: &str = "POST …/Action is not available in API {version}; use the …/save endpoints.";
const OD_RESTORE: &str = "{version} restores OneDrive items through the …/Action endpoints.";
const SP_RESTORE: &str = "{version} restores SharePoint through the …/Action endpoints ({\"restoreTo\": {…}}).";
const SEARCH: &str = "…/search is not available in API {version}; use v6 or later.";

/// One era-bound request: method, path after `/vN` (`{od}`/`{sp}`: the OneDrive / SharePoint session, `{x}`: any
/// id), the versions serving it, and the 404 message elsewhere.
struct Case {
    method: &'static str,
    path: &'static str,
    era: (u8, u8),
    message: &'static str,
}

const fn case(method: &'static str, path: &'static str, era: (u8, u8), message: &'static str) -> Case {
    Case { method, path, era, message }
}

const OD: &str = "RestoreSessions/{od}/Organization/OneDrives";

fn cases() -> Vec<Case> {
    vec![
        // OneDrive: v2–v5 act through …/Action, v6+ through one endpoint per verb.
        case("POST", "{OD}/{x}/Action", ACTION, ACTION_ONLY),
        case("POST", "{OD}/{x}/Documents/Action", ACTION, ACTION_ONLY),
        case("POST", "{OD}/{x}/Documents/{x}/Action", ACTION, ACTION_ONLY),
        case("POST", "{OD}/{x}/Folders/{x}/Action", ACTION, ACTION_ONLY),
        case("POST", "{OD}/Action", ACTION, "{version} restores several OneDrives with POST …/OneDrives/restore."),
        case("POST", "{OD}/{x}/save", VERB, SAVE),
        case("POST", "{OD}/{x}/Documents/save", VERB, SAVE),
        case("POST", "{OD}/{x}/Documents/{x}/save", VERB, SAVE),
        case("POST", "{OD}/{x}/Folders/{x}/Versions/{x}/save", VERB, SAVE),
        case("POST", "{OD}/{x}/send", VERB, SEND),
        case("POST", "{OD}/{x}/Documents/{x}/send", VERB, SEND),
        case("POST", "{OD}/{x}/Folders/send", VERB, SEND),
        case("POST", "{OD}/restore", VERB, OD_RESTORE),
        case("POST", "{OD}/{x}/restore", VERB, OD_RESTORE),
        case("POST", "{OD}/{x}/copyTo", VERB, OD_RESTORE),
        case("POST", "{OD}/{x}/Documents/{x}/restore", VERB, OD_RESTORE),
        case("POST", "{OD}/{x}/Folders/copyTo", VERB, OD_RESTORE),
        case("POST", "{OD}/{x}/Documents/{x}/Versions/{x}/copyTo", VERB, OD_RESTORE),
        case("POST", "{OD}/search", VERB, SEARCH),
        case("POST", "{OD}/{x}/search", VERB, SEARCH),
        case("POST", "{OD}/{x}/Folders/{x}/search", VERB, SEARCH),
        case(
            "GET",
            "{OD}/{x}/Documents/{x}/Versions",
            VERB,
            "Versions are not available in API {version}; use v6 or later.",
        ),
        case(
            "GET",
            "{OD}/{x}/Folders/{x}/Versions/{x}",
            VERB,
            "Versions are not available in API {version}; use v6 or later.",
        ),
        case(
            "POST",
            "RestoreSessions/{od}/Organization/restoreDeviceCode",
            (5, 8),
            "{version} has no restoreDeviceCode endpoint.",
        ),
        // SharePoint.
        case("POST", "{SP}/restore", VERB, SP_RESTORE),
        case("POST", "{SP}/restoreTo", VERB, SP_RESTORE),
        case("POST", "{SP}/Lists/{x}/restoreTo", VERB, SP_RESTORE),
        case("POST", "{SP}/Libraries/{x}/restore", VERB, SP_RESTORE),
        case("POST", "{SP}/Items/{x}/restore", VERB, SP_RESTORE),
        case("POST", "{SP}/Documents/{x}/Versions/{x}/restoreTo", VERB, SP_RESTORE),
        case("POST", "{SP}/Documents/{x}/save", VERB, SAVE),
        case("POST", "{SP}/Documents/{x}/send", VERB, SEND),
        case("POST", "{SP}/Libraries/{x}/send", VERB, SEND),
        case("POST", "RestoreSessions/{sp}/Organization/Sites/search", VERB, SEARCH),
        case("POST", "{SP}/search", VERB, SEARCH),
        case("POST", "{SP}/Lists/{x}/search", VERB, SEARCH),
        case("GET", "{SP}/Documents/{x}/Versions", VERB, "Versions are available from API v6 on."),
        case("GET", "{SP}/Items/{x}/Versions/{x}", VERB, "Versions are available from API v6 on."),
    ]
}

async fn session(app: &App, kind: SessionKind) -> Uuid {
    let new = NewSession {
        owner: app.user.clone(),
        organization_id: Uuid::new_v4(),
        kind,
        requested_at: None,
        restore_point_id: None,
        browse_at: None,
        show_deleted: false,
        show_all_versions: false,
        name: None,
        parent_id: None,
        reason: None,
    };
    sessions::create(&app.state, new).await.unwrap().id
}

#[tokio::test]
async fn era_bound_operations_are_404_in_the_other_eras() {
    let app = App::start().await;
    let od = session(&app, SessionKind::Veod).await.to_string();
    let sp = session(&app, SessionKind::Vesp).await.to_string();
    let x = Uuid::new_v4().to_string();
    let mut failures = Vec::new();
    for c in cases() {
        let path = c
            .path
            .replace("{OD}", OD)
            .replace("{SP}", "RestoreSessions/{sp}/Organization/Sites/{x}")
            .replace("{od}", &od)
            .replace("{sp}", &sp)
            .replace("{x}", &x);
        for v in 2..=8u8 {
            let (status, body) = app.send(app.request(c.method, &format!("/v{v}/{path}"), "{}")).await.unwrap();
            let refusal = c.message.replace("{version}", &format!("v{v}"));
            let refused = status == StatusCode::NOT_FOUND && body["message"] == refusal.as_str();
            let in_era = (c.era.0..=c.era.1).contains(&v);
            if refused == in_era {
                failures.push(format!("{} /v{v}/{}: {status} {body}", c.method, c.path));
            }
            if !in_era && refused && v == 8 {
                // The v8 shape: errorCode and stackTrace beside the message.
                assert_eq!(body["errorCode"], "ResourceNotFound", "{body}");
                assert!(body.get("stackTrace").is_some(), "{body}");
            }
        }
    }
    assert!(failures.is_empty(), "era answers changed:\n{}", failures.join("\n"));
}
