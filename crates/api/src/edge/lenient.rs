//! The request dialect: lenient JSON as Veeam's ASP.NET/Newtonsoft stack accepted it (veeam-api-notes §1).
//!
//! Accepted beyond strict JSON, because real clients send it:
//! * property names in any case (`restoretoOriginallocation`, `UserPassword`, `Id`) — looked up by [`Obj`];
//! * trailing commas in objects and arrays (`{"a":1,}`, `[{..},]`);
//! * booleans as strings in any case (`"true"`, `"True"`, `"FALSE"`) and as `0`/`1`;
//! * enum values in any case (`last`, `Merge`, `vex`);
//! * `null` action markers (`{"save": null}`);
//! * unknown properties (ignored);
//! * also, as Newtonsoft did: `//` and `/* */` comments, single-quoted strings, unquoted property names, a UTF-8
//!   byte-order mark, and typographic quotes (`“save”`) copied from the vendor's documentation.
//!
//! Malformed input is answered with 400 and a message giving the line and column; a wrongly typed field with 400
//! naming it (`'showDeleted' must be a boolean`).
//!
//! [`parse_value`] and [`Body::parse`] are pure functions of bytes (no allocation beyond the result, recursion bounded
//! by [`MAX_DEPTH`]), suitable for fuzzing.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use serde_json::{Map, Number, Value};

use crate::edge::error::ApiError;

/// Deepest nesting accepted (objects + arrays); deeper input is rejected instead of exhausting the stack.
pub const MAX_DEPTH: usize = 64;

/// A syntax error with its 1-based position.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("The request body is not valid JSON: {what} at line {line}, column {column}.")]
pub struct SyntaxError {
    /// What was wrong.
    pub what: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column (in characters).
    pub column: usize,
}

impl From<SyntaxError> for ApiError {
    fn from(e: SyntaxError) -> ApiError {
        ApiError::bad_request(e.to_string())
    }
}

/// Parses lenient JSON into a value.
pub fn parse_value(input: &[u8]) -> Result<Value, SyntaxError> {
    let mut p = Parser { s: input, pos: 0 };
    if p.s.starts_with(&[0xEF, 0xBB, 0xBF]) {
        p.pos = 3;
    }
    p.skip_ws()?;
    if p.pos >= p.s.len() {
        return Err(p.err("the body is empty"));
    }
    let v = p.value(0)?;
    p.skip_ws()?;
    if p.pos < p.s.len() {
        return Err(p.err("unexpected content after the end of the JSON value"));
    }
    Ok(v)
}

struct Parser<'a> {
    s: &'a [u8],
    pos: usize,
}

const LEFT_DQ: &[u8] = "\u{201C}".as_bytes();
const RIGHT_DQ: &[u8] = "\u{201D}".as_bytes();

