//! The npm package's view of the contract: the same data with JavaScript's camelCase field names
//! (`policyType`, `resourceAccount`, `requestValues`…), as cedar-wasm names its fields. Enum values
//! keep their names (`"condition_not_met"`, `"security_warning"`): they are data, not fields.
//!
//! The engine's own serde types keep snake_case, because the command line prints them
//! (`iamlet eval --format json`, `iamlet simulate`) and the conformance corpus is written with them,
//! and a serde attribute switched on by a Cargo feature would change that output too whenever the
//! npm crate is built beside the CLI (Cargo unifies features across a workspace build). So the types
//! that hold a field of more than one word are restated here, and each converts from (or into) the
//! engine's type by naming every field, so a field added there fails to compile until it is added
//! here too. Types whose fields are all one word ([`Step`], [`Finding`](crate::lint::Finding),
//! [`PolicyProblem`](super::PolicyProblem), [`PasswordProblem`](crate::password::PasswordProblem),
//! [`ActionSummary`](crate::catalog::ActionSummary)) cross as they are. Simulation cases
//! ([`Case`](crate::simulate::Case)) keep the file format the corpus and `iamlet simulate` read.

use crate::eval::Decision;
use crate::explain::{self, ConditionProblem, Step};
use crate::policy::{Effect, PolicyType};
use crate::request::Request;
use crate::simulate::CaseRequest;
use serde::{Deserialize, Serialize};

/// One policy handed to the package: a `PolicySet` input.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
#[cfg_attr(feature = "wasm", derive(tsify::Tsify))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PolicyInput {
    /// The name explanations use; defaults to `<type>[<index>]`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "wasm", tsify(optional))]
    pub name: Option<String>,
    /// Where the policy sits in the evaluation.
    pub policy_type: PolicyType,
    /// The policy document: its JSON text, or the JSON value itself.
    #[cfg_attr(feature = "wasm", tsify(type = "string | PolicyDocument"))]
    pub document: serde_json::Value,
    /// For SCPs and RCPs: the organization level, 0 for the root (default 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "wasm", tsify(optional))]
    pub level: Option<usize>,
}

impl From<PolicyInput> for super::PolicyInput {
    fn from(p: PolicyInput) -> Self {
        let PolicyInput {
            name,
            policy_type,
            document,
            level,
        } = p;
        super::PolicyInput {
            name,
            policy_type,
            document,
            level,
        }
    }
}

impl From<super::PolicyInput> for PolicyInput {
    fn from(p: super::PolicyInput) -> Self {
        let super::PolicyInput {
            name,
            policy_type,
            document,
            level,
        } = p;
        PolicyInput {
            name,
            policy_type,
            document,
            level,
        }
    }
}

/// The request to decide.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[cfg_attr(feature = "wasm", derive(tsify::Tsify))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RequestInput {
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
    /// Condition keys, each with a value or an array of values (a multivalued key).
    #[serde(default, deserialize_with = "no_context_if_null")]
    #[cfg_attr(
        feature = "wasm",
        tsify(type = "Record<string, ContextValueInput>", optional)
    )]
    pub context: serde_json::Map<String, serde_json::Value>,
}

/// `context: undefined` is no context, as an optional field is in TypeScript (serde-wasm-bindgen
/// reads `undefined` and `null` alike).
fn no_context_if_null<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<serde_json::Map<String, serde_json::Value>, D::Error> {
    Ok(Option::deserialize(d)?.unwrap_or_default())
}

impl RequestInput {
    /// Builds the engine's request, as [`super::compile_request`] does for a case's.
    pub fn compile(self) -> Result<Request, String> {
        super::compile_request(&CaseRequest::from(self))
    }
}

impl From<RequestInput> for CaseRequest {
    fn from(r: RequestInput) -> Self {
        let RequestInput {
            principal,
            action,
            resource,
            resource_account,
            session_issuer,
            context,
        } = r;
        CaseRequest {
            principal,
            action,
            resource,
            resource_account,
            session_issuer,
            context,
        }
    }
}

impl From<CaseRequest> for RequestInput {
    fn from(r: CaseRequest) -> Self {
        let CaseRequest {
            principal,
            action,
            resource,
            resource_account,
            session_issuer,
            context,
        } = r;
        RequestInput {
            principal,
            action,
            resource,
            resource_account,
            session_issuer,
            context,
        }
    }
}

