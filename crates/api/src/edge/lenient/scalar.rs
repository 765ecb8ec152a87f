//! The scalar coercions every lenient reader shares (bodies, typed options, queries).

use serde_json::Value;

/// A value quoted in an error message, cut to 40 characters so a hostile body cannot inflate the answer.
pub(crate) fn truncate(s: &str) -> String {
    if s.chars().count() > 40 {
        format!("{}…", s.chars().take(40).collect::<String>())
    } else {
        s.to_string()
    }
}

/// A boolean from a string: `true`/`false` in any case (C#'s `bool.ToString()` gives `True`), or `1`/`0`.
pub fn parse_bool_str(s: &str) -> Option<bool> {
    let t = s.trim();
    if t.eq_ignore_ascii_case("true") || t == "1" {
        Some(true)
    } else if t.eq_ignore_ascii_case("false") || t == "0" {
        Some(false)
    } else {
        None
    }
}

/// A boolean from a JSON value: `true`, `"True"`, `"false"`, `1`, `0`. `None` when it is not one.
pub fn parse_bool(v: &Value) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(*b),
        Value::String(s) => parse_bool_str(s),
        Value::Number(n) => match n.as_i64() {
            Some(1) => Some(true),
            Some(0) => Some(false),
            _ => None,
        },
        _ => None,
    }
}

/// The allowed value equal to `s` ignoring case, in its canonical spelling.
pub fn parse_enum(s: &str, allowed: &[&'static str]) -> Option<&'static str> {
    let t = s.trim();
    allowed.iter().find(|a| a.eq_ignore_ascii_case(t)).copied()
}
