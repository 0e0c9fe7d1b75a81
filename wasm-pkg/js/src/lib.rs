//! The engine for JavaScript (wasm-bindgen). A thin shell over `iamlet_engine::ffi`: the types are the
//! engine's serde types in their JavaScript view (`ffi::js`: camelCase fields), with TypeScript
//! declarations derived by tsify.

#![forbid(unsafe_code)]

mod analyses;
mod request;

use iamlet_engine::catalog::{ActionSummary, Catalog};
use iamlet_engine::ffi::js::{
    CaseResult, Explanation, PasswordContext, PolicyDiff, PolicyInput, RequestInput, Verdict,
};
use iamlet_engine::ffi::{self, PolicyProblem};
use iamlet_engine::lint::Finding;
use iamlet_engine::password::{PasswordPolicy, PasswordProblem};
use iamlet_engine::simulate::Case;
use iamlet_engine::{Decision, Policy, PolicyType};
use serde::de::DeserializeOwned;
use serde::Serialize;
use wasm_bindgen::prelude::*;

// Small blocks from per-size-class free lists (a third of a decision's allocation cost in dlmalloc).
#[cfg(target_arch = "wasm32")]
#[global_allocator]
static ALLOCATOR: iamlet_wasm_alloc::SizeClasses = iamlet_wasm_alloc::SizeClasses::new();

#[wasm_bindgen(typescript_custom_section)]
const POLICY_TYPES: &str = r#"
/** An IAM policy document. */
export interface PolicyDocument {
  Version?: "2012-10-17" | "2008-10-17";
  Id?: string;
  Statement: PolicyStatement | PolicyStatement[];
}

/** One statement of a policy document. */
export interface PolicyStatement {
  Sid?: string;
  Effect: "Allow" | "Deny";
  Principal?: PrincipalValue;
  NotPrincipal?: PrincipalValue;
  Action?: string | string[];
  NotAction?: string | string[];
  Resource?: string | string[];
  NotResource?: string | string[];
  Condition?: Record<string, Record<string, ConditionValue | ConditionValue[]>>;
}

/** `"*"`, or principals by kind. */
export type PrincipalValue =
  | "*"
  | { AWS?: string | string[]; Service?: string | string[]; Federated?: string | string[]; CanonicalUser?: string | string[] };

/** A value in a condition block. */
export type ConditionValue = string | number | boolean;

/** A condition key's value in a request: one value, or an array for a multivalued key. */
export type ContextValueInput = ConditionValue | ConditionValue[];

/** A policy in a simulation case: a document, its JSON text, or a named document. */
export type PolicyInputDocument = PolicyDocument | string | { name: string; document: PolicyDocument | string };
"#;

/// A failure crossing into JavaScript: an `Error` whose message lists every problem.
fn error(message: impl std::fmt::Display) -> JsError {
    JsError::new(&message.to_string())
}

/// Reads a JavaScript value as `T`, refusing fields `T` does not have. `serde_wasm_bindgen` reads only
/// the fields a struct names and never sees the others, so `deny_unknown_fields` alone would let a
/// misspelt field, or one under its snake_case name (`resource_account`), pass unnoticed; going
/// through a JSON value lets serde see every key.
fn from_js<T: DeserializeOwned>(value: JsValue) -> Result<T, JsError> {
    let json: serde_json::Value = serde_wasm_bindgen::from_value(value).map_err(error)?;
    serde_json::from_value(json).map_err(error)
}

/// The decisions' names as serde writes them, in the enum's order.
const DECISION_NAMES: [&str; 3] = ["Allow", "ExplicitDeny", "ImplicitDeny"];

/// A decision as JavaScript's string, each made once per thread: decoding a new string from the
/// module's memory on every `evaluate` cost more than some decisions.
fn decision_js(decision: Decision) -> JsValue {
    thread_local! {
        static NAMES: [JsValue; 3] = DECISION_NAMES.map(JsValue::from_str);
    }
    NAMES.with(|names| names[decision as usize].clone())
}

fn to_js<T: Serialize>(value: &T) -> Result<JsValue, JsError> {
    value
        .serialize(&serde_wasm_bindgen::Serializer::new().serialize_maps_as_objects(true))
        .map_err(error)
}

