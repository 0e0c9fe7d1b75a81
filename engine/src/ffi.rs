//! The contract every binding shares: the npm package, the WebAssembly component and the sidecar call
//! these functions with these serde types, so they cannot drift apart. Inputs are policy documents
//! (JSON text or a JSON value) and requests in the case format; outputs are the engine's own
//! serializable types, with snake_case field names everywhere but in [`js`], the npm package's
//! camelCase view of the same data.

use crate::error::PolicyErrors;
use crate::eval::PolicySet;
use crate::policy::{Policy, PolicyType};
use crate::request::Request;
use crate::simulate::CaseRequest;
use serde::{Deserialize, Serialize};

pub mod js;
pub mod packed;

/// One policy handed to a binding.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyInput {
    /// The name explanations use; defaults to `<type>[<index>]`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Where the policy sits in the evaluation.
    pub policy_type: PolicyType,
    /// The policy document: its JSON text, or the JSON value itself.
    pub document: serde_json::Value,
    /// For SCPs and RCPs: the organization level, 0 for the root (default 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub level: Option<usize>,
}

/// One problem in a policy, flattened for other languages.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "wasm", derive(tsify::Tsify))]
pub struct PolicyProblem {
    /// The policy's name.
    pub policy: String,
    /// The JSON path of the offending element (empty for the document).
    pub path: String,
    /// The message without path or position.
    pub message: String,
    /// The whole error as the CLI prints it: `line:column: path: message`.
    pub display: String,
    /// 1-based line, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    /// 1-based column in characters, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub column: Option<usize>,
    /// Byte range of the element in the document text, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<usize>,
    /// End of the byte range.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end: Option<usize>,
}

impl PolicyProblem {
    fn from_errors(errors: &PolicyErrors) -> Vec<PolicyProblem> {
        errors
            .errors()
            .iter()
            .map(|e| PolicyProblem {
                policy: errors.policy().to_owned(),
                path: e.path().to_owned(),
                message: e.message().to_owned(),
                display: e.to_string(),
                line: e.location().map(|l| l.line),
                column: e.location().map(|l| l.column),
                start: e.location().map(|l| l.start),
                end: e.location().map(|l| l.end),
            })
            .collect()
    }

    fn general(policy: &str, message: String) -> PolicyProblem {
        PolicyProblem {
            policy: policy.to_owned(),
            path: String::new(),
            display: message.clone(),
            message,
            line: None,
            column: None,
            start: None,
            end: None,
        }
    }
}

/// The text of a document given as a string or a JSON value (pretty-printed: positions in errors and
/// explanations refer to this text, in every binding).
pub fn document_text(doc: &serde_json::Value) -> Result<String, String> {
    match doc {
        serde_json::Value::String(s) => Ok(s.clone()),
        other => serde_json::to_string_pretty(other).map_err(|e| e.to_string()),
    }
}

/// Parses one policy input.
pub fn compile_policy(
    input: &PolicyInput,
    default_name: &str,
) -> Result<Policy, Vec<PolicyProblem>> {
    let name = input.name.as_deref().unwrap_or(default_name);
    let text = document_text(&input.document).map_err(|e| {
        vec![PolicyProblem::general(
            name,
            format!("unreadable document: {e}"),
        )]
    })?;
    Policy::parse_named(name, &text, input.policy_type).map_err(|e| PolicyProblem::from_errors(&e))
}

/// Checks a single policy: every problem found, empty when it is valid.
pub fn validate(input: &PolicyInput) -> Vec<PolicyProblem> {
    match compile_policy(input, input.policy_type.as_str()) {
        Ok(_) => Vec::new(),
        Err(problems) => problems,
    }
}

/// Builds a policy set; every problem of every policy is reported.
pub fn compile_policy_set(inputs: &[PolicyInput]) -> Result<PolicySet, Vec<PolicyProblem>> {
    let mut set = PolicySet::new();
    let mut problems = Vec::new();
    let mut counts = std::collections::HashMap::<&str, usize>::new();
    let mut scps: Vec<(usize, Policy)> = Vec::new();
    let mut rcps: Vec<(usize, Policy)> = Vec::new();
    for input in inputs {
        let key = input.policy_type.as_str();
        let n = counts.entry(key).or_insert(0);
        let default_name = format!("{key}[{n}]");
        *n += 1;
        match compile_policy(input, &default_name) {
            Ok(p) => match input.policy_type {
                PolicyType::Scp => scps.push((input.level.unwrap_or(0), p)),
                PolicyType::Rcp => rcps.push((input.level.unwrap_or(0), p)),
                _ => {
                    set.add(p);
                }
            },
            Err(mut e) => problems.append(&mut e),
        }
    }
    for (levels, rcp) in [(scps, false), (rcps, true)] {
        let max = levels.iter().map(|(l, _)| *l).max();
        let mut by_level: Vec<Vec<Policy>> = match max {
            Some(m) => (0..=m).map(|_| Vec::new()).collect(),
            None => Vec::new(),
        };
        for (l, p) in levels {
            if let Some(v) = by_level.get_mut(l) {
                v.push(p);
            }
        }
        for level in by_level {
            // A level with no policy attached denies everything, as an organization level with no
            // SCP would if that were possible; callers number levels without gaps.
            if rcp {
                set.add_rcp_level(level);
            } else {
                set.add_scp_level(level);
            }
        }
    }
    if problems.is_empty() {
        Ok(set)
    } else {
        Err(problems)
    }
}

