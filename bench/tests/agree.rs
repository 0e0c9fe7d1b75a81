//! The two engines agree on every request of the scenario: same decision (Cedar's deny split into
//! explicit and implicit by whether a `forbid` was satisfied), same deciding statements (the IAM
//! `Sid`s are the Cedar `@id`s), no Cedar evaluation errors, and the decision the scenario means.
//! Without this the benchmark could time two engines answering different questions.

mod common;

use common::cedar::{outcome, resource_id, Cedar};
use iamlet_bench::{iam_policy_set, iam_request, IamArns, CASES, USERS};

#[test]
fn iamlet_and_cedar_agree_on_every_case() {
    let cedar = Cedar::new().unwrap();
    let mut failures = Vec::new();
    for case in &CASES {
        let set = iam_policy_set(&case.user).unwrap();
        let iam = set.decide(&iam_request(case, &IamArns::of(case)).unwrap());
        let mut iam_sids: Vec<String> = iam.deciding.iter().filter_map(|s| s.sid.clone()).collect();
        iam_sids.sort();
        let response = cedar.decide(&cedar.request(case, &resource_id(case)).unwrap());
        let (decision, cedar_ids, errors) = outcome(&response);
        if iam.decision != case.expected {
            failures.push(format!(
                "{}: Iamlet {:?}, expected {:?}",
                case.name, iam.decision, case.expected
            ));
        }
        if decision != iam.decision || cedar_ids != iam_sids || !errors.is_empty() {
            failures.push(format!(
                "{}: Iamlet {:?} by {iam_sids:?}; Cedar {decision:?} by {cedar_ids:?}, errors {errors:?}",
                case.name, iam.decision
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn the_typical_principal_has_about_twenty_statements() {
    let counts: Vec<usize> = USERS
        .iter()
        .map(|u| iam_policy_set(u).unwrap().statement_count())
        .collect();
    assert_eq!(counts, [19, 14, 12]);
    assert_eq!(Cedar::new().unwrap().policies.policies().count(), 21);
}

#[test]
fn every_kind_of_decision_is_timed() {
    use iamlet_engine::Decision::*;
    for kind in [Allow, ExplicitDeny, ImplicitDeny] {
        assert!(
            CASES.iter().any(|c| c.timed && c.expected == kind),
            "{kind:?}"
        );
    }
}
