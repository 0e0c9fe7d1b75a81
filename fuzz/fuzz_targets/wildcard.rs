//! IAM wildcard and ARN matching: `<pattern> NUL <value>`. The matcher must agree with a
//! dynamic-programming reference on short inputs, and its counted work must stay within
//! 4·(pattern + value + 8)·(k + 1), where k is the longest star-free run of the pattern holding a `?`
//! (1 if none): linear for patterns like `a*a*a*…` and `*?*?*`, never worse than the run length
//! times the input.

#![no_main]

use iamlet_engine::fuzzing::{
    arn_pattern_matches, reference_matches, take_steps, wildcard_matches, work_bound,
};
use iamlet_engine::Arn;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let split = data.iter().position(|&b| b == 0).unwrap_or(data.len());
    let (pattern, value) = data.split_at(split);
    let pattern = String::from_utf8_lossy(pattern);
    let value = String::from_utf8_lossy(value.get(1..).unwrap_or_default());

    take_steps();
    let matched = wildcard_matches(&pattern, &value);
    let steps = take_steps();
    assert!(
        steps <= work_bound(&pattern, &value),
        "{steps} steps for a pattern of {} bytes and a value of {}",
        pattern.len(),
        value.len()
    );
    if pattern.chars().count() <= 64 && value.chars().count() <= 256 {
        assert_eq!(
            matched,
            reference_matches(&pattern, &value),
            "{pattern:?} on {value:?}"
        );
    }

    take_steps();
    let arn_matched = arn_pattern_matches(&pattern, &value);
    let steps = take_steps();
    assert!(
        steps <= work_bound(&pattern, &value),
        "{steps} steps as an ARN pattern"
    );
    // Without colons an ARN pattern is one wildcard pattern over the whole text.
    if !pattern.contains(':') {
        assert_eq!(arn_matched, matched);
    }

    if let Some(arn) = Arn::parse(&value) {
        let again = format!(
            "arn:{}:{}:{}:{}:{}",
            arn.partition, arn.service, arn.region, arn.account, arn.resource
        );
        assert_eq!(again, *value);
    }
});
