//! Simulation cases: a JSON description of policies and one request, as `iamlet simulate` and
//! `iamlet test` read them, and as the conformance corpus is written. Everything here is pure: the
//! caller reads the files.

use crate::eval::{Decision, PolicySet};
use crate::explain::Explanation;
use crate::ffi::{self, PolicyInput};
use crate::policy::PolicyType;
use crate::request::Request;
use serde::{Deserialize, Serialize};

/// One case, in the file format of `iamlet simulate` and the conformance corpus (snake_case keys,
/// in every binding).
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "wasm", derive(tsify::Tsify))]
pub struct Case {
    /// Unique within its file.
    pub id: String,
    /// Where the case comes from (for the corpus: the documentation page).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "wasm", tsify(optional))]
    pub source: Option<String>,
    /// What the case shows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "wasm", tsify(optional))]
    pub description: Option<String>,
    /// Identity-based policies (inline and managed, of the principal and its groups).
    #[serde(default)]
    #[cfg_attr(feature = "wasm", tsify(type = "PolicyInputDocument[]"))]
    pub identity_policies: Vec<serde_json::Value>,
    /// The resource's resource-based policy (or a role's trust policy).
    #[serde(default)]
    #[cfg_attr(feature = "wasm", tsify(type = "PolicyInputDocument | null", optional))]
    pub resource_policy: Option<serde_json::Value>,
    /// Permissions boundaries: each must allow.
    #[serde(default)]
    #[cfg_attr(feature = "wasm", tsify(type = "PolicyInputDocument[]"))]
    pub permission_boundaries: Vec<serde_json::Value>,
    /// SCPs, one list per organization level, root first.
    #[serde(default)]
    #[cfg_attr(feature = "wasm", tsify(type = "PolicyInputDocument[][]"))]
    pub scps: Vec<Vec<serde_json::Value>>,
    /// RCPs, one list per organization level, root first.
    #[serde(default)]
    #[cfg_attr(feature = "wasm", tsify(type = "PolicyInputDocument[][]"))]
    pub rcps: Vec<Vec<serde_json::Value>>,
    /// Session policies.
    #[serde(default)]
    #[cfg_attr(feature = "wasm", tsify(type = "PolicyInputDocument[]"))]
    pub session_policies: Vec<serde_json::Value>,
    /// The request.
    pub request: CaseRequest,
    /// The decision the case expects (`iamlet test`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "wasm", tsify(optional))]
    pub expected: Option<Decision>,
}

/// The request of a case, in the case file format (the npm package's `PolicySet` takes its camelCase
/// [`RequestInput`](crate::ffi::js::RequestInput)).
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "wasm", derive(tsify::Tsify))]
pub struct CaseRequest {
    /// The principal's ARN, account id, or service principal.
    pub principal: String,
    /// `service:Action`.
    pub action: String,
    /// The resource ARN (or `*`).
    pub resource: String,
    /// The account owning the resource, for ARNs without one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "wasm", tsify(optional))]
    pub resource_account: Option<String>,
    /// The identity that issued the principal's session: the IAM user behind a federated user
    /// session, or a role session's role ARN with its path.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "wasm", tsify(optional))]
    pub session_issuer: Option<String>,
    /// Condition keys.
    #[serde(default)]
    #[cfg_attr(
        feature = "wasm",
        tsify(type = "Record<string, ContextValueInput>", optional)
    )]
    pub context: serde_json::Map<String, serde_json::Value>,
}

/// What running a case produced.
#[derive(Clone, Debug, Serialize)]
pub struct CaseResult {
    /// The case's id.
    pub id: String,
    /// The decision, unless the case could not be evaluated.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decision: Option<Decision>,
    /// The explanation of the decision.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub explanation: Option<Explanation>,
    /// Why the case could not be evaluated.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl CaseResult {
    /// Whether the case produced the decision it expects.
    pub fn passes(&self, case: &Case) -> bool {
        self.error.is_none() && case.expected.is_some() && self.decision == case.expected
    }
}

