//! The tokenizer: lenient JSON bytes to a `serde_json::Value`, with line/column syntax errors (fuzzed: `fuzz/`).
//!
//! [`parse_value`] is a pure function of bytes (no allocation beyond the result, recursion bounded by [`MAX_DEPTH`]).

use serde_json::{Map, Number, Value};

use super::scalar::truncate;
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::edge::lenient::Body;
    use serde_json::json;

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
}