/// A statement of a policy.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "wasm", derive(tsify::Tsify))]
#[serde(rename_all = "camelCase")]
pub struct StatementRef {
    /// The policy's name.
    pub policy: String,
    /// The policy's type.
    pub policy_type: PolicyType,
    /// For SCPs and RCPs, the organization level (0 = root).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub level: Option<usize>,
    /// The statement's index in the policy's `Statement` array.
    pub statement: usize,
    /// The statement's `Sid`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
    /// The statement's effect.
    pub effect: Effect,
    /// The line the statement starts on in the policy text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
}

impl From<explain::StatementRef> for StatementRef {
    fn from(s: explain::StatementRef) -> Self {
        let explain::StatementRef {
            policy,
            policy_type,
            level,
            statement,
            sid,
            effect,
            line,
        } = s;
        StatementRef {
            policy,
            policy_type,
            level,
            statement,
            sid,
            effect,
            line,
        }
    }
}

/// Why a statement did not apply.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "wasm", derive(tsify::Tsify))]
#[serde(
    tag = "kind",
    rename_all = "snake_case",
    rename_all_fields = "camelCase"
)]
pub enum Reason {
    /// `Principal`/`NotPrincipal` does not cover the caller.
    PrincipalNotMatched {
        /// The caller.
        principal: String,
        /// The statement's principals as written (`AWS:…`, `Service:…`).
        policy_principals: Vec<String>,
        /// Whether the element is `NotPrincipal`.
        negated: bool,
    },
    /// `Action`/`NotAction` does not cover the action.
    ActionNotMatched {
        /// The requested action.
        action: String,
        /// The statement's action patterns.
        patterns: Vec<String>,
        /// Whether the element is `NotAction`.
        negated: bool,
    },
    /// `Resource`/`NotResource` does not cover the resource.
    ResourceNotMatched {
        /// The requested resource.
        resource: String,
        /// The statement's resource patterns.
        patterns: Vec<String>,
        /// Whether the element is `NotResource`.
        negated: bool,
        /// Policy variables that had no value in the request (absent when none).
        #[serde(skip_serializing_if = "Vec::is_empty")]
        #[cfg_attr(feature = "wasm", tsify(optional))]
        unresolved_variables: Vec<String>,
    },
    /// A condition is false.
    ConditionNotMet {
        /// The operator as written, e.g. `ForAnyValue:StringLike`.
        operator: String,
        /// The condition key as written.
        key: String,
        /// The policy's values.
        policy_values: Vec<String>,
        /// The request's values for the key, absent when the key is not in the request.
        #[serde(skip_serializing_if = "Option::is_none")]
        request_values: Option<Vec<String>>,
        /// `missing`, `no_match`, `malformed`, `invalid_policy_value` or `multivalued_key`.
        problem: ConditionProblem,
    },
}

impl From<explain::Reason> for Reason {
    fn from(r: explain::Reason) -> Self {
        match r {
            explain::Reason::PrincipalNotMatched {
                principal,
                policy_principals,
                negated,
            } => Reason::PrincipalNotMatched {
                principal,
                policy_principals,
                negated,
            },
            explain::Reason::ActionNotMatched {
                action,
                patterns,
                negated,
            } => Reason::ActionNotMatched {
                action,
                patterns,
                negated,
            },
            explain::Reason::ResourceNotMatched {
                resource,
                patterns,
                negated,
                unresolved_variables,
            } => Reason::ResourceNotMatched {
                resource,
                patterns,
                negated,
                unresolved_variables,
            },
            explain::Reason::ConditionNotMet {
                operator,
                key,
                policy_values,
                request_values,
                problem,
            } => Reason::ConditionNotMet {
                operator,
                key,
                policy_values,
                request_values,
                problem,
            },
        }
    }
}