/// Why a file of cases cannot be read.
#[derive(Debug, thiserror::Error)]
#[error("invalid cases: {0}")]
pub struct CasesError(#[from] serde_json::Error);

/// Reads a JSON array of cases (or a single case).
pub fn parse_cases(text: &str) -> Result<Vec<Case>, CasesError> {
    let value: serde_json::Value = serde_json::from_str(text)?;
    Ok(match value {
        serde_json::Value::Array(_) => serde_json::from_value(value)?,
        other => vec![serde_json::from_value(other)?],
    })
}

/// One policy of a case as a binding input: a document, a string holding one, or
/// `{"name", "document"}`. A resource-based policy none of whose statements names a resource is a
/// role trust policy.
pub fn policy_input(
    value: &serde_json::Value,
    default_name: &str,
    policy_type: PolicyType,
    level: Option<usize>,
) -> PolicyInput {
    let (name, doc) = match value {
        serde_json::Value::Object(o) => match (o.get("document"), o.get("name")) {
            (Some(d), name) => (name.and_then(|n| n.as_str()).unwrap_or(default_name), d),
            (None, _) => (default_name, value),
        },
        _ => (default_name, value),
    };
    let policy_type = if policy_type == PolicyType::Resource && !has_resource_element(doc) {
        PolicyType::Trust
    } else {
        policy_type
    };
    PolicyInput {
        name: Some(name.to_owned()),
        policy_type,
        document: doc.clone(),
        level,
    }
}

fn has_resource_element(doc: &serde_json::Value) -> bool {
    let parsed;
    let doc = match doc {
        serde_json::Value::String(text) => match serde_json::from_str::<serde_json::Value>(text) {
            Ok(v) => {
                parsed = v;
                &parsed
            }
            Err(_) => return true,
        },
        d => d,
    };
    let statements = match doc.get("Statement") {
        Some(serde_json::Value::Array(a)) => a.iter().collect::<Vec<_>>(),
        Some(o) => vec![o],
        None => return true,
    };
    statements
        .iter()
        .any(|s| s.get("Resource").is_some() || s.get("NotResource").is_some())
}

/// Every policy of a case as binding inputs, named after where they sit in the case
/// (`identity_policies[0]`, `scps[1][0]`…) unless the case names them.
pub fn case_policy_inputs(case: &Case) -> Vec<PolicyInput> {
    let mut out = Vec::new();
    for (i, p) in case.identity_policies.iter().enumerate() {
        out.push(policy_input(
            p,
            &format!("identity_policies[{i}]"),
            PolicyType::Identity,
            None,
        ));
    }
    if let Some(p) = case.resource_policy.as_ref().filter(|p| !p.is_null()) {
        out.push(policy_input(
            p,
            "resource_policy",
            PolicyType::Resource,
            None,
        ));
    }
    for (i, p) in case.permission_boundaries.iter().enumerate() {
        out.push(policy_input(
            p,
            &format!("permission_boundaries[{i}]"),
            PolicyType::Boundary,
            None,
        ));
    }
    for (i, p) in case.session_policies.iter().enumerate() {
        out.push(policy_input(
            p,
            &format!("session_policies[{i}]"),
            PolicyType::Session,
            None,
        ));
    }
    for (kind, levels, pt) in [
        ("scps", &case.scps, PolicyType::Scp),
        ("rcps", &case.rcps, PolicyType::Rcp),
    ] {
        for (l, level) in levels.iter().enumerate() {
            for (i, p) in level.iter().enumerate() {
                out.push(policy_input(p, &format!("{kind}[{l}][{i}]"), pt, Some(l)));
            }
        }
    }
    out
}

/// Builds the policy set and request of a case.
pub fn compile_case(case: &Case) -> Result<(PolicySet, Request), String> {
    let set = ffi::compile_policy_set(&case_policy_inputs(case));
    let request = ffi::compile_request(&case.request).map_err(|e| format!("request: {e}"));
    match (set, request) {
        (Ok(set), Ok(req)) => Ok((set, req)),
        (set, req) => {
            let mut errors: Vec<String> = match set {
                Err(problems) => problems
                    .iter()
                    .map(|p| format!("policy `{}`: {}", p.policy, p.display))
                    .collect(),
                Ok(_) => Vec::new(),
            };
            if let Err(e) = req {
                errors.push(e);
            }
            Err(errors.join("\n"))
        }
    }
}

/// Evaluates a case and explains the decision.
pub fn run_case(case: &Case) -> CaseResult {
    match compile_case(case) {
        Ok((set, req)) => {
            let explanation = set.explain(&req);
            CaseResult {
                id: case.id.clone(),
                decision: Some(explanation.decision),
                explanation: Some(explanation),
                error: None,
            }
        }
        Err(e) => CaseResult {
            id: case.id.clone(),
            decision: None,
            explanation: None,
            error: Some(e),
        },
    }
}
