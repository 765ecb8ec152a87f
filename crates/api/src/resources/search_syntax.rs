//! The `query` of a search body (`RESTVESPSearchOptions`), parsed into catalog terms.
//!
//! The vendor points at "Appendix A. Item Search Parameters" of its user guide (`filename:default`, values with
//! spaces in double quotes, `\` escaping). The subset served here:
//!
//! | term | matches |
//! |---|---|
//! | `word` or `"a phrase"` | the name contains it (case-insensitive) |
//! | `name:x`, `filename:x` | the same |
//! | `author:x` | `createdBy` contains it |
//! | `modifiedby:x` | `modifiedBy` contains it |
//! | `ext:pdf`, `type:pdf` | files named `*.pdf` |
//! | `size:1024`, `size:>1000`, `size:<=5000` (`=`, `<`, `<=`, `>`, `>=`) | files of that size in bytes |
//!
//! Every term must hold (a bare `AND` between terms is accepted and changes nothing); property names are
//! case-insensitive; inside quotes `\"` is a quote and `\\` a backslash. Refused with 400 naming `query`: an empty
//! query, an unknown property, a property without value, an unterminated quote, a size that is not a number, and
//! the `OR` / `NOT` operators (not supported).

use repo::catalog::{SearchTerm, SizeOp};

use crate::edge::error::ApiError;

/// The properties a term may name, for error messages.
const PROPERTIES: &str = "name, filename, author, modifiedby, ext, type, size";

fn bad(message: impl std::fmt::Display) -> ApiError {
    ApiError::bad_request(format!("'query': {message}"))
}

/// One lexical token: an optional `property:` and its (unquoted) value.
#[derive(Debug, PartialEq)]
struct Token {
    property: Option<String>,
    value: String,
    quoted: bool,
}

/// Reads a quoted value after the opening quote; returns it and the rest of the input.
fn quoted(input: &str) -> Result<(String, &str), ApiError> {
    let mut out = String::new();
    let mut chars = input.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return Ok((out, &input[i + 1..])),
            '\\' => match chars.next() {
                Some((_, e)) => out.push(e),
                None => break,
            },
            c => out.push(c),
        }
    }
    Err(bad("unterminated quote"))
}

fn tokens(query: &str) -> Result<Vec<Token>, ApiError> {
    let mut out = Vec::new();
    let mut rest = query.trim_start();
    while !rest.is_empty() {
        // `property:` — letters only, so `10:30` stays a plain word (quote a name such as `"Re:x"`).
        let colon = rest.find(':').filter(|&i| {
            i > 0 && rest[..i].chars().all(|c| c.is_ascii_alphabetic()) && !rest[..i].contains(char::is_whitespace)
        });
        let property = colon.map(|i| rest[..i].to_ascii_lowercase());
        if let Some(i) = colon {
            rest = &rest[i + 1..];
        }
        let (value, quoted_value, after) = if let Some(q) = rest.strip_prefix('"') {
            let (v, after) = quoted(q)?;
            (v, true, after)
        } else {
            let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
            (rest[..end].to_string(), false, &rest[end..])
        };
        if let Some(p) = &property {
            if value.trim().is_empty() {
                return Err(bad(format!("property '{p}' needs a value")));
            }
        }
        out.push(Token { property, value, quoted: quoted_value });
        rest = after.trim_start();
    }
    Ok(out)
}

fn size_term(value: &str) -> Result<SearchTerm, ApiError> {
    let v = value.trim();
    let (op, digits) = if let Some(d) = v.strip_prefix(">=") {
        (SizeOp::Ge, d)
    } else if let Some(d) = v.strip_prefix("<=") {
        (SizeOp::Le, d)
    } else if let Some(d) = v.strip_prefix('>') {
        (SizeOp::Gt, d)
    } else if let Some(d) = v.strip_prefix('<') {
        (SizeOp::Lt, d)
    } else if let Some(d) = v.strip_prefix('=') {
        (SizeOp::Eq, d)
    } else {
        (SizeOp::Eq, v)
    };
    let n: i64 = digits.trim().parse().ok().filter(|n| *n >= 0).ok_or_else(|| {
        bad(format!("size must be a number of bytes, optionally after =, <, <=, > or >= (got '{v}')"))
    })?;
    Ok(SearchTerm::Size(op, n))
}