/// What one statement did for the request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "wasm", derive(tsify::Tsify))]
#[serde(rename_all = "camelCase")]
pub struct StatementExplanation {
    /// The statement.
    #[serde(flatten)]
    pub statement: StatementRef,
    /// Whether it applies to the request.
    pub applies: bool,
    /// When it does not apply, the first reason.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<Reason>,
    /// The reason in words.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

impl From<explain::StatementExplanation> for StatementExplanation {
    fn from(s: explain::StatementExplanation) -> Self {
        // `order` is the engine's own bookkeeping, never serialized.
        let explain::StatementExplanation {
            statement,
            applies,
            reason,
            message,
            ..
        } = s;
        StatementExplanation {
            statement: statement.into(),
            applies,
            reason: reason.map(Reason::from),
            message,
        }
    }
}

/// A decision with its reasons.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "wasm", derive(tsify::Tsify))]
#[serde(rename_all = "camelCase")]
pub struct Explanation {
    /// The decision.
    pub decision: Decision,
    /// One sentence.
    pub summary: String,
    /// The statements that decided: the applicable denies for `ExplicitDeny`, the allows that
    /// granted access for `Allow`, none for `ImplicitDeny`.
    pub deciding: Vec<StatementRef>,
    /// The evaluation steps taken, in order.
    pub steps: Vec<Step>,
    /// Every statement evaluated, in evaluation order.
    pub statements: Vec<StatementExplanation>,
}

fn all<A, B: From<A>>(items: Vec<A>) -> Vec<B> {
    items.into_iter().map(B::from).collect()
}

impl From<explain::Explanation> for Explanation {
    fn from(e: explain::Explanation) -> Self {
        let explain::Explanation {
            decision,
            summary,
            deciding,
            steps,
            statements,
        } = e;
        Explanation {
            decision,
            summary,
            deciding: all(deciding),
            steps,
            statements: all(statements),
        }
    }
}

/// A decision and the statements that decided it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "wasm", derive(tsify::Tsify))]
#[serde(rename_all = "camelCase")]
pub struct Verdict {
    /// The decision.
    pub decision: Decision,
    /// The applicable denies for `ExplicitDeny`, the allows that granted access for `Allow`.
    pub deciding: Vec<StatementRef>,
}

impl From<crate::eval::Verdict> for Verdict {
    fn from(v: crate::eval::Verdict) -> Self {
        let crate::eval::Verdict { decision, deciding } = v;
        Verdict {
            decision,
            deciding: all(deciding),
        }
    }
}

/// One request whose answer changed between two versions of a policy.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "wasm", derive(tsify::Tsify))]
#[serde(rename_all = "camelCase")]
pub struct Change {
    /// The action, `service:Name`.
    pub action: String,
    /// The resource probed.
    pub resource: String,
    /// The condition keys the probe set (none: the request without them).
    pub context: Vec<(String, String)>,
    /// The answer under the old version.
    pub before: Decision,
    /// The answer under the new version.
    pub after: Decision,
    /// The statements responsible: the new version's allows for a grant, its denies for an explicit
    /// revocation, or the old version's allows that no longer grant.
    pub because: Vec<StatementRef>,
}

impl From<crate::diff::Change> for Change {
    fn from(c: crate::diff::Change) -> Self {
        let crate::diff::Change {
            action,
            resource,
            context,
            before,
            after,
            because,
        } = c;
        Change {
            action,
            resource,
            context,
            before,
            after,
            because: all(because),
        }
    }
}

/// What changed between two versions of a policy.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "wasm", derive(tsify::Tsify))]
#[serde(rename_all = "camelCase")]
pub struct PolicyDiff {
    /// Requests the new version allows and the old did not.
    pub granted: Vec<Change>,
    /// Requests the old version allowed and the new does not.
    pub revoked: Vec<Change>,
    /// How many requests were decided under each version.
    pub probes: usize,
}

impl From<crate::diff::PolicyDiff> for PolicyDiff {
    fn from(d: crate::diff::PolicyDiff) -> Self {
        let crate::diff::PolicyDiff {
            granted,
            revoked,
            probes,
        } = d;
        PolicyDiff {
            granted: all(granted),
            revoked: all(revoked),
            probes,
        }
    }
}

/// What running a simulation case produced.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "wasm", derive(tsify::Tsify))]
#[serde(rename_all = "camelCase")]
pub struct CaseResult {
    /// The case's id.
    pub id: String,
    /// The decision, unless the case could not be evaluated.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "wasm", tsify(optional))]
    pub decision: Option<Decision>,
    /// The explanation of the decision.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "wasm", tsify(optional))]
    pub explanation: Option<Explanation>,
    /// Why the case could not be evaluated.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "wasm", tsify(optional))]
    pub error: Option<String>,
}

impl From<crate::simulate::CaseResult> for CaseResult {
    fn from(r: crate::simulate::CaseResult) -> Self {
        let crate::simulate::CaseResult {
            id,
            decision,
            explanation,
            error,
        } = r;
        CaseResult {
            id,
            decision,
            explanation: explanation.map(Explanation::from),
            error,
        }
    }
}

/// What a password is checked against beyond its policy.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[cfg_attr(feature = "wasm", derive(tsify::Tsify))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PasswordContext {
    /// The user's previous passwords, most recent first (only the last `PasswordReusePrevention`
    /// count).
    #[serde(default)]
    #[cfg_attr(feature = "wasm", tsify(optional))]
    pub previous: Vec<String>,
    /// The account's name and email address (the default policy forbids both as passwords).
    #[serde(default)]
    #[cfg_attr(feature = "wasm", tsify(optional))]
    pub account_names: Vec<String>,
}

