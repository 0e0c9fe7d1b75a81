//! IAM wildcard and ARN matching: `<pattern> NUL <value>`. The matcher must agree with a
//! dynamic-programming reference on short inputs, and its counted work must stay within
//! 4·(pattern + value + 8)·(k + 1), where k is the longest star-free run of the pattern holding a `?`
//! (1 if none): linear for patterns like `a*a*a*…` and `*?*?*`, never worse than the run length
//! times the input.

#![no_main]

use iamlet_engine::fuzzing::{arn_pattern_matches, take_steps, wildcard_matches};
use iamlet_engine::Arn;
use libfuzzer_sys::fuzz_target;

fn reference(p: &[char], s: &[char]) -> bool {
    let mut row = vec![false; s.len() + 1];
    row[0] = true;
    for c in p {
        let mut next = vec![false; s.len() + 1];
        for j in 0..=s.len() {
            next[j] = match c {
                '*' => row[j] || (j > 0 && next[j - 1]),
                '?' => j > 0 && row[j - 1],
                lit => j > 0 && row[j - 1] && s[j - 1] == *lit,
            };
        }
        row = next;
    }
    row[s.len()]
}

fn bound(pattern: &str, value: &str) -> u64 {
    let k = pattern
        .split('*')
        .filter(|run| run.contains('?'))
        .map(str::len)
        .max()
        .unwrap_or(1);
    (4 * (pattern.len() + value.len() + 8) * (k + 1)) as u64
}

fuzz_target!(|data: &[u8]| {
    let split = data.iter().position(|&b| b == 0).unwrap_or(data.len());
    let (pattern, value) = data.split_at(split);
    let pattern = String::from_utf8_lossy(pattern);
    let value = String::from_utf8_lossy(value.get(1..).unwrap_or_default());

    take_steps();
    let matched = wildcard_matches(&pattern, &value);
    let steps = take_steps();
    assert!(
        steps <= bound(&pattern, &value),
        "{steps} steps for a pattern of {} bytes and a value of {}",
        pattern.len(),
        value.len()
    );
    let (p, s): (Vec<char>, Vec<char>) = (pattern.chars().collect(), value.chars().collect());
    if p.len() <= 64 && s.len() <= 256 {
        assert_eq!(matched, reference(&p, &s), "{pattern:?} on {value:?}");
    }

    take_steps();
    let arn_matched = arn_pattern_matches(&pattern, &value);
    let steps = take_steps();
    assert!(
        steps <= bound(&pattern, &value),
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
