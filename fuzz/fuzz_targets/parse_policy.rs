//! Arbitrary bytes as a policy document of every type: parsing returns a policy or typed errors,
//! never panics, and every error's position lies inside the text; quota findings are over their
//! quota and within the text's length; lint (with the catalog: unknown actions, resource types,
//! wildcard intersections) never panics, and its findings' positions lie inside the text too.

#![no_main]

use iamlet_engine::{Policy, PolicyType};
use libfuzzer_sys::fuzz_target;

const TYPES: [PolicyType; 7] = PolicyType::ALL;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    for t in TYPES {
        match Policy::parse(&text, t) {
            Ok(policy) => {
                assert_eq!(policy.source(), &*text);
                assert_eq!(policy.policy_type(), t);
                for f in policy.quota_findings() {
                    assert!(f.size > f.limit, "{f:?}");
                    assert!(f.size <= text.chars().count(), "{f:?}");
                }
            }
            Err(errors) => {
                assert!(
                    !errors.errors().is_empty(),
                    "a failed parse reports no problem"
                );
                for e in errors.errors() {
                    assert!(!e.message().is_empty(), "an error without a message: {e:?}");
                    if let Some(loc) = e.location() {
                        assert!(
                            loc.start <= loc.end && loc.end <= text.len(),
                            "{loc:?} is outside the {} bytes of text",
                            text.len()
                        );
                        assert!(loc.line >= 1 && loc.column >= 1, "{loc:?}");
                    }
                }
                let _ = errors.to_string();
            }
        }
    }
    // Lint is slower than parsing (it expands patterns over the catalog): one type per input, picked
    // by its length, so every type is linted across the corpus.
    let t = TYPES[data.len() % TYPES.len()];
    for f in iamlet_engine::lint::lint(&text, t) {
        assert!(!f.message.is_empty() && !f.code.is_empty(), "{f:?}");
        if let Some(loc) = f.location {
            assert!(loc.start <= loc.end && loc.end <= text.len(), "{f:?}");
        }
    }
});
