//! Cross-crate tests for Iamlet live in `tests/`; this library is empty on purpose: the crate exists
//! so that `cargo test` runs the conformance corpus and end-to-end suites from the workspace root.