impl Parser<'_> {
    fn err(&self, what: impl Into<String>) -> SyntaxError {
        self.err_at(self.pos, what)
    }

    fn err_at(&self, pos: usize, what: impl Into<String>) -> SyntaxError {
        let pos = pos.min(self.s.len());
        let before = &self.s[..pos];
        let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
        let line_start = before.iter().rposition(|&b| b == b'\n').map(|i| i + 1).unwrap_or(0);
        // Columns count characters: skip UTF-8 continuation bytes.
        let column = before[line_start..].iter().filter(|&&b| (b & 0xC0) != 0x80).count() + 1;
        SyntaxError { what: what.into(), line, column }
    }

    fn peek(&self) -> Option<u8> {
        self.s.get(self.pos).copied()
    }

    fn skip_ws(&mut self) -> Result<(), SyntaxError> {
        loop {
            match self.peek() {
                Some(b' ' | b'\t' | b'\r' | b'\n') => self.pos += 1,
                Some(b'/') if self.s.get(self.pos + 1) == Some(&b'/') => {
                    while let Some(b) = self.peek() {
                        if b == b'\n' {
                            break;
                        }
                        self.pos += 1;
                    }
                }
                Some(b'/') if self.s.get(self.pos + 1) == Some(&b'*') => {
                    let start = self.pos;
                    self.pos += 2;
                    loop {
                        match self.peek() {
                            None => return Err(self.err_at(start, "unterminated comment")),
                            Some(b'*') if self.s.get(self.pos + 1) == Some(&b'/') => {
                                self.pos += 2;
                                break;
                            }
                            Some(_) => self.pos += 1,
                        }
                    }
                }
                // A non-breaking space (U+00A0) pasted from a web page.
                Some(0xC2) if self.s.get(self.pos + 1) == Some(&0xA0) => self.pos += 2,
                _ => return Ok(()),
            }
        }
    }

    fn value(&mut self, depth: usize) -> Result<Value, SyntaxError> {
        if depth >= MAX_DEPTH {
            return Err(self.err(format!("nesting deeper than {MAX_DEPTH} levels")));
        }
        match self.peek() {
            None => Err(self.err("unexpected end of input, expected a value")),
            Some(b'{') => self.object(depth),
            Some(b'[') => self.array(depth),
            Some(b'"' | b'\'') => Ok(Value::String(self.string()?)),
            Some(_) if self.s[self.pos..].starts_with(LEFT_DQ) || self.s[self.pos..].starts_with(RIGHT_DQ) => {
                Ok(Value::String(self.string()?))
            }
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(b) if b.is_ascii_alphabetic() => {
                let start = self.pos;
                let word = self.word();
                match word.to_ascii_lowercase().as_str() {
                    "true" => Ok(Value::Bool(true)),
                    "false" => Ok(Value::Bool(false)),
                    "null" => Ok(Value::Null),
                    _ => Err(self.err_at(start, format!("unexpected word '{}'", truncate(&word)))),
                }
            }
            Some(_) => Err(self.err(format!("unexpected character {}", self.describe_here()))),
        }
    }

    fn describe_here(&self) -> String {
        let rest = &self.s[self.pos..];
        let len = utf8_len(rest[0]).min(rest.len());
        match std::str::from_utf8(&rest[..len]) {
            Ok(c) => format!("'{c}'"),
            Err(_) => format!("byte 0x{:02X}", rest[0]),
        }
    }

    /// An identifier-like run (unquoted property names, literals).
    fn word(&mut self) -> String {
        let start = self.pos;
        while let Some(b) = self.peek() {
            if b.is_ascii_alphanumeric() || b == b'_' || b == b'$' {
                self.pos += 1;
            } else {
                break;
            }
        }
        String::from_utf8_lossy(&self.s[start..self.pos]).into_owned()
    }

    fn object(&mut self, depth: usize) -> Result<Value, SyntaxError> {
        let open = self.pos;
        self.pos += 1; // '{'
        let mut map = Map::new();
        loop {
            self.skip_ws()?;
            match self.peek() {
                None => return Err(self.err_at(open, "unterminated object")),
                Some(b'}') => {
                    self.pos += 1;
                    return Ok(Value::Object(map));
                }
                _ => {}
            }
            let key = match self.peek() {
                Some(b'"' | b'\'') => self.string()?,
                Some(_) if self.s[self.pos..].starts_with(LEFT_DQ) || self.s[self.pos..].starts_with(RIGHT_DQ) => {
                    self.string()?
                }
                Some(b) if b.is_ascii_alphabetic() || b == b'_' || b == b'$' => self.word(),
                _ => return Err(self.err(format!("expected a property name, found {}", self.describe_here()))),
            };
            self.skip_ws()?;
            if self.peek() != Some(b':') {
                return Err(self.err(format!("expected ':' after property name '{}'", truncate(&key))));
            }
            self.pos += 1;
            self.skip_ws()?;
            let v = self.value(depth + 1)?;
            map.insert(key, v);
            self.skip_ws()?;
            match self.peek() {
                Some(b',') => self.pos += 1, // a trailing comma is then closed by '}' above
                Some(b'}') => {}
                None => return Err(self.err_at(open, "unterminated object")),
                Some(_) => return Err(self.err(format!("expected ',' or '}}', found {}", self.describe_here()))),
            }
        }
    }

    fn array(&mut self, depth: usize) -> Result<Value, SyntaxError> {
        let open = self.pos;
        self.pos += 1; // '['
        let mut items = Vec::new();
        loop {
            self.skip_ws()?;
            match self.peek() {
                None => return Err(self.err_at(open, "unterminated array")),
                Some(b']') => {
                    self.pos += 1;
                    return Ok(Value::Array(items));
                }
                _ => {}
            }
            items.push(self.value(depth + 1)?);
            self.skip_ws()?;
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b']') => {}
                None => return Err(self.err_at(open, "unterminated array")),
                Some(_) => return Err(self.err(format!("expected ',' or ']', found {}", self.describe_here()))),
            }
        }
    }

    fn string(&mut self) -> Result<String, SyntaxError> {
        let open = self.pos;
        // The closing delimiter: the same ASCII quote, or either typographic double quote.
        let typographic = if self.s[self.pos..].starts_with(LEFT_DQ) || self.s[self.pos..].starts_with(RIGHT_DQ) {
            self.pos += 3;
            true
        } else {
            false
        };
        let quote = if typographic {
            0
        } else {
            let q = self.s[self.pos];
            self.pos += 1;
            q
        };
        let mut out: Vec<u8> = Vec::new();
        loop {
            let Some(b) = self.peek() else {
                return Err(self.err_at(open, "unterminated string"));
            };
            if typographic && (self.s[self.pos..].starts_with(RIGHT_DQ) || self.s[self.pos..].starts_with(LEFT_DQ)) {
                self.pos += 3;
                break;
            }
            if !typographic && b == quote {
                self.pos += 1;
                break;
            }
            if b == b'\\' {
                let esc_at = self.pos;
                self.pos += 1;
                let Some(e) = self.peek() else {
                    return Err(self.err_at(open, "unterminated string"));
                };
                self.pos += 1;
                match e {
                    b'"' | b'\'' | b'\\' | b'/' => out.push(e),
                    b'b' => out.push(0x08),
                    b'f' => out.push(0x0C),
                    b'n' => out.push(b'\n'),
                    b'r' => out.push(b'\r'),
                    b't' => out.push(b'\t'),
                    b'u' => {
                        let c = self.unicode_escape(esc_at)?;
                        let mut buf = [0u8; 4];
                        out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                    }
                    _ => return Err(self.err_at(esc_at, "invalid escape sequence")),
                }
                continue;
            }
            out.push(b);
            self.pos += 1;
        }
        String::from_utf8(out).map_err(|e| {
            // Report the first invalid byte's position inside the string.
            self.err_at(open + 1 + e.utf8_error().valid_up_to(), "invalid UTF-8 in string")
        })
    }

    fn hex4(&mut self, at: usize) -> Result<u32, SyntaxError> {
        let digits = self.s.get(self.pos..self.pos + 4).ok_or_else(|| self.err_at(at, "truncated \\u escape"))?;
        let text = std::str::from_utf8(digits).map_err(|_| self.err_at(at, "invalid \\u escape"))?;
        let n = u32::from_str_radix(text, 16).map_err(|_| self.err_at(at, "invalid \\u escape"))?;
        if !text.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(self.err_at(at, "invalid \\u escape"));
        }
        self.pos += 4;
        Ok(n)
    }

    fn unicode_escape(&mut self, at: usize) -> Result<char, SyntaxError> {
        let hi = self.hex4(at)?;
        if (0xD800..0xDC00).contains(&hi) {
            // A surrogate pair; a lone surrogate becomes U+FFFD (as lenient .NET readers do).
            if self.s.get(self.pos..self.pos + 2) == Some(b"\\u") {
                let save = self.pos;
                self.pos += 2;
                let lo = self.hex4(save)?;
                if (0xDC00..0xE000).contains(&lo) {
                    let c = 0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00);
                    return Ok(char::from_u32(c).unwrap_or('\u{FFFD}'));
                }
                self.pos = save;
            }
            return Ok('\u{FFFD}');
        }
        Ok(char::from_u32(hi).unwrap_or('\u{FFFD}'))
    }

    fn number(&mut self) -> Result<Value, SyntaxError> {
        let start = self.pos;
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        let int_start = self.pos;
        while matches!(self.peek(), Some(b'0'..=b'9')) {
            self.pos += 1;
        }
        if self.pos == int_start {
            return Err(self.err_at(start, "invalid number"));
        }
        let mut float = false;
        if self.peek() == Some(b'.') {
            float = true;
            self.pos += 1;
            let frac = self.pos;
            while matches!(self.peek(), Some(b'0'..=b'9')) {
                self.pos += 1;
            }
            if self.pos == frac {
                return Err(self.err_at(start, "invalid number"));
            }
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            float = true;
            self.pos += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.pos += 1;
            }
            let exp = self.pos;
            while matches!(self.peek(), Some(b'0'..=b'9')) {
                self.pos += 1;
            }
            if self.pos == exp {
                return Err(self.err_at(start, "invalid number"));
            }
        }
        if matches!(self.peek(), Some(b) if b.is_ascii_alphabetic() || b == b'_') {
            return Err(self.err_at(start, "invalid number"));
        }
        // The slice is ASCII digits/sign/dot/exponent by construction.
        let text = std::str::from_utf8(&self.s[start..self.pos]).map_err(|_| self.err_at(start, "invalid number"))?;
        if !float {
            if let Ok(i) = text.parse::<i64>() {
                // serde_json (and .NET) read "-0" as the float -0.0; stay identical.
                if i == 0 && text.starts_with('-') {
                    return Ok(Number::from_f64(-0.0).map(Value::Number).unwrap_or(Value::Number(0.into())));
                }
                return Ok(Value::Number(i.into()));
            }
            if let Ok(u) = text.parse::<u64>() {
                return Ok(Value::Number(u.into()));
            }
        }
        text.parse::<f64>()
            .ok()
            .and_then(Number::from_f64)
            .map(Value::Number)
            .ok_or_else(|| self.err_at(start, "number out of range"))
    }
}

