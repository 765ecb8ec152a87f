//! Lenient date-times: every format clients of the vendor's API send.

use std::fmt;

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use serde::de::{self, Deserializer, Visitor};

use super::de::DATETIME_TOKEN;
use super::scalar::truncate;

/// A required lenient date-time: `#[serde(deserialize_with = "lenient::datetime::deserialize")]`.
pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<DateTime<Utc>, D::Error> {
    option(d)?.ok_or_else(|| de::Error::custom("is required"))
}

/// An optional lenient date-time, as [`super::Obj::datetime`] read it (blank = absent):
/// `#[serde(default, deserialize_with = "lenient::datetime::option")]`.
pub fn option<'de, D: Deserializer<'de>>(d: D) -> Result<Option<DateTime<Utc>>, D::Error> {
    d.deserialize_newtype_struct(DATETIME_TOKEN, LenientDateTime)
}

struct LenientDateTime;

impl<'de> Visitor<'de> for LenientDateTime {
    type Value = Option<DateTime<Utc>>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a date and time string")
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }

    fn visit_newtype_struct<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }

    fn visit_str<E: de::Error>(self, s: &str) -> Result<Self::Value, E> {
        if s.trim().is_empty() {
            return Ok(None);
        }
        parse_datetime(s).map(Some).ok_or_else(|| {
            E::custom(format_args!(
                "is not a valid date and time: '{}' (expected ISO 8601, yyyy.MM.dd HH:mm[:ss] or yyyy-MM-dd \
                 HH:mm:ss[.fff])",
                truncate(s)
            ))
        })
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

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
    }
}
