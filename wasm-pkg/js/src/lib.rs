//! The engine for JavaScript (wasm-bindgen). A thin shell over `iamlet_engine::ffi`: the types are the
//! engine's serde types in their JavaScript view (`ffi::js`: camelCase fields), with TypeScript
//! declarations derived by tsify.

#![forbid(unsafe_code)]

mod analyses;

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

fn to_js<T: Serialize>(value: &T) -> Result<JsValue, JsError> {
    value
        .serialize(&serde_wasm_bindgen::Serializer::new().serialize_maps_as_objects(true))
        .map_err(error)
}

// Runs in JavaScript, one call per request: each key left out there is a string never copied into
// the engine and a value never converted (about a microsecond a key in Node 20 on the 2-core VM).
#[wasm_bindgen(inline_js = r#"
const scalar = (v) => typeof v === "string" || typeof v === "boolean" || (typeof v === "number" && Number.isFinite(v));
const taken = (v) => scalar(v) || (Array.isArray(v) && v.every(scalar));
const plain = (o) => {
  if (o === null || typeof o !== "object") return false;
  const proto = Object.getPrototypeOf(o);
  return proto === Object.prototype || proto === null;
};
export function unreadKeysLeftOut(request, reads) {
  const context = plain(request) ? request.context : undefined;
  if (!plain(context)) return request;
  const keys = Object.keys(context);
  let kept = null;
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i];
    const value = context[key];
    if (reads.has(key.toLowerCase()) || !taken(value)) {
      if (kept !== null) kept[key] = value;
    } else if (kept === null) {
      kept = {};
      for (let j = 0; j < i; j++) kept[keys[j]] = context[keys[j]];
    }
  }
  return kept === null ? request : { ...request, context: kept };
}
"#)]
extern "C" {
    /// `request` without the context keys whose lower-cased names are not in `reads`; keys whose
    /// value the engine would refuse stay (so it still refuses them, naming them), and a request
    /// or context that is not a plain object is left as it is.
    #[wasm_bindgen(js_name = unreadKeysLeftOut)]
    fn unread_keys_left_out(request: JsValue, reads: &js_sys::Set) -> JsValue;
}

/// A compiled set of policies: build it once, decide many requests.
#[wasm_bindgen]
#[derive(Debug)]
pub struct PolicySet {
    inner: iamlet_engine::PolicySet,
    /// The context keys the set's statements read, lower-cased: a request's other keys cannot
    /// change a decision or what decided it (the sidecar's decision cache rests on the same fact),
    /// so `evaluate` and `decide` leave them in JavaScript. `None` when a key read is not ASCII:
    /// JavaScript's lower case and the engine's are the same Unicode mapping, but only for ASCII is
    /// that beyond doubt.
    reads: Option<js_sys::Set>,
}

impl PolicySet {
    /// Reads a request for `evaluate` and `decide`: only the context keys the set reads.
    fn read_request(&self, request: JsValue) -> Result<iamlet_engine::Request, JsError> {
        request_from(match &self.reads {
            Some(reads) => unread_keys_left_out(request, reads),
            None => request,
        })
    }
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
                let reads = read.keys().all(|k| k.is_ascii()).then(|| {
                    let reads = js_sys::Set::new(&JsValue::UNDEFINED);
                    for key in read.keys() {
                        reads.add(&JsValue::from_str(key));
                    }
                    reads
                });
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
        let decision: Decision = self.inner.evaluate(&self.read_request(request)?);
        to_js(&decision)
    }

    /// The decision and the statements that decided it.
    #[wasm_bindgen(unchecked_return_type = "Verdict")]
    pub fn decide(
        &self,
        #[wasm_bindgen(unchecked_param_type = "RequestInput")] request: JsValue,
    ) -> Result<JsValue, JsError> {
        let verdict: Verdict = self.inner.decide(&self.read_request(request)?).into();
        to_js(&verdict)
    }

    /// The decision with its full explanation.
    #[wasm_bindgen(unchecked_return_type = "Explanation")]
    pub fn explain(
        &self,
        #[wasm_bindgen(unchecked_param_type = "RequestInput")] request: JsValue,
    ) -> Result<JsValue, JsError> {
        let explanation: Explanation = self.inner.explain(&request_from(request)?).into();
        to_js(&explanation)
    }

    /// The number of statements in the set.
    #[wasm_bindgen(getter, js_name = statementCount)]
    pub fn statement_count(&self) -> usize {
        self.inner.statement_count()
    }
}

fn request_from(request: JsValue) -> Result<iamlet_engine::Request, JsError> {
    // Read on every decision, so first the quick way, which only looks up the fields the struct names
    // (see `from_js`). Every key it did not read makes the object's key count exceed the fields read,
    // and only then is the object read again through `from_js`, where serde sees every key and
    // refuses an unknown one (`resource_account`); one call counts the keys, copying no string.
    thread_local! {
        static CONTEXT: JsValue = JsValue::from_str("context");
    }
    let input: RequestInput = serde_wasm_bindgen::from_value(request.clone()).map_err(error)?;
    // An empty context (`context: {}`) was read too: counted, or every such request would be read
    // twice.
    let context = !input.context.is_empty()
        || CONTEXT.with(|k| js_sys::Reflect::has(&request, k).unwrap_or(true));
    let read = 3
        + usize::from(input.resource_account.is_some())
        + usize::from(input.session_issuer.is_some())
        + usize::from(context);
    let keys = js_sys::Object::keys(request.unchecked_ref::<js_sys::Object>()).length();
    let input = if usize::try_from(keys).map_or(true, |k| k > read) {
        from_js::<RequestInput>(request)?
    } else {
        input
    };
    input.compile().map_err(error)
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