/// The inputs a policy set was built from (names, types, organization levels and document texts), to
/// compile the same set in another binding.
pub fn policy_set_inputs(set: &PolicySet) -> Vec<PolicyInput> {
    set.slots()
        .map(|(slot, p)| PolicyInput {
            name: Some(p.name.clone()),
            policy_type: p.policy_type,
            document: serde_json::Value::String(p.source.to_string()),
            level: match slot {
                crate::eval::Slot::Scp(l) | crate::eval::Slot::Rcp(l) => Some(l),
                _ => None,
            },
        })
        .collect()
}

/// Builds a request from the case format's request object.
pub fn compile_request(r: &CaseRequest) -> Result<Request, String> {
    let ctx =
        crate::context::ContextMap::from_json_object(&r.context).map_err(|e| e.to_string())?;
    request_from_parts(
        &r.principal,
        &r.action,
        &r.resource,
        r.resource_account.as_deref(),
        r.session_issuer.as_deref(),
        ctx,
    )
}

/// Builds a request from its parts as a binding receives them (the case format, the component's
/// typed or packed request): the engine's error as text.
pub fn request_from_parts(
    principal: &str,
    action: &str,
    resource: &str,
    resource_account: Option<impl Into<String>>,
    session_issuer: Option<impl Into<String>>,
    context: crate::context::ContextMap,
) -> Result<Request, String> {
    let mut req = Request::new(principal, action, resource)
        .map_err(|e| e.to_string())?
        .with_context(context);
    if let Some(a) = resource_account {
        req = req.with_resource_account(a);
    }
    if let Some(i) = session_issuer {
        req = req.with_session_issuer(i);
    }
    Ok(req)
}

/// The batch entry point: a JSON array of cases in, a JSON array of results out (each
/// `{"id", "decision", "explanation"}` or `{"id", "error"}`); malformed input yields
/// `{"error": "…"}`.
pub fn simulate_json(cases: &str) -> String {
    let out = match crate::simulate::parse_cases(cases) {
        Ok(cases) => {
            let results: Vec<_> = cases.iter().map(crate::simulate::run_case).collect();
            serde_json::to_string(&results)
        }
        Err(e) => serde_json::to_string(&serde_json::json!({ "error": e.to_string() })),
    };
    out.unwrap_or_else(|e| format!("{{\"error\":\"cannot serialize results: {e}\"}}"))
}

/// The engine's version, the same in every binding.
pub fn version() -> &'static str {
    env!("CARGO_PKG_VERSION")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_sets_and_reports_problems() {
        let ok = PolicyInput {
            name: None,
            policy_type: PolicyType::Scp,
            document: serde_json::json!({"Statement": {"Effect": "Allow", "Action": "*", "Resource": "*"}}),
            level: Some(1),
        };
        let set = compile_policy_set(std::slice::from_ref(&ok)).unwrap();
        assert_eq!(set.statement_count(), 1);
        let bad = PolicyInput {
            name: Some("mine".into()),
            policy_type: PolicyType::Identity,
            document: serde_json::json!("{\"Statement\": {\"Effect\": \"allow\"}}"),
            level: None,
        };
        let problems = compile_policy_set(&[ok, bad.clone()]).unwrap_err();
        assert_eq!(problems.len(), 3, "{problems:?}");
        assert_eq!(problems[0].policy, "mine");
        assert_eq!(problems[0].path, "Statement.Effect");
        assert_eq!(problems[0].line, Some(1));
        assert_eq!(validate(&bad).len(), 3);
    }

    #[test]
    fn policy_sets_export_their_inputs() {
        let inputs = vec![
            PolicyInput {
                name: Some("a".into()),
                policy_type: PolicyType::Identity,
                document: serde_json::json!(
                    "{\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"*\",\"Resource\":\"*\"}}"
                ),
                level: None,
            },
            PolicyInput {
                name: Some("root".into()),
                policy_type: PolicyType::Scp,
                document: serde_json::json!(
                    "{\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"*\",\"Resource\":\"*\"}}"
                ),
                level: Some(0),
            },
        ];
        let set = compile_policy_set(&inputs).unwrap();
        let mut again = policy_set_inputs(&set);
        again.sort_by(|a, b| a.name.cmp(&b.name));
        assert_eq!(again, inputs);
    }

    #[test]
    fn simulate_json_round_trip() {
        let out = simulate_json(
            r#"[{"id":"a","identity_policies":[{"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*"}}],"request":{"principal":"arn:aws:iam::111122223333:user/a","action":"s3:GetObject","resource":"arn:aws:s3:::b/k"}}]"#,
        );
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v[0]["decision"], "Allow");
        assert!(simulate_json("nope").contains("error"));
    }
}
