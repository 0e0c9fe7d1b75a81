//! Entry points for the fuzz targets in `fuzz/`: the internal matchers, and the count of the work
//! they do. Built only with the `fuzzing` feature; not a stable API.

/// Whether the IAM wildcard pattern (`*`, `?`) matches all of `input`, case-sensitively.
pub fn wildcard_matches(pattern: &str, input: &str) -> bool {
    crate::pattern::Pattern::new(pattern).matches(input)
}

/// Whether a `Resource` pattern matches a resource, ARN segment by segment.
pub fn arn_pattern_matches(pattern: &str, resource: &str) -> bool {
    crate::arn::ArnPattern::new(pattern).matches(resource)
}

/// The steps the wildcard matcher took on this thread since the last call (bytes and tokens
/// examined), and resets the count.
pub fn take_steps() -> u64 {
    crate::pattern::work::take()
}
