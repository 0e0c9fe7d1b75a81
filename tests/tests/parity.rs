//! One evaluator everywhere: every conformance case, and a few hundred generated ones, are decided
//! and explained natively, by the WebAssembly component under wasmtime, and by the npm package in
//! Node; the three explanations must be identical (the npm package's in its camelCase field names,
//! `iamlet_engine::ffi::js`).
#![allow(
    clippy::unwrap_used,
    clippy::panic,
    clippy::expect_used,
    reason = "a test harness reports failures by panicking"
)]

mod generate;

use iamlet_engine::ffi::js;
use iamlet_engine::simulate::{case_policy_inputs, parse_cases, run_case, Case};
use iamlet_wasm_host::{Host, HostConfig, PackedRequest};
use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::TestRunner;
use serde_json::Value;
use std::collections::HashMap;
use std::path::PathBuf;
use std::process::Command;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn corpus() -> (Vec<PathBuf>, Vec<Case>) {
    let dir = root().join("tests/conformance");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    let cases = files
        .iter()
        .flat_map(|f| parse_cases(&std::fs::read_to_string(f).unwrap()).unwrap())
        .collect();
    (files, cases)
}

/// The native explanation, serialized as the component gives it (the engine's own field names) and
/// as the npm package does (`ffi::js`, camelCase).
fn native(case: &Case) -> (Value, Value) {
    let r = run_case(case);
    match (r.explanation, r.error) {
        (Some(x), _) => (
            serde_json::to_value(&x).unwrap(),
            serde_json::to_value(js::Explanation::from(x)).unwrap(),
        ),
        (None, e) => {
            let error = serde_json::json!({ "error": e });
            (error.clone(), error)
        }
    }
}

fn component(host: &Host, case: &Case) -> Value {
    let inputs: Vec<_> = case_policy_inputs(case)
        .iter()
        .map(|p| iamlet_wasm_host::policy_input(p).unwrap())
        .collect();
    let set = match host.compile(inputs) {
        Ok(s) => s,
        Err(e) => return serde_json::json!({ "error": e.to_string() }),
    };
    let request = iamlet_wasm_host::request(&case.request).unwrap();
    // The packed crossing (the sidecar's) must decide as the typed one does.
    let typed = host.evaluate(&set, &request, false);
    let packed = iamlet_engine::ffi::compile_request(&case.request)
        .map_err(iamlet_wasm_host::HostError::Request)
        .and_then(|r| host.evaluate_packed(&set, &PackedRequest::from_request(&r)));
    assert_eq!(
        format!("{typed:?}"),
        format!("{packed:?}"),
        "{}: typed and packed requests decide differently",
        case.id
    );
    match host.evaluate(&set, &request, true) {
        Ok(e) => serde_json::from_str(&e.explanation_json.expect("explanation requested")).unwrap(),
        Err(e) => serde_json::json!({ "error": e.to_string() }),
    }
}

fn node(files: &[PathBuf]) -> HashMap<String, Value> {
    let npm = root().join("wasm-pkg/npm");
    assert!(
        npm.join("dist/iamlet_js_bg.wasm").exists(),
        "the npm package is not built: run wasm-pkg/npm/build.sh (scripts/test does)"
    );
    let out = Command::new("node")
        .arg(npm.join("test/dump-corpus.mjs"))
        .args(files)
        .current_dir(&npm)
        .output()
        .expect("running node");
    assert!(
        out.status.success(),
        "node failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let results: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    results
        .into_iter()
        .map(|r| {
            let id = r["id"].as_str().unwrap().to_owned();
            let v = match r.get("explanation") {
                Some(x) => x.clone(),
                None => serde_json::json!({ "error": r["error"] }),
            };
            (id, v)
        })
        .collect()
}

/// Every case decided and explained three ways; the differences, described.
fn differences(files: &[PathBuf], cases: &[Case]) -> Vec<String> {
    let host = Host::new(HostConfig::default()).unwrap();
    let from_node = node(files);
    let mut differences = Vec::new();
    for case in cases {
        let (n, n_js) = native(case);
        assert!(n.get("error").is_none(), "{}: {n}", case.id);
        let c = component(&host, case);
        if n != c {
            differences.push(format!(
                "{}: component differs\n native:    {n}\n component: {c}",
                case.id
            ));
        }
        match from_node.get(&case.id) {
            Some(j) if *j == n_js => {}
            Some(j) => differences.push(format!(
                "{}: npm differs\n native: {n_js}\n npm:    {j}",
                case.id
            )),
            None => differences.push(format!("{}: missing from the npm run", case.id)),
        }
    }
    differences
}

#[test]
fn native_component_and_npm_agree_on_every_case() {
    let (files, cases) = corpus();
    assert!(cases.len() > 700, "only {} cases", cases.len());
    let differences = differences(&files, &cases);
    assert!(
        differences.is_empty(),
        "{} differences:\n{}",
        differences.len(),
        differences.join("\n")
    );
}

/// Cases from the invariant tests' generator (`generate/`), drawn by a deterministic runner so a
/// failure replays: identity, resource, boundary, SCP and session policies with wildcards,
/// `NotAction`/`NotResource` and conditions, for users, roles, sessions and accounts.
#[test]
fn native_component_and_npm_agree_on_generated_cases() {
    const CASES: usize = 300;
    let mut runner = TestRunner::deterministic();
    let strategy = (generate::policy_set(), generate::request());
    let json: Vec<Value> = (0..CASES)
        .map(|i| {
            let (set, req) = strategy.new_tree(&mut runner).unwrap().current();
            set.to_case(&req, &format!("generated-{i}"))
        })
        .collect();
    let dir = std::env::temp_dir().join(format!("iamlet-parity-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("generated.json");
    let text = serde_json::to_string(&json).unwrap();
    std::fs::write(&file, &text).unwrap();
    let cases = parse_cases(&text).unwrap();
    let decisions: std::collections::BTreeSet<String> = cases
        .iter()
        .filter_map(|c| native(c).0["decision"].as_str().map(str::to_owned))
        .collect();
    // A generator that only ever produced one outcome would compare nothing interesting.
    assert_eq!(decisions.len(), 3, "decisions seen: {decisions:?}");
    let differences = differences(&[file], &cases);
    if differences.is_empty() {
        std::fs::remove_dir_all(&dir).unwrap();
    }
    assert!(
        differences.is_empty(),
        "{} differences (the cases are in {}):\n{}",
        differences.len(),
        dir.display(),
        differences.join("\n")
    );
}
