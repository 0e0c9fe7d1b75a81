//! Trace correlation: the checked request's W3C trace context (`traceparent`, `tracestate`) and its
//! `x-request-id`, as the decision log and the diagnostic span record them. Each is taken only when
//! well-formed and short: they are client input, and a log line must not grow with them.

use std::collections::HashMap;

/// The longest `x-request-id` (and `tracestate`) kept.
const MAX_REQUEST_ID: usize = 128;
const MAX_TRACESTATE: usize = 512;

/// What correlates a check with the request's trace.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Correlation {
    /// `x-request-id` (Envoy's, or the proxy's).
    pub request_id: Option<String>,
    /// A well-formed W3C `traceparent`.
    pub traceparent: Option<String>,
    /// The `tracestate` that came with it.
    pub tracestate: Option<String>,
}

fn printable(s: &str) -> bool {
    s.bytes().all(|b| (0x20..0x7f).contains(&b))
}

/// A `traceparent` as W3C Trace Context level 1 writes it: `version-traceid-parentid-flags`, lower
/// -case hexadecimal, version not `ff`, ids not all zeros; a later version may append fields.
fn traceparent(v: &str) -> Option<&str> {
    let v = v.trim();
    let parts: Vec<&str> = v.split('-').collect();
    let hex = |s: &str, n: usize| {
        s.len() == n
            && s.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    };
    let (version, trace, parent, flags) =
        (parts.first()?, parts.get(1)?, parts.get(2)?, parts.get(3)?);
    let ok = hex(version, 2)
        && *version != "ff"
        && hex(trace, 32)
        && trace.bytes().any(|b| b != b'0')
        && hex(parent, 16)
        && parent.bytes().any(|b| b != b'0')
        && hex(flags, 2)
        && (parts.len() == 4 || (*version != "00" && v.len() <= 256));
    ok.then_some(v)
}

impl Correlation {
    /// Reads a request's headers (lower-case names).
    pub fn of(headers: &HashMap<String, String>) -> Correlation {
        let request_id = headers
            .get("x-request-id")
            .map(|s| s.trim())
            .filter(|s| !s.is_empty() && s.len() <= MAX_REQUEST_ID && printable(s))
            .map(str::to_owned);
        let traceparent = headers
            .get("traceparent")
            .and_then(|t| traceparent(t))
            .map(str::to_owned);
        let tracestate = traceparent
            .as_ref()
            .and(headers.get("tracestate"))
            .map(|s| s.trim())
            .filter(|s| !s.is_empty() && s.len() <= MAX_TRACESTATE && printable(s))
            .map(str::to_owned);
        Correlation {
            request_id,
            traceparent,
            tracestate,
        }
    }

    /// The trace id of the `traceparent`.
    pub fn trace_id(&self) -> Option<&str> {
        self.traceparent.as_deref().and_then(|t| t.get(3..35))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn of(pairs: &[(&str, &str)]) -> Correlation {
        Correlation::of(
            &pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        )
    }

    #[test]
    fn well_formed_trace_context_is_kept() {
        let tp = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        let c = of(&[
            ("traceparent", tp),
            ("tracestate", "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE"),
            ("x-request-id", "abc-123"),
        ]);
        assert_eq!(c.traceparent.as_deref(), Some(tp));
        assert_eq!(c.trace_id(), Some("4bf92f3577b34da6a3ce929d0e0e4736"));
        assert_eq!(
            c.tracestate.as_deref(),
            Some("rojo=00f067aa0ba902b7,congo=t61rcWkgMzE")
        );
        assert_eq!(c.request_id.as_deref(), Some("abc-123"));
        // A later version may carry more fields.
        assert!(of(&[("traceparent", &format!("01{}-extra", &tp[2..]))])
            .traceparent
            .is_some());
    }

    #[test]
    fn malformed_or_oversized_values_are_left_out() {
        for bad in [
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01,00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        ] {
            let c = of(&[("traceparent", bad), ("tracestate", "a=b")]);
            assert_eq!(c.traceparent, None, "{bad}");
            assert_eq!(c.tracestate, None, "a tracestate without its traceparent");
        }
        let long = "x".repeat(129);
        assert_eq!(of(&[("x-request-id", &long)]).request_id, None);
        assert_eq!(of(&[("x-request-id", "a\u{1}b")]).request_id, None);
    }
}