fn utf8_len(first: u8) -> usize {
    match first {
        0xF0..=0xF7 => 4,
        0xE0..=0xEF => 3,
        0xC0..=0xDF => 2,
        _ => 1,
    }
}

fn truncate(s: &str) -> String {
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

/// Parses the date-time formats clients send; zone-less times are taken as UTC.
///
/// Accepted: ISO 8601 / RFC 3339 with `Z` or an offset, with or without seconds and with any number of fractional
/// digits (.NET writes 7); ISO without a zone (`2017-04-09T09:12:59`); `yyyy-MM-dd HH:mm[:ss[.fff]]`;
/// `yyyy.MM.dd[ HH:mm[:ss[.fff]]]` (v1/v2 docs; the PHP portal sends `2021.04.27 10:49`); `yyyy/MM/dd …`;
/// US `M/d/yyyy[ h:mm[:ss][ AM|PM]]` (C#'s `DateTime.ToString()`); RFC 1123 (`Mon, 04 Sep 2017 04:45:57 GMT`);
/// a bare date (midnight UTC).
pub fn parse_datetime(input: &str) -> Option<DateTime<Utc>> {
    let s = input.trim();
    if s.is_empty() || s.len() > 64 {
        return None;
    }
    if let Ok(dt) = DateTime::parse_from_rfc2822(s) {
        return Some(dt.with_timezone(&Utc));
    }
    let (local, offset_secs) = split_zone(s)?;
    let local = truncate_fraction(local);
    let naive = parse_naive(&local)?;
    let utc = naive.checked_sub_signed(chrono::Duration::seconds(offset_secs))?;
    Some(utc.and_utc())
}

/// Splits a trailing zone designator (`Z`, `±HH:MM`, `±HHMM`, `±HH`, ` UTC`, ` GMT`) off; offset in seconds east.
fn split_zone(s: &str) -> Option<(&str, i64)> {
    for suffix in [" UTC", " GMT", "Z", "z"] {
        // `get`, not indexing: the cut may fall inside a multi-byte character ("a€€"), which must not panic.
        if s.len() > suffix.len() && s.get(s.len() - suffix.len()..).is_some_and(|t| t.eq_ignore_ascii_case(suffix)) {
            return Some((s[..s.len() - suffix.len()].trim_end(), 0));
        }
    }
    // An offset can only follow a time: look after the date/time separator.
    let Some(sep) = s.find(['T', 't', ' ']) else {
        return Some((s, 0));
    };
    let Some(rel) = s[sep..].rfind(['+', '-']) else {
        return Some((s, 0));
    };
    let at = sep + rel;
    let (sign, rest) = (if &s[at..at + 1] == "-" { -1 } else { 1 }, &s[at + 1..]);
    let digits: String = rest.chars().filter(|c| *c != ':').collect();
    if !digits.bytes().all(|b| b.is_ascii_digit()) || rest.starts_with(':') {
        return None;
    }
    let (h, m) = match digits.len() {
        2 => (digits.parse::<i64>().ok()?, 0),
        4 => (digits[..2].parse::<i64>().ok()?, digits[2..].parse::<i64>().ok()?),
        _ => return None,
    };
    if h > 18 || m > 59 {
        return None;
    }
    Some((s[..at].trim_end(), sign * (h * 3600 + m * 60)))
}

/// chrono reads at most 9 fractional digits; keep 9 (sub-nanosecond precision is meaningless here).
fn truncate_fraction(s: &str) -> String {
    let Some(dot) = s.rfind('.') else { return s.to_string() };
    // Only a fraction after a time (hh:mm:ss.f), not the dots of yyyy.MM.dd.
    if !s[..dot].contains(':') {
        return s.to_string();
    }
    let frac: String = s[dot + 1..].chars().take_while(|c| c.is_ascii_digit()).collect();
    let tail = &s[dot + 1 + frac.len()..];
    if frac.len() <= 9 {
        return s.to_string();
    }
    format!("{}.{}{}", &s[..dot], &frac[..9], tail)
}

fn parse_naive(s: &str) -> Option<NaiveDateTime> {
    const DATETIME: &[&str] = &[
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%d %H:%M",
        "%Y.%m.%d %H:%M:%S%.f",
        "%Y.%m.%d %H:%M",
        "%Y.%m.%dT%H:%M:%S%.f",
        "%Y/%m/%d %H:%M:%S%.f",
        "%Y/%m/%d %H:%M",
        "%m/%d/%Y %I:%M:%S %p",
        "%m/%d/%Y %I:%M %p",
        "%m/%d/%Y %H:%M:%S%.f",
        "%m/%d/%Y %H:%M",
    ];
    const DATE: &[&str] = &["%Y-%m-%d", "%Y.%m.%d", "%Y/%m/%d", "%m/%d/%Y"];
    for f in DATETIME {
        if let Ok(t) = NaiveDateTime::parse_from_str(s, f) {
            return Some(t);
        }
    }
    for f in DATE {
        if let Ok(d) = NaiveDate::parse_from_str(s, f) {
            return d.and_hms_opt(0, 0, 0);
        }
    }
    None
}

/// Parsing entry point for request bodies.
pub struct Body;

impl Body {
    /// Parses a body that must be a JSON object (empty or whitespace-only bodies give an empty object, as
    /// Newtonsoft bound them to default options).
    pub fn parse(bytes: &[u8]) -> Result<Obj, ApiError> {
        if bytes.iter().all(|b| b.is_ascii_whitespace()) {
            return Ok(Obj::default());
        }
        match parse_value(bytes)? {
            Value::Object(map) => Ok(Obj::new(map)),
            Value::Null => Ok(Obj::default()),
            _ => Err(ApiError::bad_request("The request body must be a JSON object.")),
        }
    }
}

/// A JSON object with case-insensitive, typed, lenient accessors.
///
/// Getters return `Ok(None)` for an absent or `null` property and `Err` (400 naming the property, with its path for
/// nested objects: `'explore.showDeleted' must be a boolean`) for a wrongly typed one. Unknown properties are simply
/// never asked for.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Obj {
    map: Map<String, Value>,
    /// Path of this object inside the body (`"explore."`), for error messages.
    prefix: String,
}

