//! Arbitrary text as the batch JSON of `simulate_json`: the answer is always JSON, either an array
//! with one result per case (a decision or an error) or an object with an error.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let out = iamlet_engine::ffi::simulate_json(&text);
    let value: serde_json::Value = match serde_json::from_str(&out) {
        Ok(v) => v,
        Err(e) => panic!("simulate_json answered with invalid JSON ({e}): {out}"),
    };
    match &value {
        serde_json::Value::Array(results) => {
            for r in results {
                assert!(r.get("id").is_some_and(|id| id.is_string()), "{r}");
                assert!(
                    r.get("decision").is_some() != r.get("error").is_some(),
                    "a result needs a decision or an error, not both: {r}"
                );
            }
        }
        other => assert!(other.get("error").is_some_and(|e| e.is_string()), "{other}"),
    }
});
