//! Every rule of [`super`] against the [`Obj`] getter it replaces, on the same input.

use chrono::{DateTime, TimeZone, Utc};
use serde::Deserialize;
use uuid::Uuid;

use super::*;
use crate::edge::lenient::{datetime, Body, Obj};

fn obj(s: &str) -> Obj {
    Body::parse(s.as_bytes()).unwrap()
}

/// What `LenientJson<T>` does with a body.
fn typed<T: DeserializeOwned>(s: &str) -> Result<T, ApiError> {
    Body::parse(s.as_bytes())?.to_typed()
}

fn message<T: DeserializeOwned + fmt::Debug>(s: &str) -> String {
    let e = typed::<T>(s).unwrap_err();
    assert_eq!(e.status, axum::http::StatusCode::BAD_REQUEST, "{s}");
    e.message
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
enum SessionType {
    Vex,
    Veod,
    Vesp,
    Vet,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
enum DocumentVersion {
    All,
    Last,
}

#[derive(Debug, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Explore {
    #[serde(default, deserialize_with = "datetime::option")]
    date_time: Option<DateTime<Utc>>,
    r#type: Option<SessionType>,
    show_deleted: Option<bool>,
    show_all_versions: Option<bool>,
}

#[derive(Debug, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Options {
    show_deleted: Option<bool>,
    n: Option<i64>,
    count: Option<u64>,
    small: Option<u8>,
    ratio: Option<f64>,
    name: Option<String>,
    document_version: Option<DocumentVersion>,
    #[serde(default)]
    as_zip: bool,
    explore: Option<Explore>,
    #[serde(default, deserialize_with = "guid::option")]
    id: Option<Uuid>,
}