impl Obj {
    /// Wraps a parsed JSON object.
    pub fn new(map: Map<String, Value>) -> Obj {
        Obj { map, prefix: String::new() }
    }

    fn child(&self, name: &str, map: Map<String, Value>) -> Obj {
        Obj { map, prefix: format!("{}{}.", self.prefix, name) }
    }

    fn field(&self, name: &str) -> String {
        format!("'{}{}'", self.prefix, name)
    }

    /// The underlying map (original property spellings).
    pub fn as_map(&self) -> &Map<String, Value> {
        &self.map
    }

    /// Property names as sent.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.map.keys().map(String::as_str)
    }

    /// No properties at all.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// The raw value of `name` (exact spelling first, then any case). `Some(Null)` for an explicit `null`.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.map.get(name).or_else(|| self.map.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v))
    }

    /// The value of `name` unless absent or `null`.
    fn present(&self, name: &str) -> Option<&Value> {
        self.get(name).filter(|v| !v.is_null())
    }

    /// Whether `name` is present and not `null`.
    pub fn has(&self, name: &str) -> bool {
        self.present(name).is_some()
    }

    /// A string; numbers and booleans are accepted and given as their JSON text (Newtonsoft converted them).
    pub fn str(&self, name: &str) -> Result<Option<String>, ApiError> {
        match self.present(name) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(Value::Number(n)) => Ok(Some(n.to_string())),
            Some(Value::Bool(b)) => Ok(Some(if *b { "True" } else { "False" }.to_string())),
            Some(_) => Err(ApiError::bad_request(format!("{} must be a string", self.field(name)))),
        }
    }

    /// A string that must be present and not empty.
    pub fn required_str(&self, name: &str) -> Result<String, ApiError> {
        match self.str(name)? {
            Some(s) if !s.is_empty() => Ok(s),
            _ => Err(ApiError::bad_request(format!("{} is required", self.field(name)))),
        }
    }

    /// A boolean: `true`, `"true"`, `"True"`, `1`, `0`, ….
    pub fn bool(&self, name: &str) -> Result<Option<bool>, ApiError> {
        match self.present(name) {
            None => Ok(None),
            Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
            Some(v) => parse_bool(v)
                .map(Some)
                .ok_or_else(|| ApiError::bad_request(format!("{} must be a boolean", self.field(name)))),
        }
    }

    /// A signed integer (numbers, or strings holding one).
    pub fn i64(&self, name: &str) -> Result<Option<i64>, ApiError> {
        let bad = || ApiError::bad_request(format!("{} must be an integer", self.field(name)));
        match self.present(name) {
            None => Ok(None),
            Some(Value::Number(n)) => n.as_i64().map(Some).ok_or_else(bad),
            Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
            Some(Value::String(s)) => s.trim().parse().map(Some).map_err(|_| bad()),
            Some(_) => Err(bad()),
        }
    }

    /// A non-negative integer.
    pub fn u64(&self, name: &str) -> Result<Option<u64>, ApiError> {
        match self.i64(name) {
            Ok(Some(n)) if n < 0 => {
                Err(ApiError::bad_request(format!("{} must be a non-negative integer", self.field(name))))
            }
            Ok(n) => Ok(n.map(|n| n as u64)),
            Err(_) => Err(ApiError::bad_request(format!("{} must be a non-negative integer", self.field(name)))),
        }
    }

    /// An enum value matched case-insensitively, returned in the canonical spelling from `allowed`.
    pub fn enum_of(&self, name: &str, allowed: &[&'static str]) -> Result<Option<&'static str>, ApiError> {
        let bad = |got: &str| {
            ApiError::bad_request(format!(
                "{} must be one of: {} (got '{}')",
                self.field(name),
                allowed.join(", "),
                truncate(got)
            ))
        };
        match self.present(name) {
            None => Ok(None),
            Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
            Some(Value::String(s)) => parse_enum(s, allowed).map(Some).ok_or_else(|| bad(s)),
            Some(v) => Err(bad(&v.to_string())),
        }
    }

    /// A date-time in any format [`parse_datetime`] accepts.
    pub fn datetime(&self, name: &str) -> Result<Option<DateTime<Utc>>, ApiError> {
        match self.present(name) {
            None => Ok(None),
            Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
            Some(Value::String(s)) => parse_datetime(s).map(Some).ok_or_else(|| {
                ApiError::bad_request(format!(
                    "{} is not a valid date and time: '{}' (expected ISO 8601, yyyy.MM.dd HH:mm[:ss] or \
                     yyyy-MM-dd HH:mm:ss[.fff])",
                    self.field(name),
                    truncate(s)
                ))
            }),
            Some(_) => Err(ApiError::bad_request(format!("{} must be a date and time string", self.field(name)))),
        }
    }

    /// A UUID (any case, with or without braces).
    pub fn uuid(&self, name: &str) -> Result<Option<uuid::Uuid>, ApiError> {
        match self.str(name)? {
            None => Ok(None),
            Some(s) if s.trim().is_empty() => Ok(None),
            Some(s) => uuid::Uuid::parse_str(s.trim().trim_start_matches('{').trim_end_matches('}'))
                .map(Some)
                .map_err(|_| ApiError::bad_request(format!("{} must be a GUID", self.field(name)))),
        }
    }

    /// A nested object.
    pub fn object(&self, name: &str) -> Result<Option<Obj>, ApiError> {
        match self.present(name) {
            None => Ok(None),
            Some(Value::Object(m)) => Ok(Some(self.child(name, m.clone()))),
            Some(_) => Err(ApiError::bad_request(format!("{} must be an object", self.field(name)))),
        }
    }

    /// An array of raw values.
    pub fn array(&self, name: &str) -> Result<Option<Vec<Value>>, ApiError> {
        match self.present(name) {
            None => Ok(None),
            Some(Value::Array(a)) => Ok(Some(a.clone())),
            Some(_) => Err(ApiError::bad_request(format!("{} must be an array", self.field(name)))),
        }
    }

    /// An array of objects (`"Documents": [{"id": …}, …]`).
    pub fn objects(&self, name: &str) -> Result<Option<Vec<Obj>>, ApiError> {
        let Some(items) = self.array(name)? else { return Ok(None) };
        items
            .into_iter()
            .enumerate()
            .map(|(i, v)| match v {
                Value::Object(m) => Ok(self.child(&format!("{name}[{i}]"), m)),
                _ => Err(ApiError::bad_request(format!("'{}{}[{}]' must be an object", self.prefix, name, i))),
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some)
    }

    /// The item ids of a bulk body (`"Documents": [{"id": …}, …]`, plain strings accepted too): at least one, each
    /// non-empty; a 400 names the missing list or the position of a bad entry.
    pub fn id_list(&self, name: &str) -> Result<Vec<String>, ApiError> {
        let Some(items) = self.array(name)? else {
            return Err(ApiError::bad_request(format!(
                "{} is required: a list of objects with 'id'",
                self.field(name)
            )));
        };
        if items.is_empty() {
            return Err(ApiError::bad_request(format!("{} must name at least one item", self.field(name))));
        }
        let mut out = Vec::with_capacity(items.len());
        for (i, v) in items.into_iter().enumerate() {
            let id = match v {
                Value::String(s) => Some(s),
                Value::Object(m) => self.child(&format!("{name}[{i}]"), m).str("id")?,
                _ => None,
            };
            match id.filter(|s| !s.trim().is_empty()) {
                Some(id) => out.push(id),
                None => return Err(ApiError::bad_request(format!("'{}{name}[{i}].id' is required", self.prefix))),
            }
        }
        Ok(out)
    }

    /// For each entry of the array `name`, the non-empty values of `keys` in that order (a plain string entry is its
    /// own only key): lookups that accept an entry by id or by name. `Ok(None)` when the array is absent; a 400 names
    /// the position of an entry that is neither a string nor an object, or has none of the keys.
    pub fn key_lists(&self, name: &str, keys: &[&str]) -> Result<Option<Vec<Vec<String>>>, ApiError> {
        let Some(items) = self.array(name)? else { return Ok(None) };
        let mut out = Vec::with_capacity(items.len());
        for (i, v) in items.into_iter().enumerate() {
            let entry = format!("{name}[{i}]");
            let mut found = Vec::new();
            match v {
                Value::String(s) => found.push(s),
                Value::Object(m) => {
                    let o = self.child(&entry, m);
                    for key in keys {
                        found.extend(o.str(key)?);
                    }
                }
                _ => return Err(ApiError::bad_request(format!("{} must be an object", self.field(&entry)))),
            }
            found.retain(|k| !k.trim().is_empty());
            if found.is_empty() {
                return Err(ApiError::bad_request(format!(
                    "{} is required",
                    self.field(&format!("{entry}.{}", keys[0]))
                )));
            }
            out.push(found);
        }
        Ok(Some(out))
    }

    /// The Action-era dispatcher (v2–v5 `POST …/Action`): the body must hold exactly one property, whose name (any
    /// case) selects one of `actions`; its value is an object or a `null` marker (given as an empty [`Obj`]).
    ///
    /// Returns the action's canonical name from `actions` and its options. 400 when the body is empty, names an
    /// unknown action (`Unknown action 'frobnicate'…`), or names more than one.
    pub fn action(&self, actions: &[&'static str]) -> Result<(&'static str, Obj), ApiError> {
        let expected = actions.join(", ");
        if self.map.is_empty() {
            return Err(ApiError::bad_request(format!("The request body must name one action: one of {expected}.")));
        }
        let mut found: Vec<(&'static str, &String, &Value)> = Vec::new();
        for (k, v) in &self.map {
            match parse_enum(k, actions) {
                Some(a) => found.push((a, k, v)),
                None => {
                    return Err(ApiError::bad_request(format!(
                        "Unknown action '{}'; expected one of: {expected}.",
                        truncate(k)
                    )))
                }
            }
        }
        if found.len() > 1 {
            let names: Vec<String> = found.iter().map(|(_, k, _)| format!("'{k}'")).collect();
            return Err(ApiError::bad_request(format!(
                "Only one action is allowed per request; found {}.",
                names.join(", ")
            )));
        }
        let (action, key, value) = found.remove(0);
        match value {
            Value::Null => Ok((action, self.child(key, Map::new()))),
            Value::Object(m) => Ok((action, self.child(key, m.clone()))),
            _ => Err(ApiError::bad_request(format!("'{key}' must be an object or null"))),
        }
    }
}

/// Extractor: the request body as a lenient JSON object (any content type; an empty body gives an empty object).
///
/// A body over the size limit gives 413; malformed JSON 400 with line and column.
#[derive(Debug, Clone)]
pub struct LenientJson(pub Obj);

impl<S: Send + Sync> FromRequest<S> for LenientJson {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = Bytes::from_request(req, state).await.map_err(|r| ApiError::new(r.status(), r.body_text()))?;
        Ok(LenientJson(Body::parse(&bytes)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use serde_json::json;

    fn obj(s: &str) -> Obj {
        Body::parse(s.as_bytes()).unwrap()
    }

    #[test]
    fn strict_json_matches_serde() {
        for s in [
            r#"{"a":1,"b":[true,false,null],"c":{"d":"e\n\u00e9\ud83d\ude00"},"f":-1.5e3,"g":18446744073709551615}"#,
            r#"[]"#,
            r#""x""#,
            r#"0"#,
            r#"{"":""}"#,
            r#"[1, 2.5, -0, 1e-3]"#,
        ] {
            assert_eq!(parse_value(s.as_bytes()).unwrap(), serde_json::from_str::<Value>(s).unwrap(), "{s}");
        }
    }

    #[test]
    fn leniency() {
        assert_eq!(parse_value(b"{ \"a\": 1, }").unwrap(), json!({"a": 1}));
        assert_eq!(parse_value(b"[ {\"id\":1}, ]").unwrap(), json!([{"id": 1}]));
        assert_eq!(parse_value(b"{a: 'x', // c\n /* d */ \"b\": True}").unwrap(), json!({"a": "x", "b": true}));
        assert_eq!(parse_value("\u{FEFF}{}".as_bytes()).unwrap(), json!({}));
        assert_eq!(parse_value("{ “save” : null }".as_bytes()).unwrap(), json!({"save": null}));
        assert_eq!(parse_value("{\"a\":\"It’s\"}".as_bytes()).unwrap(), json!({"a": "It’s"}));
        assert_eq!(parse_value(b"\"\\ud800x\"").unwrap(), json!("\u{FFFD}x"));
    }

    #[test]
    fn syntax_errors_have_positions() {
        let e = parse_value(b"{\n  \"a\": 1\n  \"b\": 2\n}").unwrap_err();
        assert_eq!((e.line, e.column), (3, 3), "{e}");
        assert!(e.to_string().contains("line 3, column 3"), "{e}");
        let e = parse_value(b"{\"a\": tru}").unwrap_err();
        assert_eq!((e.line, e.column), (1, 7));
        for bad in [
            &b""[..],
            b"{",
            b"{\"a\"",
            b"{\"a\":}",
            b"[1 2]",
            b"\"abc",
            b"{} x",
            b"01x",
            b"-",
            b"1.",
            b"1e",
            b"\"\\q\"",
            b"\"\\u12\"",
            b"/* x",
            b"{,}",
            b"[,]",
            b"\"\xff\"",
            b"1e999",
        ] {
            assert!(parse_value(bad).is_err(), "{:?}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn depth_is_bounded() {
        let deep = "[".repeat(100_000);
        let e = parse_value(deep.as_bytes()).unwrap_err();
        assert!(e.what.contains("nesting"), "{e}");
        let ok = format!("{}{}", "[".repeat(MAX_DEPTH - 1), "]".repeat(MAX_DEPTH - 1));
        assert!(parse_value(ok.as_bytes()).is_ok());
    }

    #[test]
    fn case_insensitive_typed_getters() {
        let o =
            obj(r#"{"ShowDeleted":"True","showAllVersions":"false","Type":"veod","n":"42","DocumentVersion":"last",
                       "flag":1,"empty":"","nul":null}"#);
        assert_eq!(o.bool("showDeleted").unwrap(), Some(true));
        assert_eq!(o.bool("SHOWALLVERSIONS").unwrap(), Some(false));
        assert_eq!(o.bool("flag").unwrap(), Some(true));
        assert_eq!(o.bool("nul").unwrap(), None);
        assert_eq!(o.bool("empty").unwrap(), None);
        assert_eq!(o.bool("missing").unwrap(), None);
        assert_eq!(o.enum_of("type", &["Vex", "Veod", "Vesp", "Vet"]).unwrap(), Some("Veod"));
        assert_eq!(o.enum_of("documentVersion", &["All", "Last"]).unwrap(), Some("Last"));
        assert_eq!(o.i64("N").unwrap(), Some(42));
        assert_eq!(o.str("n").unwrap().as_deref(), Some("42"));
        assert_eq!(o.str("flag").unwrap().as_deref(), Some("1"));
        assert!(!o.has("nul") && o.get("nul") == Some(&Value::Null));
    }

    #[test]
    fn typed_errors_name_the_field() {
        let o = obj(r#"{"showDeleted":"yes","type":"vexx","n":"x","o":[],"explore":{"showAllVersions":"maybe"}}"#);
        assert_eq!(o.bool("showDeleted").unwrap_err().message, "'showDeleted' must be a boolean");
        let e = o.enum_of("type", &["Vex", "Veod"]).unwrap_err();
        assert_eq!(e.message, "'type' must be one of: Vex, Veod (got 'vexx')");
        assert_eq!(e.status, axum::http::StatusCode::BAD_REQUEST);
        assert_eq!(o.i64("n").unwrap_err().message, "'n' must be an integer");
        assert_eq!(o.object("o").unwrap_err().message, "'o' must be an object");
        assert_eq!(o.required_str("missing").unwrap_err().message, "'missing' is required");
        let ex = o.object("explore").unwrap().unwrap();
        assert_eq!(ex.bool("showallversions").unwrap_err().message, "'explore.showallversions' must be a boolean");
        assert!(o.u64("n").is_err());
        let neg = obj(r#"{"n":-1}"#);
        assert_eq!(neg.u64("n").unwrap_err().message, "'n' must be a non-negative integer");
    }

    #[test]
    fn actions() {
        const A: &[&str] = &["explore", "stop", "save", "restoreToOriginalLocation", "sendTo", "copyTo"];
        let (name, o) = obj(r#"{"save":null}"#).action(A).unwrap();
        assert_eq!(name, "save");
        assert!(o.is_empty());
        let (name, o) =
            obj(r#"{ "restoretoOriginallocation": {"userName": "j", "userPassword": "p" } }"#).action(A).unwrap();
        assert_eq!(name, "restoreToOriginalLocation");
        assert_eq!(o.str("username").unwrap().as_deref(), Some("j"));
        assert_eq!(o.bool("x").unwrap(), None);
        let e = obj(r#"{"frobnicate":{}}"#).action(A).unwrap_err();
        assert!(e.message.contains("Unknown action 'frobnicate'"), "{}", e.message);
        let e = obj(r#"{"save":null,"stop":null}"#).action(A).unwrap_err();
        assert!(e.message.contains("Only one action"), "{}", e.message);
        let e = obj("").action(A).unwrap_err();
        assert!(e.message.contains("must name one action"), "{}", e.message);
        let e = obj(r#"{"save":"true"}"#).action(A).unwrap_err();
        assert_eq!(e.message, "'save' must be an object or null");
        let (_, o) = obj(r#"{"explore":{"showDeleted":"x"}}"#).action(A).unwrap();
        assert_eq!(o.bool("showDeleted").unwrap_err().message, "'explore.showDeleted' must be a boolean");
    }

    #[test]
    fn body_must_be_object() {
        assert!(Body::parse(b"  ").unwrap().is_empty());
        assert!(Body::parse(b"null").unwrap().is_empty());
        assert_eq!(Body::parse(b"[1]").unwrap_err().message, "The request body must be a JSON object.");
        let e = Body::parse(b"{\"a\":").unwrap_err();
        assert!(e.message.contains("line 1, column 6"), "{}", e.message);
    }

    #[test]
    fn objects_arrays_and_uuids() {
        let o = obj(r#"{"Documents":[{"Id":"a"},{"id":"b"},],"bad":[1],"g":"{6F9619FF-8B86-D011-B42D-00C04FC964FF}"}"#);
        let docs = o.objects("documents").unwrap().unwrap();
        assert_eq!(docs.len(), 2);
        assert_eq!(docs[1].str("ID").unwrap().as_deref(), Some("b"));
        assert_eq!(o.objects("bad").unwrap_err().message, "'bad[0]' must be an object");
        assert!(o.uuid("g").unwrap().is_some());
        assert_eq!(o.uuid("documents").unwrap_err().message, "'documents' must be a string");
    }

    fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, mo, d, h, mi, s).unwrap()
    }

    #[test]
    fn datetimes() {
        let cases = [
            ("2017.06.26 22:07:39", utc(2017, 6, 26, 22, 7, 39)),
            ("2021.04.27 10:49", utc(2021, 4, 27, 10, 49, 0)),
            ("2021.04.27", utc(2021, 4, 27, 0, 0, 0)),
            ("2019-04-12T10:54:40Z", utc(2019, 4, 12, 10, 54, 40)),
            ("2024-05-01T00:00:00+02:00", utc(2024, 4, 30, 22, 0, 0)),
            ("2024-05-01T00:00:00-0130", utc(2024, 5, 1, 1, 30, 0)),
            ("2024-05-01T10:00Z", utc(2024, 5, 1, 10, 0, 0)),
            ("2017-04-09T09:12:59", utc(2017, 4, 9, 9, 12, 59)),
            ("2020-01-02 03:04:05", utc(2020, 1, 2, 3, 4, 5)),
            ("2020-01-02 03:04", utc(2020, 1, 2, 3, 4, 0)),
            ("2024-05-01", utc(2024, 5, 1, 0, 0, 0)),
            ("4/27/2021 10:49:00 AM", utc(2021, 4, 27, 10, 49, 0)),
            ("4/27/2021 10:49:00 PM", utc(2021, 4, 27, 22, 49, 0)),
            ("04/27/2021 22:49", utc(2021, 4, 27, 22, 49, 0)),
            ("2021/04/27 10:49", utc(2021, 4, 27, 10, 49, 0)),
            ("Mon, 04 Sep 2017 04:45:57 GMT", utc(2017, 9, 4, 4, 45, 57)),
            ("2017-06-26 22:07:39 UTC", utc(2017, 6, 26, 22, 7, 39)),
            ("  2021.04.27 10:49  ", utc(2021, 4, 27, 10, 49, 0)),
        ];
        for (s, want) in cases {
            assert_eq!(parse_datetime(s), Some(want), "{s}");
        }
        let frac = parse_datetime("2019-04-12T10:54:40.2794046Z").unwrap();
        assert_eq!(frac.timestamp_subsec_nanos(), 279_404_600);
        let frac = parse_datetime("2020-01-02 03:04:05.123").unwrap();
        assert_eq!(frac.timestamp_subsec_millis(), 123);
        let long = parse_datetime("2017-05-30T13:57:28.04226791234+03:00").unwrap();
        assert_eq!(long, utc(2017, 5, 30, 10, 57, 28) + chrono::Duration::nanoseconds(42_267_912));
        for bad in [
            "",
            "yesterday",
            "2021-13-01",
            "2021.02.30 10:00",
            "2021-01-01T25:00:00Z",
            "2021-01-01T10:00:00+25:00",
            "2021-01-01T10:00:00+1",
            "12345",
            "2021-01-01T10:00:00+:0",
        ] {
            assert_eq!(parse_datetime(bad), None, "{bad}");
        }
        let o = obj(r#"{"DateTime":"2021.04.27 10:49","bad":"x"}"#);
        assert_eq!(o.datetime("datetime").unwrap(), Some(utc(2021, 4, 27, 10, 49, 0)));
        assert!(o.datetime("bad").unwrap_err().message.starts_with("'bad' is not a valid date and time"));
    }

    /// A small self-contained fuzz loop (xorshift): random JSON-ish inputs never panic, and every input serde_json
    /// accepts parses to the same value.
    #[test]
    fn random_inputs_never_panic_and_agree_with_serde() {
        const TOKENS: &[&str] = &[
            "{",
            "}",
            "[",
            "]",
            ",",
            ":",
            "\"a\"",
            "\"B\"",
            "'c'",
            "1",
            "-2.5e3",
            "true",
            "True",
            "null",
            " ",
            "\n",
            "\"\\u00e9\"",
            "\"\\ud83d\"",
            "//x\n",
            "/*y*/",
            "“",
            "”",
            "\u{FEFF}",
            "\\",
            "\"",
            "é",
            "\u{0}",
            "0x1",
            "-",
            ".",
            "e",
            "\u{A0}",
        ];
        let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let mut agreed = 0;
        for _ in 0..20_000 {
            let n = (next() % 24) as usize;
            let mut s = String::new();
            for _ in 0..n {
                s.push_str(TOKENS[(next() % TOKENS.len() as u64) as usize]);
            }
            let ours = parse_value(s.as_bytes());
            if let Ok(theirs) = serde_json::from_str::<Value>(&s) {
                assert_eq!(ours.as_ref().ok(), Some(&theirs), "{s:?}");
                agreed += 1;
            }
            let _ = Body::parse(s.as_bytes());
            // Raw byte mutations too.
            let mut bytes = s.into_bytes();
            if !bytes.is_empty() {
                let i = (next() % bytes.len() as u64) as usize;
                bytes[i] = next() as u8;
                let _ = parse_value(&bytes);
            }
        }
        assert!(agreed > 100, "the generator should produce valid JSON sometimes ({agreed})");
    }

    #[test]
    fn bulk_id_lists() {
        let o = Body::parse(br#"{"Documents":[{"Id":"a"},"b",{"id":"c"}]}"#).unwrap();
        assert_eq!(o.id_list("documents").unwrap(), vec!["a", "b", "c"]);
        let o = Body::parse(br#"{"documents":[{"id":"a"},{"x":1}]}"#).unwrap();
        assert!(o.id_list("documents").unwrap_err().message.contains("'documents[1].id' is required"));
        let o = Body::parse(br#"{"documents":[{"id":"a"}, 7]}"#).unwrap();
        assert!(o.id_list("documents").unwrap_err().message.contains("'documents[1].id'"));
        let o = Body::parse(br#"{"documents":[]}"#).unwrap();
        assert!(o.id_list("documents").unwrap_err().message.contains("at least one"));
        let o = Body::parse(br#"{}"#).unwrap();
        assert!(o.id_list("documents").unwrap_err().message.contains("'documents' is required"));
        let o = Body::parse(br#"{"documents":"a"}"#).unwrap();
        assert!(o.id_list("documents").unwrap_err().message.contains("must be an array"));
    }

    #[test]
    fn key_lists_by_id_then_name() {
        let o = Body::parse(br#"{"Attachments":[{"Id":"6162","Name":"a.txt"},{"name":"c.txt"},"d.txt"]}"#).unwrap();
        let keys = o.key_lists("attachments", &["id", "name"]).unwrap().unwrap();
        assert_eq!(keys, vec![vec!["6162", "a.txt"], vec!["c.txt"], vec!["d.txt"]]);
        assert_eq!(Body::parse(b"{}").unwrap().key_lists("attachments", &["id"]).unwrap(), None);
        let o = Body::parse(br#"{"attachments":[1]}"#).unwrap();
        assert!(o.key_lists("attachments", &["id"]).unwrap_err().message.contains("'attachments[0]' must be"));
        let o = Body::parse(br#"{"attachments":[{"size":3}]}"#).unwrap();
        assert!(o.key_lists("attachments", &["id"]).unwrap_err().message.contains("'attachments[0].id' is required"));
    }
}
