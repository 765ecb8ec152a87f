//! The properties the fuzz targets check, as plain functions of bytes that panic when a property is broken.
//!
//! Two consumers: the libFuzzer targets in `fuzz_targets/` (coverage-guided, `scripts/fuzz.sh`), and
//! `crates/api/tests/suite/security.rs`, which includes this file with `#[path]` and feeds it thousands of seeded random
//! inputs on every `cargo test` — so the properties are checked even on a machine where libFuzzer cannot run.
//! This file may therefore only use what both have: `api`, `engine`, `serde_json` and std.

use std::collections::HashSet;
use std::path::{Component, Path};

use api::edge::lenient::{parse_value, Body, Obj, MAX_DEPTH};
use api::ApiError;
use engine::export::{sanitize_name, MAX_NAME_BYTES};
use engine::save::{EntryContent, ZipPlan};
use serde_json::Value;

/// Every action name of the v2–v5 `…/Action` endpoints.
pub const ACTIONS: &[&str] = &["explore", "stop", "save", "restoreToOriginalLocation", "copyTo", "sendTo"];

/// Option names the routes read from an action's object, asked for in every object besides its own keys.
const FIELDS: &[&str] = &[
    "type",
    "datetime",
    "showDeleted",
    "showAllVersions",
    "userName",
    "userPassword",
    "documents",
    "folders",
    "id",
    "asZip",
    "documentVersion",
    "oneDrive",
];

/// Deepest nested object the getters are exercised on (the parser itself goes to [`MAX_DEPTH`]).
const EXERCISE_DEPTH: usize = 4;

/// Arbitrary bytes as a request body: parsing, the Action dispatcher and every typed getter never panic; every
/// failure is a 400 with a message (naming the field for getters, a line and column for syntax); whatever strict
/// JSON serde_json accepts, the lenient parser reads to the same value.
pub fn check_action_body(data: &[u8]) {
    let ours = parse_value(data);
    match &ours {
        Ok(_) => {}
        Err(e) => {
            assert!(e.line >= 1 && e.column >= 1, "syntax error without a position: {e:?}");
            assert!(e.to_string().contains(&format!("line {}, column {}", e.line, e.column)), "{e}");
        }
    }
    if let Ok(strict) = serde_json::from_slice::<Value>(data) {
        match &ours {
            Ok(v) => assert!(same_value(v, &strict), "lenient {v} != strict {strict}"),
            // serde_json allows deeper nesting than we do: the only strict JSON we may refuse.
            Err(e) => assert!(e.what.contains("nesting"), "strict JSON refused: {e} (deeper than {MAX_DEPTH}?)"),
        }
    }

    let body = match Body::parse(data) {
        Ok(b) => b,
        Err(e) => return assert_bad_request(&e, None),
    };
    exercise(&body, 0);
    match body.action(ACTIONS) {
        Ok((name, opts)) => {
            assert!(ACTIONS.contains(&name), "dispatched to unknown action {name}");
            exercise(&opts, 0);
        }
        Err(e) => assert_bad_request(&e, None),
    }
}

fn assert_bad_request(e: &ApiError, field: Option<&str>) {
    assert_eq!(e.status.as_u16(), 400, "{e:?}");
    assert!(!e.message.trim().is_empty(), "an error without a message");
    if let Some(f) = field {
        assert!(e.message.contains(f), "the message does not name '{f}': {}", e.message);
    }
}

/// Calls every typed getter on every key of `o` (and on the option names routes use); recurses into objects.
fn exercise(o: &Obj, depth: usize) {
    let keys: Vec<String> = o.keys().map(str::to_string).chain(FIELDS.iter().map(|f| f.to_string())).collect();
    for k in &keys {
        let field = Some(k.as_str());
        let present = o.has(k);
        assert_eq!(present, o.get(k).is_some_and(|v| !v.is_null()));
        if let Err(e) = o.str(k) {
            assert_bad_request(&e, field);
        }
        if let Err(e) = o.bool(k) {
            assert_bad_request(&e, field);
        }
        if let Err(e) = o.i64(k) {
            assert_bad_request(&e, field);
        }
        if let Err(e) = o.u64(k) {
            assert_bad_request(&e, field);
        }
        if let Err(e) = o.enum_of(k, ACTIONS) {
            assert_bad_request(&e, field);
        }
        if let Err(e) = o.datetime(k) {
            assert_bad_request(&e, field);
        }
        if let Err(e) = o.uuid(k) {
            assert_bad_request(&e, field);
        }
        if let Err(e) = o.array(k) {
            assert_bad_request(&e, field);
        }
        match o.object(k) {
            Ok(Some(child)) if depth < EXERCISE_DEPTH => exercise(&child, depth + 1),
            Ok(_) => {}
            Err(e) => assert_bad_request(&e, field),
        }
        match o.objects(k) {
            Ok(Some(children)) if depth < EXERCISE_DEPTH => children.iter().for_each(|c| exercise(c, depth + 1)),
            Ok(_) => {}
            Err(e) => assert_bad_request(&e, field),
        }
        match o.required_str(k) {
            Ok(s) => assert!(!s.is_empty()),
            Err(e) => assert_bad_request(&e, field),
        }
    }
}

