//! The engine for JavaScript (wasm-bindgen). A thin shell over `iamlet_engine::ffi`: the types are the
//! engine's own serde types, with TypeScript declarations derived by tsify.

#![forbid(unsafe_code)]

use iamlet_engine::catalog::{AccessLevel, Catalog};
use iamlet_engine::diff::PolicyDiff;
use iamlet_engine::ffi::{self, PolicyInput, PolicyProblem};
use iamlet_engine::lint::Finding;
use iamlet_engine::password::{PasswordContext, PasswordPolicy, PasswordProblem};
use iamlet_engine::simulate::{Case, CaseRequest, CaseResult};
use iamlet_engine::{Decision, Explanation, Policy, PolicyType, Verdict};
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
}

#[wasm_bindgen]
impl PolicySet {
    /// Compiles policies. Throws an `Error` listing every problem (with JSON path and line:column)
    /// when one does not parse; use `validate` to get the problems as data.
    #[wasm_bindgen(constructor)]
    pub fn new(
        #[wasm_bindgen(unchecked_param_type = "PolicyInput[]")] policies: JsValue,
    ) -> Result<PolicySet, JsError> {
        let inputs: Vec<PolicyInput> = serde_wasm_bindgen::from_value(policies).map_err(error)?;
        ffi::compile_policy_set(&inputs)
            .map(|inner| PolicySet { inner })
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
        #[wasm_bindgen(unchecked_param_type = "CaseRequest")] request: JsValue,
    ) -> Result<JsValue, JsError> {
        let decision: Decision = self.inner.evaluate(&request_from(request)?);
        to_js(&decision)
    }

    /// The decision and the statements that decided it.
    #[wasm_bindgen(unchecked_return_type = "Verdict")]
    pub fn decide(
        &self,
        #[wasm_bindgen(unchecked_param_type = "CaseRequest")] request: JsValue,
    ) -> Result<JsValue, JsError> {
        let verdict: Verdict = self.inner.decide(&request_from(request)?);
        to_js(&verdict)
    }

    /// The decision with its full explanation.
    #[wasm_bindgen(unchecked_return_type = "Explanation")]
    pub fn explain(
        &self,
        #[wasm_bindgen(unchecked_param_type = "CaseRequest")] request: JsValue,
    ) -> Result<JsValue, JsError> {
        let explanation: Explanation = self.inner.explain(&request_from(request)?);
        to_js(&explanation)
    }

    /// The number of statements in the set.
    #[wasm_bindgen(getter, js_name = statementCount)]
    pub fn statement_count(&self) -> usize {
        self.inner.statement_count()
    }
}

fn request_from(request: JsValue) -> Result<iamlet_engine::Request, JsError> {
    let request: CaseRequest = serde_wasm_bindgen::from_value(request).map_err(error)?;
    ffi::compile_request(&request).map_err(error)
}

/// Checks one policy: every problem found (empty when valid), never throws for a bad policy.
#[wasm_bindgen(unchecked_return_type = "PolicyProblem[]")]
pub fn validate(
    #[wasm_bindgen(unchecked_param_type = "PolicyInput")] policy: JsValue,
) -> Result<JsValue, JsError> {
    let policy: PolicyInput = serde_wasm_bindgen::from_value(policy).map_err(error)?;
    let problems: Vec<PolicyProblem> = ffi::validate(&policy);
    to_js(&problems)
}

/// Runs simulation cases (the `iamlet simulate` format): an array of cases, or its JSON text.
#[wasm_bindgen(unchecked_return_type = "CaseResult[]")]
pub fn simulate(
    #[wasm_bindgen(unchecked_param_type = "Case[] | string")] cases: JsValue,
) -> Result<JsValue, JsError> {
    let cases: Vec<Case> = match cases.as_string() {
        Some(text) => iamlet_engine::simulate::parse_cases(&text).map_err(error)?,
        None => serde_wasm_bindgen::from_value(cases).map_err(error)?,
    };
    let results: Vec<CaseResult> = cases
        .iter()
        .map(iamlet_engine::simulate::run_case)
        .collect();
    to_js(&results)
}

/// The policies of a simulation case as `PolicySet` inputs, named after where they sit in the case.
#[wasm_bindgen(js_name = casePolicyInputs, unchecked_return_type = "PolicyInput[]")]
pub fn case_policy_inputs(
    #[wasm_bindgen(unchecked_param_type = "Case")] case: JsValue,
) -> Result<JsValue, JsError> {
    let case: Case = serde_wasm_bindgen::from_value(case).map_err(error)?;
    to_js(&iamlet_engine::simulate::case_policy_inputs(&case))
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
    #[wasm_bindgen(unchecked_param_type = "PolicyType")] policy_type_value: JsValue,
) -> Result<JsValue, JsError> {
    let findings: Vec<Finding> = iamlet_engine::lint::lint(text, policy_type(policy_type_value)?);
    to_js(&findings)
}

/// What a change to a policy grants and revokes (the `iamlet diff` comparison) for `principal`.
/// Throws when either version does not parse (use `validate` or `lint` for the problems as data).
#[wasm_bindgen(unchecked_return_type = "PolicyDiff")]
pub fn diff(
    old_text: &str,
    new_text: &str,
    principal: &str,
    #[wasm_bindgen(unchecked_param_type = "PolicyType")] policy_type_value: JsValue,
) -> Result<JsValue, JsError> {
    let t = policy_type(policy_type_value)?;
    let old = Policy::parse_named("old", old_text, t).map_err(error)?;
    let new = Policy::parse_named("new", new_text, t).map_err(error)?;
    let d: PolicyDiff =
        iamlet_engine::diff::diff(&old, &new, principal, Catalog::embedded()).map_err(error)?;
    to_js(&d)
}

/// An action of the catalog with its access level.
#[derive(Debug, Serialize, tsify::Tsify)]
pub struct CatalogAction {
    /// `service:Name`.
    pub action: String,
    /// The access level (the catalog has one for every action it expands to).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[tsify(optional)]
    pub level: Option<AccessLevel>,
}

/// The catalog's actions an action pattern (`s3:Get*`, `iam:PassRole`) matches, each with its access
/// level; empty when none does.
#[wasm_bindgen(js_name = expandActions, unchecked_return_type = "CatalogAction[]")]
pub fn expand_actions(pattern: &str) -> Result<JsValue, JsError> {
    let catalog = Catalog::embedded();
    let actions: Vec<CatalogAction> = catalog
        .expand(pattern)
        .into_iter()
        .map(|action| {
            let level = action
                .split_once(':')
                .and_then(|(svc, name)| catalog.service(svc)?.action(name))
                .map(|a| a.level());
            CatalogAction { action, level }
        })
        .collect();
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
    let policy: Option<PasswordPolicy> = serde_wasm_bindgen::from_value(policy).map_err(error)?;
    if let Some(p) = &policy {
        p.validate().map_err(error)?;
    }
    let context: PasswordContext = serde_wasm_bindgen::from_value(context).map_err(error)?;
    let problems: Vec<PasswordProblem> =
        iamlet_engine::password::check(policy.as_ref(), password, &context);
    to_js(&problems)
}

/// The engine's version.
#[wasm_bindgen]
pub fn version() -> String {
    ffi::version().to_owned()
}