impl From<PasswordContext> for crate::password::PasswordContext {
    fn from(c: PasswordContext) -> Self {
        let PasswordContext {
            previous,
            account_names,
        } = c;
        crate::password::PasswordContext {
            previous,
            account_names,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::simulate::{parse_cases, run_case};

    /// Every object key of `v` (outside policy documents and context maps, which hold the caller's
    /// own keys).
    fn keys(v: &serde_json::Value, out: &mut Vec<String>) {
        match v {
            serde_json::Value::Object(o) => {
                for (k, v) in o {
                    out.push(k.clone());
                    if k != "document" && k != "context" {
                        keys(v, out);
                    }
                }
            }
            serde_json::Value::Array(a) => a.iter().for_each(|v| keys(v, out)),
            _ => {}
        }
    }

    #[test]
    fn fields_are_camel_case_and_values_unchanged() {
        let cases = parse_cases(
            r#"[{"id":"c","identity_policies":[{"Version":"2012-10-17","Statement":[
                {"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/${aws:username}/*"},
                {"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{"StringEquals":{"aws:PrincipalTag/team":"red"}}},
                {"Effect":"Deny","Action":"s3:PutObject","Resource":"*"}]}],
              "resource_policy":{"Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::444455556666:root"},
                "Action":"s3:GetObject","Resource":"*"}},
              "request":{"principal":"arn:aws:iam::111122223333:role/r","action":"s3:GetObject",
                "resource":"arn:aws:s3:::b/k","context":{"aws:PrincipalTag/team":"blue"}}}]"#,
        )
        .unwrap();
        let native = run_case(&cases[0]);
        let js = serde_json::to_value(CaseResult::from(native.clone())).unwrap();
        let mut found = Vec::new();
        keys(&js, &mut found);
        assert!(found.iter().all(|k| !k.contains('_')), "{found:?}");
        for k in [
            "policyType",
            "requestValues",
            "policyValues",
            "unresolvedVariables",
            "policyPrincipals",
        ] {
            assert!(found.iter().any(|f| f == k), "{k} in {found:?}");
        }
        // The same data as the engine's own serialization, only the field names differ.
        let native = serde_json::to_string(&native).unwrap();
        let renamed = [
            ("policy_type", "policyType"),
            ("request_values", "requestValues"),
            ("policy_values", "policyValues"),
            ("unresolved_variables", "unresolvedVariables"),
            ("policy_principals", "policyPrincipals"),
        ]
        .into_iter()
        .fold(native, |text, (from, to)| text.replace(from, to));
        assert_eq!(
            js,
            serde_json::from_str::<serde_json::Value>(&renamed).unwrap()
        );
        let kinds: Vec<&str> = js["explanation"]["statements"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|s| s["reason"]["kind"].as_str())
            .collect();
        assert_eq!(
            kinds,
            [
                "principal_not_matched",
                "resource_not_matched",
                "condition_not_met",
                "action_not_matched"
            ]
        );
    }

    #[test]
    fn inputs_read_camel_case_only() {
        let input: PolicyInput = serde_json::from_str(
            r#"{"policyType":"scp","level":1,"document":{"Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}}"#,
        )
        .unwrap();
        let set = super::super::compile_policy_set(&[input.clone().into()]).unwrap();
        assert_eq!(set.statement_count(), 1);
        assert_eq!(
            PolicyInput::from(super::super::PolicyInput::from(input.clone())),
            input
        );
        assert!(
            serde_json::from_str::<PolicyInput>(r#"{"policy_type":"scp","document":"{}"}"#)
                .is_err()
        );

        let request: RequestInput = serde_json::from_str(
            r#"{"principal":"arn:aws:iam::111122223333:user/a","action":"s3:GetObject","resource":"arn:aws:s3:::b/k",
                "resourceAccount":"111122223333","sessionIssuer":"arn:aws:iam::111122223333:user/a","context":{"aws:SourceIp":"203.0.113.1"}}"#,
        )
        .unwrap();
        let case_request = CaseRequest::from(request.clone());
        assert_eq!(
            case_request.resource_account.as_deref(),
            Some("111122223333")
        );
        assert_eq!(
            serde_json::to_value(RequestInput::from(case_request)).unwrap(),
            serde_json::to_value(&request).unwrap()
        );
        assert!(request.compile().is_ok());
        assert!(serde_json::from_str::<RequestInput>(
            r#"{"principal":"a","action":"s3:GetObject","resource":"*","resource_account":"111122223333"}"#
        )
        .is_err());

        let context: PasswordContext =
            serde_json::from_str(r#"{"previous":["a"],"accountNames":["acme"]}"#).unwrap();
        assert_eq!(
            crate::password::PasswordContext::from(context).account_names,
            ["acme"]
        );
    }
}