#[test]
fn names_in_any_case_exact_spelling_first_unknown_ignored_null_absent() {
    let o: Options = typed(
        r#"{"SHOWDELETED":"True","N":"42","Name":7,"documentVERSION":"last","asZip":1,"frob":[1,{}],"count":null}"#,
    )
    .unwrap();
    assert_eq!(o.show_deleted, Some(true));
    assert_eq!(o.n, Some(42));
    assert_eq!(o.name.as_deref(), Some("7"));
    assert_eq!(o.document_version, Some(DocumentVersion::Last));
    assert!(o.as_zip);
    assert_eq!(o.count, None);
    // Both spellings sent: the exact one wins, as Obj::get chose.
    let body = r#"{"Name":"any case","name":"exact"}"#;
    assert_eq!(typed::<Options>(body).unwrap().name, obj(body).str("name").unwrap());
    assert_eq!(typed::<Options>(body).unwrap().name.as_deref(), Some("exact"));
    // `null` is absent: a defaulted field keeps its default, a required one is missing.
    assert!(!typed::<Options>(r#"{"asZip":null}"#).unwrap().as_zip);
}

#[test]
fn booleans() {
    for (json, want) in [
        ("true", Some(true)),
        ("\"True\"", Some(true)),
        ("\"FALSE\"", Some(false)),
        ("\" true \"", Some(true)),
        ("1", Some(true)),
        ("0", Some(false)),
        ("\"1\"", Some(true)),
        ("\"0\"", Some(false)),
        ("null", None),
        ("\"\"", None),
        ("\"  \"", None),
    ] {
        let body = format!(r#"{{"showDeleted":{json}}}"#);
        assert_eq!(typed::<Options>(&body).unwrap().show_deleted, want, "{body}");
        assert_eq!(obj(&body).bool("showDeleted").unwrap(), want, "{body}");
    }
    for json in ["\"yes\"", "2", "[]", "{}", "1.0"] {
        let body = format!(r#"{{"showDeleted":{json}}}"#);
        assert_eq!(message::<Options>(&body), "'showDeleted' must be a boolean", "{body}");
        assert_eq!(obj(&body).bool("showDeleted").unwrap_err().message, "'showDeleted' must be a boolean");
    }
}

#[test]
fn numbers_and_numbers_as_strings() {
    for (json, want) in [("42", Some(42)), ("\"42\"", Some(42)), ("\" -7 \"", Some(-7)), ("\"\"", None)] {
        let body = format!(r#"{{"n":{json}}}"#);
        assert_eq!(typed::<Options>(&body).unwrap().n, want, "{body}");
        assert_eq!(obj(&body).i64("n").unwrap(), want, "{body}");
    }
    for json in ["\"x\"", "1.5", "true", "[]", "18446744073709551615"] {
        let body = format!(r#"{{"n":{json}}}"#);
        assert_eq!(message::<Options>(&body), "'n' must be an integer", "{body}");
        assert_eq!(obj(&body).i64("n").unwrap_err().message, "'n' must be an integer", "{body}");
    }
    for json in ["-1", "\"-1\"", "\"x\"", "1.5"] {
        let body = format!(r#"{{"count":{json}}}"#);
        assert_eq!(message::<Options>(&body), "'count' must be a non-negative integer", "{body}");
        assert_eq!(obj(&body).u64("count").unwrap_err().message, "'count' must be a non-negative integer");
    }
    assert_eq!(typed::<Options>(r#"{"count":"5"}"#).unwrap().count, Some(5));
    assert_eq!(typed::<Options>(r#"{"small":"255"}"#).unwrap().small, Some(255));
    assert_eq!(message::<Options>(r#"{"small":256}"#), "'small' must be a non-negative integer");
    assert_eq!(typed::<Options>(r#"{"ratio":"0.5"}"#).unwrap().ratio, Some(0.5));
    assert_eq!(typed::<Options>(r#"{"ratio":2}"#).unwrap().ratio, Some(2.0));
    assert_eq!(message::<Options>(r#"{"ratio":"x"}"#), "'ratio' must be a number");
}

#[test]
fn strings_take_numbers_and_booleans_as_text() {
    for json in ["\"x\"", "7", "-1.5", "true", "false", "\"\u{201C}q\u{201D}\""] {
        let body = format!(r#"{{"name":{json}}}"#);
        assert_eq!(typed::<Options>(&body).unwrap().name, obj(&body).str("name").unwrap(), "{body}");
    }
    assert_eq!(typed::<Options>(r#"{"name":true}"#).unwrap().name.as_deref(), Some("True"));
    for json in ["[]", "{}"] {
        let body = format!(r#"{{"name":{json}}}"#);
        assert_eq!(message::<Options>(&body), "'name' must be a string");
        assert_eq!(obj(&body).str("name").unwrap_err().message, "'name' must be a string");
    }
    // A blank string is no string at all for an `Option<String>` (Obj gave Some("")); `text` keeps it.
    assert_eq!(typed::<Options>(r#"{"name":""}"#).unwrap().name, None);
    assert_eq!(obj(r#"{"name":""}"#).str("name").unwrap().as_deref(), Some(""));
    #[derive(Debug, Deserialize)]
    struct Verbatim {
        #[serde(default, deserialize_with = "text")]
        name: Option<String>,
    }
    for body in [r#"{"name":""}"#, r#"{"NAME":" "}"#, r#"{"name":5}"#, r#"{"name":null}"#, "{}"] {
        assert_eq!(typed::<Verbatim>(body).unwrap().name, obj(body).str("name").unwrap(), "{body}");
    }
}

#[test]
fn required_fields() {
    #[derive(Debug, Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Credentials {
        #[serde(deserialize_with = "non_empty")]
        user_name: String,
        user_password: String,
    }
    for body in
        [r#"{"userPassword":"p"}"#, r#"{"userName":null,"userPassword":"p"}"#, r#"{"userName":"","userPassword":"p"}"#]
    {
        assert_eq!(message::<Credentials>(body), "'userName' is required", "{body}");
        assert_eq!(obj(body).required_str("userName").unwrap_err().message, "'userName' is required");
    }
    assert_eq!(message::<Credentials>(r#"{"username":"u"}"#), "'userPassword' is required");
    let c: Credentials = typed(r#"{"USERNAME":"u","UserPassword":"p"}"#).unwrap();
    assert_eq!((c.user_name.as_str(), c.user_password.as_str()), ("u", "p"));
}

#[test]
fn enums_in_any_case() {
    for (json, want) in [("\"veod\"", Some(SessionType::Veod)), ("\" VESP \"", Some(SessionType::Vesp)), ("\"\"", None)]
    {
        let body = format!(r#"{{"explore":{{"type":{json}}}}}"#);
        assert_eq!(typed::<Options>(&body).unwrap().explore.unwrap().r#type, want, "{body}");
    }
    let body = r#"{"explore":{"type":"vexx"}}"#;
    let want = "'explore.type' must be one of: Vex, Veod, Vesp, Vet (got 'vexx')";
    assert_eq!(message::<Options>(body), want);
    let explore = obj(body).object("explore").unwrap().unwrap();
    assert_eq!(explore.enum_of("type", &["Vex", "Veod", "Vesp", "Vet"]).unwrap_err().message, want);
    let body = r#"{"documentVersion":5}"#;
    assert_eq!(message::<Options>(body), "'documentVersion' must be one of: All, Last (got '5')");
    assert_eq!(obj(body).enum_of("documentVersion", &["All", "Last"]).unwrap_err().message, message::<Options>(body));
    let long = format!(r#"{{"documentVersion":"{}"}}"#, "x".repeat(50));
    assert_eq!(message::<Options>(&long), obj(&long).enum_of("documentVersion", &["All", "Last"]).unwrap_err().message);
}

#[test]
fn nested_objects_name_their_path() {
    let body = r#"{"Explore":{"ShowAllVersions":"maybe"}}"#;
    assert_eq!(message::<Options>(body), "'explore.showAllVersions' must be a boolean");
    let explore = obj(body).object("explore").unwrap().unwrap();
    assert_eq!(explore.bool("showAllVersions").unwrap_err().message, message::<Options>(body));
    for json in ["[]", "1", "\"x\""] {
        let body = format!(r#"{{"explore":{json}}}"#);
        assert_eq!(message::<Options>(&body), "'explore' must be an object", "{body}");
        assert_eq!(obj(&body).object("explore").unwrap_err().message, "'explore' must be an object");
    }
    let e: Options = typed(r#"{"explore":{"showDeleted":"true","datetime":"2021.04.27 10:49","TYPE":"vet"}}"#).unwrap();
    let e = e.explore.unwrap();
    assert_eq!((e.show_deleted, e.r#type), (Some(true), Some(SessionType::Vet)));
    assert_eq!(e.date_time, Some(Utc.with_ymd_and_hms(2021, 4, 27, 10, 49, 0).unwrap()));
}

#[test]
fn lists_of_objects_name_the_index() {
    #[derive(Debug, Deserialize)]
    struct Doc {
        #[serde(rename = "id")]
        _id: Option<String>,
        #[serde(rename = "size")]
        _size: Option<u64>,
    }
    #[derive(Debug, Deserialize)]
    struct Docs {
        #[serde(rename = "documents")]
        _documents: Option<Vec<Doc>>,
    }
    for (body, field) in [(r#"{"Documents":[{"Id":"a"},7]}"#, "documents"), (r#"{"documents":"a"}"#, "documents")] {
        let want = obj(body).objects(field).unwrap_err().message;
        assert_eq!(message::<Docs>(body), want, "{body}");
    }
    assert_eq!(
        message::<Docs>(r#"{"documents":[{},{"size":-1}]}"#),
        "'documents[1].size' must be a non-negative integer"
    );
    assert_eq!(typed::<Docs>(r#"{"documents":[{"id":"a"},{}]}"#).unwrap()._documents.unwrap().len(), 2);
}

#[test]
fn datetimes() {
    for s in ["2017.06.26 22:07:39", "2019-04-12T10:54:40.2794046Z", "4/27/2021 10:49:00 PM", "", " "] {
        let body = format!(r#"{{"explore":{{"dateTime":"{s}"}}}}"#);
        let want = obj(&body).object("explore").unwrap().unwrap().datetime("dateTime").unwrap();
        assert_eq!(typed::<Options>(&body).unwrap().explore.unwrap().date_time, want, "{body}");
    }
    for json in ["\"yesterday\"", "5", "true", "[]"] {
        let body = format!(r#"{{"explore":{{"DateTime":{json}}}}}"#);
        let want = obj(&body).object("explore").unwrap().unwrap().datetime("dateTime").unwrap_err().message;
        assert_eq!(message::<Options>(&body), want, "{body}");
    }
    assert!(message::<Options>(r#"{"explore":{"dateTime":"x"}}"#)
        .starts_with("'explore.dateTime' is not a valid date and time: 'x' (expected ISO 8601"));

    #[derive(Debug, Deserialize)]
    struct At {
        #[serde(deserialize_with = "datetime::deserialize")]
        _at: DateTime<Utc>,
    }
    assert_eq!(message::<At>(r#"{}"#), "'_at' is required");
    assert_eq!(message::<At>(r#"{"_at":""}"#), "'_at' is required");
    // Other deserializers read the helper's fields too (strict JSON).
    let strict: Explore = serde_json::from_str(r#"{"dateTime":"2021.04.27 10:49"}"#).unwrap();
    assert!(strict.date_time.is_some());
}

#[test]
fn guids() {
    for json in
        ["\"{6F9619FF-8B86-D011-B42D-00C04FC964FF}\"", "\" 6f9619ff-8b86-d011-b42d-00c04fc964ff \"", "\"\"", "null"]
    {
        let body = format!(r#"{{"ID":{json}}}"#);
        assert_eq!(typed::<Options>(&body).unwrap().id, obj(&body).uuid("id").unwrap(), "{body}");
    }
    assert!(typed::<Options>(r#"{"id":"6f9619ff-8b86-d011-b42d-00c04fc964ff"}"#).unwrap().id.is_some());
    for json in ["\"nope\"", "42", "[]", "{}"] {
        let body = format!(r#"{{"id":{json}}}"#);
        assert_eq!(message::<Options>(&body), obj(&body).uuid("id").unwrap_err().message, "{body}");
    }
    assert_eq!(message::<Options>(r#"{"id":"nope"}"#), "'id' must be a GUID");
}

#[test]
fn id_lists() {
    #[derive(Debug, Deserialize)]
    struct Bulk {
        documents: IdList,
    }
    let body = r#"{"Documents":[{"Id":"a"},"b",{"id":7}]}"#;
    assert_eq!(typed::<Bulk>(body).unwrap().documents.0, obj(body).id_list("documents").unwrap());
    assert_eq!(typed::<Bulk>(body).unwrap().documents, IdList(vec!["a".into(), "b".into(), "7".into()]));
    for body in [
        r#"{"documents":[{"id":"a"},{"x":1}]}"#,
        r#"{"documents":[{"id":"a"}, 7]}"#,
        r#"{"documents":[" "]}"#,
        r#"{"documents":[{"id":[]}]}"#,
        r#"{"documents":[]}"#,
        r#"{"documents":"a"}"#,
    ] {
        assert_eq!(message::<Bulk>(body), obj(body).id_list("documents").unwrap_err().message, "{body}");
    }
    // Missing: serde cannot tell which type is missing, so the hint after "is required" is gone.
    assert!(obj("{}").id_list("documents").unwrap_err().message.starts_with(&message::<Bulk>("{}")));
    assert_eq!(message::<Bulk>("{}"), "'documents' is required");
}

#[derive(Debug, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
struct SaveOptions {
    as_zip: Option<bool>,
}

#[derive(Debug, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Credentials {
    user_name: Option<String>,
    user_password: Option<String>,
}

/// A sample v2–v5 `/Action` body.
#[derive(Debug, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
enum Action {
    Explore(Explore),
    Stop,
    Save(SaveOptions),
    RestoreToOriginalLocation(Credentials),
    SendTo { to: Option<String> },
    CopyTo(Credentials),
}

const ACTIONS: &[&str] = &["explore", "stop", "save", "restoreToOriginalLocation", "sendTo", "copyTo"];

#[test]
fn actions_select_a_variant_by_their_only_key() {
    assert_eq!(typed::<Action>(r#"{"save":null}"#).unwrap(), Action::Save(SaveOptions { as_zip: None }));
    assert_eq!(
        typed::<Action>(r#"{"SAVE":{"AsZip":"true"}}"#).unwrap(),
        Action::Save(SaveOptions { as_zip: Some(true) })
    );
    assert_eq!(typed::<Action>("{ \u{201C}Stop\u{201D} : null }").unwrap(), Action::Stop);
    assert_eq!(typed::<Action>(r#"{"stop":{"ignored":1}}"#).unwrap(), Action::Stop);
    assert_eq!(typed::<Action>(r#"{"sendto":{"To":"a@b"}}"#).unwrap(), Action::SendTo { to: Some("a@b".into()) });
    let body = r#"{ "restoretoOriginallocation": {"userName": "j", "userPassword": "p" } }"#;
    let (name, o) = obj(body).action(ACTIONS).unwrap();
    assert_eq!(name, "restoreToOriginalLocation");
    assert_eq!(
        typed::<Action>(body).unwrap(),
        Action::RestoreToOriginalLocation(Credentials {
            user_name: o.str("userName").unwrap(),
            user_password: o.str("userPassword").unwrap()
        })
    );
    assert_eq!(typed::<Action>(r#"{"explore":{}}"#).unwrap(), Action::Explore(Explore::default()));
}

#[test]
fn action_errors_are_obj_action_texts() {
    for body in [
        r#"{"frobnicate":{}}"#,
        r#"{"save":null,"stop":null}"#,
        r#"{"save":null,"frob":null}"#,
        "",
        "null",
        "{}",
        r#"{"save":"true"}"#,
        r#"{"save":[]}"#,
        r#"{"explore":{"showDeleted":"x"}}"#,
        r#"{"Explore":{"type":"x"}}"#,
    ] {
        let want = match obj(body).action(ACTIONS) {
            Err(e) => e.message,
            Ok((_, o)) => match o.bool("showDeleted") {
                Err(e) => e.message,
                Ok(_) => o.enum_of("type", &["Vex", "Veod", "Vesp", "Vet"]).unwrap_err().message,
            },
        };
        assert_eq!(message::<Action>(body), want, "{body}");
    }
    assert_eq!(message::<Action>(r#"{"save":"true"}"#), "'save' must be an object or null");
    assert!(message::<Action>(r#"{"frobnicate":{}}"#)
        .starts_with("Unknown action 'frobnicate'; expected one of: explore, stop"));
    assert_eq!(message::<Action>(r#"{"Explore":{"showDeleted":"x"}}"#), "'Explore.showDeleted' must be a boolean");
    assert_eq!(message::<Action>("[1]"), "The request body must be a JSON object.");
}

#[test]
fn free_form_objects_keep_their_place_in_the_body() {
    let body = r#"{"a":1,"B":[true,null],"c":{"d":"e"},"n":-0,"big":18446744073709551615}"#;
    assert_eq!(typed::<Obj>(body).unwrap(), obj(body));
    assert_eq!(typed::<Obj>("").unwrap(), Obj::default());
    #[derive(Debug, Deserialize)]
    struct Wrapper {
        explore: Obj,
        missing: Option<Obj>,
    }
    let w: Wrapper = typed(r#"{"Explore":{"showDeleted":"x"}}"#).unwrap();
    assert_eq!(w.explore.bool("showDeleted").unwrap_err().message, "'explore.showDeleted' must be a boolean");
    assert!(w.missing.is_none());
    assert_eq!(message::<Wrapper>(r#"{"explore":[]}"#), "'explore' must be an object");
    // An Obj handed on by Obj::action reads typed options at its own place.
    let (_, o) = obj(r#"{"explore":{"showDeleted":"x"}}"#).action(ACTIONS).unwrap();
    assert_eq!(o.to_typed::<Explore>().unwrap_err().message, "'explore.showDeleted' must be a boolean");
}

/// Random bodies: the typed reader never panics, and it accepts or refuses each field exactly as the getters do.
#[test]
fn random_bodies_agree_with_the_getters() {
    const VALUES: &[&str] = &[
        "null",
        "true",
        "\"True\"",
        "\"no\"",
        "0",
        "1",
        "2",
        "-1",
        "1.5",
        "\"42\"",
        "\"\"",
        "\" \"",
        "\"x\"",
        "[]",
        "{}",
        "[\"a\"]",
        "\"veod\"",
        "\"Last\"",
        "\"2021.04.27 10:49\"",
        "\"{6F9619FF-8B86-D011-B42D-00C04FC964FF}\"",
    ];
    const NAMES: &[&str] = &["showDeleted", "SHOWDELETED", "n", "count", "documentVersion", "id", "frob"];
    let mut state: u64 = 0x2545_F491_4F6C_DD1D;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for _ in 0..3000 {
        let fields: Vec<String> = (0..(next() % 4))
            .map(|_| {
                let name = NAMES[(next() % NAMES.len() as u64) as usize];
                format!("\"{name}\":{}", VALUES[(next() % VALUES.len() as u64) as usize])
            })
            .collect();
        let body = format!("{{{}}}", fields.join(","));
        let o = obj(&body);
        let getters = (|| -> Result<_, ApiError> {
            Ok((
                o.bool("showDeleted")?,
                o.i64("n")?,
                o.u64("count")?,
                o.enum_of("documentVersion", &["All", "Last"])?,
                o.uuid("id")?,
            ))
        })();
        match (typed::<Options>(&body), getters) {
            (Ok(t), Ok((b, n, c, v, id))) => {
                assert_eq!(t.show_deleted, b, "{body}");
                assert_eq!(t.n, n, "{body}");
                assert_eq!(t.count, c, "{body}");
                assert_eq!(t.document_version.map(|v| format!("{v:?}")), v.map(str::to_string), "{body}");
                assert_eq!(t.id, id, "{body}");
            }
            (Err(t), Err(g)) => assert_eq!(t.message, g.message, "{body}"),
            (t, g) => panic!("{body}: typed {t:?}, getters {g:?}"),
        }
    }
}

#[derive(Debug, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Settings {
    #[serde(default, deserialize_with = "nullable")]
    server: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    port: Option<Option<u16>>,
    enabled: Option<bool>,
    inner: Option<Inner>,
}

#[derive(Debug, Default, PartialEq, Deserialize)]
struct Inner {
    #[serde(default)]
    flag: bool,
}

/// A partial update tells absent (`None`) from `null` or blank (`Some(None)`), in any case; only the patched
/// struct's own properties: `null` deeper in still counts as absent.
#[test]
fn patch_tells_absent_from_null() {
    let p = |s: &str| typed::<Patch<Settings>>(s).unwrap().0;
    assert_eq!(p("{}"), Settings::default());
    assert_eq!(
        p(r#"{"Server":null,"PORT":" ","enabled":null,"inner":{"flag":null}}"#),
        Settings { server: Some(None), port: Some(None), enabled: None, inner: Some(Inner { flag: false }) }
    );
    assert_eq!(
        p(r#"{"server":"m","port":"25","enabled":"true"}"#),
        Settings { server: Some(Some("m".into())), port: Some(Some(25)), enabled: Some(true), inner: None }
    );
    assert_eq!(message::<Patch<Settings>>(r#"{"port":"x"}"#), "'port' must be a non-negative integer");
    // Without Patch, `null` is absent as everywhere else.
    assert_eq!(typed::<Settings>(r#"{"server":null}"#).unwrap(), Settings::default());
}

#[derive(Debug, PartialEq, Deserialize)]
struct Aliased {
    #[serde(alias = "smtpServer")]
    server: Option<String>,
}

/// serde aliases match in any case too, but a body with the name and its alias is refused ("given twice"): where
/// the first spelling must win, the other spelling is a field of its own (`wire::email_settings`).
#[test]
fn aliases_in_any_case_but_not_twice() {
    assert_eq!(typed::<Aliased>(r#"{"SMTPSERVER":"m"}"#).unwrap(), Aliased { server: Some("m".into()) });
    assert_eq!(typed::<Aliased>(r#"{"Server":"m"}"#).unwrap(), Aliased { server: Some("m".into()) });
    assert_eq!(message::<Aliased>(r#"{"server":"m","smtpServer":"x"}"#), "'server' is given twice");
}