/// Structural equality; floats equal within a rounding step (serde_json's default float parser may be one ULP off
/// the correctly rounded value the standard library gives).
fn same_value(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            if x == y {
                return true;
            }
            match (x.as_f64(), y.as_f64()) {
                (Some(p), Some(q)) => p == q || (p - q).abs() <= f64::EPSILON * 4.0 * p.abs().max(q.abs()),
                _ => false,
            }
        }
        (Value::Array(x), Value::Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(p, q)| same_value(p, q)),
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same_value(v, w)))
        }
        _ => a == b,
    }
}

/// Arbitrary bytes as a tree of backed-up names put into one ZIP ([`ZipPlan`]): records separated by `0xFF` (never
/// part of UTF-8); a record's first byte chooses folder or file and the parent, the rest is the name as the tenant
/// gave it (lossy UTF-8). Checks that every sanitised name is one safe path component, that every entry path stays
/// inside the archive (no `..` or `.` components, not absolute, no backslash, NUL or control character, no drive
/// colon), that paths are unique (also ignoring case), that every entry's folder is in the archive, and that no
/// entry is lost.
pub fn check_zip_names(data: &[u8]) {
    let mut plan = ZipPlan::new();
    let mut folders: Vec<String> = Vec::new();
    let mut added = 0usize;
    for record in data.split(|&b| b == 0xFF) {
        let Some((&op, name)) = record.split_first() else { continue };
        let name = String::from_utf8_lossy(name);
        check_component(&sanitize_name(&name), &name);
        // Parent: the root, one of the folders so far, or a key that names no folder (must land at the root).
        let pick = (op >> 2) as usize % (folders.len() + 2);
        let parent = match pick {
            0 => None,
            1 => Some("no such folder".to_string()),
            n => Some(folders[n - 2].clone()),
        };
        if op & 1 == 1 {
            // Bit 1 re-uses an existing key (adding a key twice must keep the first folder, not add an entry).
            let key =
                if op & 2 == 2 && !folders.is_empty() { folders[0].clone() } else { format!("k{}", folders.len()) };
            let existed = folders.contains(&key);
            let path = plan.add_folder(parent.as_deref(), &key, &name, None);
            if !existed {
                folders.push(key);
                added += 1;
                assert_eq!(plan.entries().last().map(|e| e.name.clone()), Some(format!("{path}/")));
            }
        } else {
            let path = plan.add_file(parent.as_deref(), &name, EntryContent::Inline(Default::default()), None);
            added += 1;
            assert_eq!(plan.entries().last().map(|e| e.name.as_str()), Some(path.as_str()));
        }
    }
    assert_eq!(plan.len(), added, "entries were lost or added");

    let mut exact = HashSet::new();
    let mut folded = HashSet::new();
    let mut dirs: HashSet<String> = HashSet::new();
    for e in plan.entries() {
        let is_dir = matches!(e.content, EntryContent::Directory);
        assert_eq!(e.name.ends_with('/'), is_dir, "{:?}", e.name);
        let path = e.name.trim_end_matches('/');
        assert!(!path.is_empty() && !path.starts_with('/'), "absolute or empty: {:?}", e.name);
        let parts: Vec<&str> = path.split('/').collect();
        for p in &parts {
            check_component(p, &e.name);
        }
        assert!(
            Path::new(path).components().all(|c| matches!(c, Component::Normal(_))),
            "{path:?} has a component that leaves its folder"
        );
        let parent = parts[..parts.len() - 1].join("/");
        assert!(parent.is_empty() || dirs.contains(&parent), "{path:?}: folder {parent:?} is not in the archive");
        if is_dir {
            dirs.insert(path.to_string());
        }
        assert!(exact.insert(e.name.clone()), "duplicate entry {:?}", e.name);
        let key: Vec<String> = parts.iter().map(|p| p.to_lowercase()).collect();
        assert!(folded.insert(key), "entries differing only in case: {:?}", e.name);
    }
}

/// One sanitised path component: safe to join onto a directory on Linux, macOS and Windows.
fn check_component(c: &str, from: &str) {
    assert!(!c.is_empty() && c != "." && c != "..", "{from:?} gave the component {c:?}");
    assert!(!c.contains(['/', '\\', ':', '\0']), "{from:?} gave {c:?}");
    assert!(!c.chars().any(char::is_control), "{from:?} gave a control character in {c:?}");
    assert!(!c.ends_with(['.', ' ']), "{from:?} gave {c:?} (Windows drops trailing dots and spaces)");
    // A clash suffix (` (2)`) may be added to a name of the maximum length.
    assert!(c.len() <= MAX_NAME_BYTES + 24, "{from:?} gave a {}-byte component", c.len());
}
