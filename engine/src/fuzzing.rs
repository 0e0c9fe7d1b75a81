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

/// The most steps the wildcard matcher may take for a pattern and a value (the bound the tests
/// assert, with room for an ARN pattern's per-segment costs).
pub fn work_bound(pattern: &str, value: &str) -> u64 {
    crate::pattern::work::bound(pattern, value, 8)
}

/// The reference matcher the real one must agree with: dynamic programming over characters.
pub fn reference_matches(pattern: &str, value: &str) -> bool {
    crate::pattern::work::reference(pattern, value)
}
