//! `Date*`: W3C/ISO 8601 date-times (`2020-01-01T00:00:00Z`, with or without fractional seconds,
//! offsets, or a time at all) and epoch seconds (`1577836800`).

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};

pub(crate) fn parse(text: &str) -> Option<DateTime<Utc>> {
    let t = text.trim();
    if !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()) && t.len() <= 12 {
        let secs: i64 = t.parse().ok()?;
        return DateTime::from_timestamp(secs, 0);
    }
    if let Ok(d) = DateTime::parse_from_rfc3339(t) {
        return Some(d.with_timezone(&Utc));
    }
    for fmt in [
        "%Y-%m-%dT%H:%M:%S%.f%#z",
        "%Y-%m-%dT%H:%M%#z",
        "%Y%m%dT%H%M%S%#z",
    ] {
        if let Ok(d) = DateTime::parse_from_str(t, fmt) {
            return Some(d.with_timezone(&Utc));
        }
    }
    let no_z = t.strip_suffix('Z').unwrap_or(t);
    for fmt in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%dT%H:%M", "%Y%m%dT%H%M%S"] {
        if let Ok(d) = NaiveDateTime::parse_from_str(no_z, fmt) {
            return Some(d.and_utc());
        }
    }
    for fmt in ["%Y-%m-%d", "%Y%m%d"] {
        if let Ok(d) = NaiveDate::parse_from_str(no_z, fmt) {
            return d.and_hms_opt(0, 0, 0).map(|d| d.and_utc());
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms() {
        let base = parse("2020-01-01T00:00:00Z").unwrap();
        assert_eq!(parse("1577836800"), Some(base));
        assert_eq!(parse("2020-01-01"), Some(base));
        assert_eq!(parse("2020-01-01T00:00:00.000Z"), Some(base));
        assert_eq!(parse("2020-01-01T01:00:00+01:00"), Some(base));
        assert_eq!(parse("2020-01-01T00:00Z"), Some(base));
        assert_eq!(parse("2020-01-01T00:00:00"), Some(base));
        assert_eq!(parse("20200101T000000Z"), Some(base));
        assert!(parse("yesterday").is_none());
        assert!(parse("2020-13-01").is_none());
    }
}