/// A compiled set of policies: build it once, decide many requests.
#[wasm_bindgen]
#[derive(Debug)]
pub struct PolicySet {
    inner: iamlet_engine::PolicySet,
    /// The context keys the set's statements read, lower-cased, as a JavaScript `Set`: a request's
    /// other keys cannot change a decision or what decided it, so `evaluate` and `decide` leave them
    /// in JavaScript (`request::read`). `null` when a key read is not ASCII: JavaScript's lower case
    /// and the engine's are the same Unicode mapping, but only for ASCII is that beyond doubt.
    reads: JsValue,
}

#[wasm_bindgen]
impl PolicySet {
    /// Compiles policies. Throws an `Error` listing every problem (with JSON path and line:column)
    /// when one does not parse; use `validate` to get the problems as data.
    #[wasm_bindgen(constructor)]
    pub fn new(
        #[wasm_bindgen(unchecked_param_type = "PolicyInput[]")] policies: JsValue,
    ) -> Result<PolicySet, JsError> {
        let inputs: Vec<PolicyInput> = from_js(policies)?;
        let inputs: Vec<ffi::PolicyInput> = inputs.into_iter().map(Into::into).collect();
        ffi::compile_policy_set(&inputs)
            .map(|inner| {
                let read = inner.context_reads();
                let reads = if read.keys().all(|k| k.is_ascii()) {
                    let reads = js_sys::Set::new(&JsValue::UNDEFINED);
                    for key in read.keys() {
                        reads.add(&JsValue::from_str(key));
                    }
                    reads.into()
                } else {
                    JsValue::NULL
                };
                PolicySet { inner, reads }
            })
            .map_err(|problems| {
                error(
                    problems
                        .iter()
                        .map(|p| format!("{}: {}", p.policy, p.display))
                        .collect::<Vec<_>>()
                        .join("\n"),
                )
            })
    }

    /// The decision for a request.
    #[wasm_bindgen(unchecked_return_type = "Decision")]
    pub fn evaluate(
        &self,
        #[wasm_bindgen(unchecked_param_type = "RequestInput")] request: JsValue,
    ) -> Result<JsValue, JsError> {
        let decision = self.inner.evaluate(&request::read(request, &self.reads)?);
        Ok(decision_js(decision))
    }

    /// The decision and the statements that decided it.
    #[wasm_bindgen(unchecked_return_type = "Verdict")]
    pub fn decide(
        &self,
        #[wasm_bindgen(unchecked_param_type = "RequestInput")] request: JsValue,
    ) -> Result<JsValue, JsError> {
        let verdict: Verdict = self
            .inner
            .decide(&request::read(request, &self.reads)?)
            .into();
        to_js(&verdict)
    }

    /// The decision with its full explanation.
    #[wasm_bindgen(unchecked_return_type = "Explanation")]
    pub fn explain(
        &self,
        #[wasm_bindgen(unchecked_param_type = "RequestInput")] request: JsValue,
    ) -> Result<JsValue, JsError> {
        let explanation: Explanation = self
            .inner
            .explain(&request::read(request, &JsValue::NULL)?)
            .into();
        to_js(&explanation)
    }

    /// The number of statements in the set.
    #[wasm_bindgen(getter, js_name = statementCount)]
    pub fn statement_count(&self) -> usize {
        self.inner.statement_count()
    }
}

/// Checks one policy: every problem found (empty when valid), never throws for a bad policy.
#[wasm_bindgen(unchecked_return_type = "PolicyProblem[]")]
pub fn validate(
    #[wasm_bindgen(unchecked_param_type = "PolicyInput")] policy: JsValue,
) -> Result<JsValue, JsError> {
    let policy: PolicyInput = from_js(policy)?;
    let problems: Vec<PolicyProblem> = ffi::validate(&policy.into());
    to_js(&problems)
}

/// Runs simulation cases (the `iamlet simulate` file format, with its snake_case keys): an array of
/// cases, or its JSON text.
#[wasm_bindgen(unchecked_return_type = "CaseResult[]")]
pub fn simulate(
    #[wasm_bindgen(unchecked_param_type = "Case[] | string")] cases: JsValue,
) -> Result<JsValue, JsError> {
    let cases: Vec<Case> = match cases.as_string() {
        Some(text) => iamlet_engine::simulate::parse_cases(&text).map_err(error)?,
        None => from_js(cases)?,
    };
    let results: Vec<CaseResult> = cases
        .iter()
        .map(|c| iamlet_engine::simulate::run_case(c).into())
        .collect();
    to_js(&results)
}

