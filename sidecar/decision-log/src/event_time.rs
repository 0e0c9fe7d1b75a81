//! A record's `eventTime`, RFC 3339 in UTC to the microsecond (`2026-12-07T01:36:12.123456Z`), as
//! chrono's `to_rfc3339_opts(Micros, true)` writes it. Every check writes one: the calendar part
//! changes once a second, so each thread formats it once a second and appends the microseconds.

use chrono::{DateTime, SecondsFormat, Utc};
use std::cell::RefCell;
use std::fmt::Write;

/// `now` as `YYYY-MM-DDTHH:MM:SS.ffffffZ`.
pub(crate) fn format(now: DateTime<Utc>) -> String {
    thread_local! {
        /// The last second formatted on this thread, and its text up to the seconds.
        static LAST: RefCell<(i64, String)> = const { RefCell::new((i64::MIN, String::new())) };
    }
    let micros = now.timestamp_subsec_micros();
    // A leap second's fraction runs past a million: chrono writes it its own way.
    if micros >= 1_000_000 {
        return now.to_rfc3339_opts(SecondsFormat::Micros, true);
    }
    let secs = now.timestamp();
    LAST.with(|last| {
        let mut last = last.borrow_mut();
        if last.0 != secs {
            last.1 = now.format("%Y-%m-%dT%H:%M:%S").to_string();
            last.0 = secs;
        }
        let mut out = String::with_capacity(last.1.len() + 8);
        out.push_str(&last.1);
        // Writing to a String cannot fail.
        let _ = write!(out, ".{micros:06}Z");
        out
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Timelike};

    #[test]
    fn formats_as_chrono_does() {
        let base = Utc.with_ymd_and_hms(2026, 12, 31, 23, 59, 58).unwrap();
        // Within a second, across seconds, a minute, a year; fractions with leading and trailing
        // zeros; years chrono writes with a sign or more digits.
        let times = (0..3_000_000_i64)
            .step_by(123_457)
            .map(|us| base + chrono::Duration::microseconds(us))
            .chain([
                Utc.timestamp_opt(0, 0).unwrap(),
                Utc.timestamp_opt(1, 1_000).unwrap(),
                Utc.timestamp_opt(1_700_000_000, 999_999_000).unwrap(),
                Utc.with_ymd_and_hms(12_345, 1, 1, 0, 0, 0).unwrap(),
                Utc.with_ymd_and_hms(-1, 1, 1, 0, 0, 0).unwrap(),
            ]);
        for t in times {
            assert_eq!(
                format(t),
                t.to_rfc3339_opts(SecondsFormat::Micros, true),
                "{t:?}"
            );
        }
    }

    #[test]
    fn a_leap_second_is_chrono_s() {
        let leap = Utc
            .with_ymd_and_hms(2016, 12, 31, 23, 59, 59)
            .unwrap()
            .with_nanosecond(1_500_000_000)
            .unwrap();
        assert_eq!(
            format(leap),
            leap.to_rfc3339_opts(SecondsFormat::Micros, true)
        );
    }
}