/// Parses a search query (see the [module docs](self)).
pub fn parse(query: &str) -> Result<Vec<SearchTerm>, ApiError> {
    let mut terms = Vec::new();
    for t in tokens(query)? {
        let term = match t.property.as_deref() {
            None if !t.quoted && t.value == "AND" => continue,
            None if !t.quoted && (t.value == "OR" || t.value == "NOT") => {
                return Err(bad(format!("the {} operator is not supported; every term must match", t.value)))
            }
            None | Some("name") | Some("filename") => SearchTerm::Name(t.value),
            Some("author") => SearchTerm::CreatedBy(t.value),
            Some("modifiedby") => SearchTerm::ModifiedBy(t.value),
            Some("ext") | Some("type") => SearchTerm::Extension(t.value.trim().to_string()),
            Some("size") => size_term(&t.value)?,
            Some(p) => return Err(bad(format!("unknown property '{p}' (supported: {PROPERTIES})"))),
        };
        terms.push(term);
    }
    if terms.is_empty() {
        return Err(bad("is empty; give a name or a property term such as name:report"));
    }
    Ok(terms)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(s: &str) -> SearchTerm {
        SearchTerm::Name(s.into())
    }

    #[test]
    fn words_phrases_and_properties() {
        assert_eq!(parse("  budget  2024 ").unwrap(), vec![name("budget"), name("2024")]);
        assert_eq!(parse(r#""quarterly report""#).unwrap(), vec![name("quarterly report")]);
        assert_eq!(
            parse(r#"Name:"quarterly report" AND author:adele MODIFIEDBY:"Bob S" ext:.PDF type:docx"#).unwrap(),
            vec![
                name("quarterly report"),
                SearchTerm::CreatedBy("adele".into()),
                SearchTerm::ModifiedBy("Bob S".into()),
                SearchTerm::Extension(".PDF".into()),
                SearchTerm::Extension("docx".into()),
            ]
        );
        assert_eq!(parse("filename:default").unwrap(), vec![name("default")]);
        assert_eq!(parse(r#"name:"say \"hi\" \\ bye""#).unwrap(), vec![name(r#"say "hi" \ bye"#)]);
        // Colons in plain words are not properties.
        assert!(parse("10:30 a:b:c").unwrap_err().message.contains("unknown property 'a'"));
        assert_eq!(parse("10:30 x").unwrap(), vec![name("10:30"), name("x")]);
        assert_eq!(parse(r#""re:port""#).unwrap(), vec![name("re:port")]);
    }

    #[test]
    fn sizes() {
        assert_eq!(parse("size:1024").unwrap(), vec![SearchTerm::Size(SizeOp::Eq, 1024)]);
        assert_eq!(
            parse("size:>=10 size:<5").unwrap(),
            vec![SearchTerm::Size(SizeOp::Ge, 10), SearchTerm::Size(SizeOp::Lt, 5)]
        );
        assert_eq!(parse(r#"size:"> 7""#).unwrap(), vec![SearchTerm::Size(SizeOp::Gt, 7)]);
        assert!(parse("size:big").unwrap_err().message.starts_with("'query': size must be a number"));
        assert!(parse("size:-1").is_err());
    }

    #[test]
    fn errors_name_the_query_field() {
        for (q, what) in [
            ("", "is empty"),
            ("   AND ", "is empty"),
            ("colour:red", "unknown property 'colour'"),
            ("name:", "needs a value"),
            ("author:\"\"", "needs a value"),
            ("name:\"open", "unterminated quote"),
            ("a OR b", "OR operator is not supported"),
            ("NOT a", "NOT operator"),
        ] {
            let e = parse(q).unwrap_err();
            assert_eq!(e.status, axum::http::StatusCode::BAD_REQUEST, "{q}");
            assert!(e.message.starts_with("'query': ") && e.message.contains(what), "{q}: {}", e.message);
        }
    }
}