/// The policies of a simulation case as `PolicySet` inputs, named after where they sit in the case.
#[wasm_bindgen(js_name = casePolicyInputs, unchecked_return_type = "PolicyInput[]")]
pub fn case_policy_inputs(
    #[wasm_bindgen(js_name = "simulationCase", unchecked_param_type = "Case")] case: JsValue,
) -> Result<JsValue, JsError> {
    let case: Case = from_js(case)?;
    let inputs: Vec<PolicyInput> = iamlet_engine::simulate::case_policy_inputs(&case)
        .into_iter()
        .map(Into::into)
        .collect();
    to_js(&inputs)
}

/// The request of a simulation case as `PolicySet` takes it (the case's file format renamed to
/// `RequestInput`'s camelCase fields).
#[wasm_bindgen(js_name = caseRequest, unchecked_return_type = "RequestInput")]
pub fn case_request(
    #[wasm_bindgen(js_name = "simulationCase", unchecked_param_type = "Case")] case: JsValue,
) -> Result<JsValue, JsError> {
    let case: Case = from_js(case)?;
    to_js(&RequestInput::from(case.request))
}

fn policy_type(value: JsValue) -> Result<PolicyType, JsError> {
    serde_wasm_bindgen::from_value(value).map_err(error)
}

/// Policy validation findings (the `iamlet lint` checks: grammar errors, unknown actions and
/// condition keys, security warnings, size quotas, suggestions), each with its JSON path,
/// line:column and a fix where there is one. Never throws for a bad policy: grammar errors are
/// findings.
#[wasm_bindgen(unchecked_return_type = "Finding[]")]
pub fn lint(
    text: &str,
    #[wasm_bindgen(js_name = "policyType", unchecked_param_type = "PolicyType")]
    policy_type_value: JsValue,
) -> Result<JsValue, JsError> {
    let findings: Vec<Finding> = iamlet_engine::lint::lint(text, policy_type(policy_type_value)?);
    to_js(&findings)
}

/// What a change to a policy grants and revokes (the `iamlet diff` comparison) for `principal`.
/// Throws when either version does not parse (use `validate` or `lint` for the problems as data).
#[wasm_bindgen(unchecked_return_type = "PolicyDiff")]
pub fn diff(
    #[wasm_bindgen(js_name = "oldText")] old_text: &str,
    #[wasm_bindgen(js_name = "newText")] new_text: &str,
    principal: &str,
    #[wasm_bindgen(js_name = "policyType", unchecked_param_type = "PolicyType")]
    policy_type_value: JsValue,
) -> Result<JsValue, JsError> {
    let t = policy_type(policy_type_value)?;
    let old = Policy::parse_named("old", old_text, t).map_err(error)?;
    let new = Policy::parse_named("new", new_text, t).map_err(error)?;
    let d: PolicyDiff = iamlet_engine::diff::diff(&old, &new, principal, Catalog::embedded())
        .map_err(error)?
        .into();
    to_js(&d)
}

/// The catalog's actions an action pattern (`s3:Get*`, `iam:PassRole`) matches, each with its access
/// level; empty when none does.
#[wasm_bindgen(js_name = expandActions, unchecked_return_type = "ActionSummary[]")]
pub fn expand_actions(pattern: &str) -> Result<JsValue, JsError> {
    let actions: Vec<ActionSummary> = Catalog::embedded().actions_matching(pattern);
    to_js(&actions)
}

/// Checks a password against an account password policy (`null` for AWS's default policy): every
/// rule it breaks, empty when it is acceptable. Throws for a policy outside AWS's ranges.
#[wasm_bindgen(js_name = checkPassword, unchecked_return_type = "PasswordProblem[]")]
pub fn check_password(
    #[wasm_bindgen(unchecked_param_type = "PasswordPolicy | null")] policy: JsValue,
    password: &str,
    #[wasm_bindgen(unchecked_param_type = "PasswordContext")] context: JsValue,
) -> Result<JsValue, JsError> {
    let policy: Option<PasswordPolicy> = from_js(policy)?;
    if let Some(p) = &policy {
        p.validate().map_err(error)?;
    }
    let context: PasswordContext = from_js(context)?;
    let problems: Vec<PasswordProblem> =
        iamlet_engine::password::check(policy.as_ref(), password, &context.into());
    to_js(&problems)
}

/// The engine's version.
#[wasm_bindgen]
pub fn version() -> String {
    ffi::version().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decision_names_are_serde_s() {
        for d in [
            Decision::Allow,
            Decision::ExplicitDeny,
            Decision::ImplicitDeny,
        ] {
            assert_eq!(
                serde_json::to_value(d).unwrap(),
                serde_json::Value::from(DECISION_NAMES[d as usize])
            );
        }
    }
}
