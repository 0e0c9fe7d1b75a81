//! Runs every case of `tests/conformance/*.json` through `iamlet_engine::simulate`, the code path of
#![allow(
    clippy::panic,
    clippy::unwrap_used,
    reason = "a test harness reports failures by panicking"
)]
//! `iamlet test`, and requires each to produce its documented decision.

use iamlet_engine::simulate::{compile_case, parse_cases, run_case};
use std::collections::HashSet;
use std::path::PathBuf;

fn corpus_files() -> Vec<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("conformance");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    files
}

#[test]
fn conformance_corpus() {
    let mut ids = HashSet::new();
    let mut failures = Vec::new();
    let (mut eval_cases, mut cond_cases) = (0, 0);
    for file in corpus_files() {
        let name = file.file_name().unwrap().to_string_lossy().to_string();
        let text = std::fs::read_to_string(&file).unwrap();
        let cases = parse_cases(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
        for case in &cases {
            assert!(
                ids.insert(case.id.clone()),
                "{name}: duplicate id {}",
                case.id
            );
            assert!(
                case.source
                    .as_deref()
                    .is_some_and(|s| s.starts_with("https://docs.aws.amazon.com/")),
                "{name}: case {} must name its AWS documentation page in `source`",
                case.id
            );
            assert!(
                case.expected.is_some(),
                "{name}: case {} has no `expected`",
                case.id
            );
            if name.starts_with("eval-") {
                eval_cases += 1;
            } else if name.starts_with("cond-") {
                cond_cases += 1;
            }
            let result = run_case(case);
            if !result.passes(case) {
                let got = match (&result.decision, &result.error) {
                    (_, Some(e)) => format!("error: {e}"),
                    (Some(d), None) => format!(
                        "{d}: {}",
                        result
                            .explanation
                            .as_ref()
                            .map(|x| x.summary.as_str())
                            .unwrap_or("")
                    ),
                    (None, None) => "nothing".into(),
                };
                failures.push(format!(
                    "{name} {}: expected {:?}, got {got}",
                    case.id, case.expected
                ));
            }
        }
    }
    println!(
        "{} cases ({eval_cases} evaluation-logic, {cond_cases} conditions)",
        ids.len()
    );
    assert!(
        failures.is_empty(),
        "{} failing cases:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(
        eval_cases >= 150,
        "the evaluation-logic corpus has only {eval_cases} cases"
    );
    assert!(
        cond_cases >= 150,
        "the condition corpus has only {cond_cases} cases"
    );
}

/// `run_case` explains, and an explanation matches every statement. `PolicySet::decide` and
/// `evaluate` match only the statements indexed under the action's service: every case must get the
/// same decision and deciding statements from them.
#[test]
fn indexed_decisions_match_explanations() {
    let mut compared = 0;
    for file in corpus_files() {
        let name = file.file_name().unwrap().to_string_lossy().to_string();
        let text = std::fs::read_to_string(&file).unwrap();
        for case in parse_cases(&text).unwrap_or_else(|e| panic!("{name}: {e}")) {
            let Ok((set, req)) = compile_case(&case) else {
                continue;
            };
            let explained = set.explain(&req);
            let verdict = set.decide(&req);
            assert_eq!(
                (verdict.decision, &verdict.deciding),
                (explained.decision, &explained.deciding),
                "{name} {}",
                case.id
            );
            assert_eq!(set.evaluate(&req), explained.decision, "{name} {}", case.id);
            compared += 1;
        }
    }
    assert!(compared >= 300, "only {compared} cases compared");
}
