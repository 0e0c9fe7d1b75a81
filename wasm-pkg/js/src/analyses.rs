//! The account analyses of `iamlet_reports` for JavaScript: privilege-escalation paths over an
//! account export, and IAM Access Analyzer's custom policy checks. Results keep the CLI's JSON
//! shapes (`iamlet report escalation --format json`, AWS's `Check…Response`).

use super::{error, from_js, to_js};
use iamlet_account::export::{parse_export, AccountDetails};
use iamlet_account::organization::Organization;
use iamlet_engine::catalog::Catalog;
use iamlet_reports::checks::{self, AccessCheckPolicyType, ResourceType};
use iamlet_reports::escalation::{self, Options, Target};
use serde::Deserialize;
use wasm_bindgen::prelude::*;

#[wasm_bindgen(typescript_custom_section)]
const ANALYSIS_TYPES: &str = r#"
/** One step of an escalation path: who acts, the action on which resource, the statement that
 * allows it, what it gains, and what must hold that the account cannot show. */
export interface EscalationStep {
  principal: string;
  action: string;
  resource: string;
  statement: string;
  gains: string;
  if?: string[];
}

/** A principal that can reach the target: already, or by each path (shortest first). */
export interface EscalationFinding {
  principal: string;
  already: boolean;
  paths: EscalationStep[][];
}

/** Options of `escalationPaths`. */
export interface EscalationOptions {
  /** The organization file (SCPs, RCPs, resource-based policies): a document or its JSON text. */
  organization?: object | string;
  /** Only this principal (a user or role ARN). */
  principal?: string;
  /** `["admin"]` (the default) or actions, each `service:Action` or `service:Action=RESOURCE-ARN`. */
  target?: string[];
  /** Paths kept per principal (default 5). */
  maxPaths?: number;
}

/** Why a check failed: a statement, by index and Sid. */
export interface ReasonSummary {
  description: string;
  statementIndex?: number;
  statementId?: string;
}

/** IAM Access Analyzer's answer to a custom policy check. */
export interface CheckResponse {
  result: "PASS" | "FAIL";
  message: string;
  reasons: ReasonSummary[];
}

/** `IDENTITY_POLICY` or `RESOURCE_POLICY` (trust policies are resource policies). */
export type AccessCheckPolicyType = "IDENTITY_POLICY" | "RESOURCE_POLICY";

/** What `checkAccessNotGranted` must not find granted. */
export interface AccessCheck {
  actions?: string[];
  resources?: string[];
}
"#;

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct EscalationOptions {
    #[serde(default)]
    organization: Option<serde_json::Value>,
    #[serde(default)]
    principal: Option<String>,
    #[serde(default)]
    target: Vec<String>,
    #[serde(default)]
    max_paths: Option<usize>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct AccessCheck {
    #[serde(default)]
    actions: Vec<String>,
    #[serde(default)]
    resources: Vec<String>,
}

/// A document given as JSON text or as an object, as text.
fn text_of(value: &serde_json::Value) -> Result<String, JsError> {
    match value {
        serde_json::Value::String(s) => Ok(s.clone()),
        other => serde_json::to_string(other).map_err(error),
    }
}

fn policy_type(value: JsValue) -> Result<AccessCheckPolicyType, JsError> {
    if value.is_undefined() || value.is_null() {
        return Ok(AccessCheckPolicyType::Identity);
    }
    let s: String = from_js(value)?;
    s.parse().map_err(error)
}

/// Every principal of an account export (the JSON of `aws iam get-account-authorization-details`,
/// as text or object) that can reach the target — full administrator unless `options.target` says
/// otherwise — with its paths, shortest first. Throws for an export that does not compile, naming
/// the entity and JSON path.
#[wasm_bindgen(js_name = escalationPaths, unchecked_return_type = "EscalationFinding[]")]
pub fn escalation_paths(
    #[wasm_bindgen(js_name = "exportJson", unchecked_param_type = "object | string")]
    export_json: JsValue,
    #[wasm_bindgen(unchecked_optional_param_type = "EscalationOptions")] options: Option<
        js_sys::Object,
    >,
) -> Result<JsValue, JsError> {
    let export: serde_json::Value = from_js(export_json)?;
    let details: AccountDetails = parse_export("export", &text_of(&export)?).map_err(error)?;
    let options: EscalationOptions = match options {
        Some(o) => from_js(o.into())?,
        None => EscalationOptions::default(),
    };
    let org = match &options.organization {
        Some(o) => Some(Organization::parse("organization", &text_of(o)?).map_err(error)?),
        None => None,
    };
    let opts = Options {
        principal: options.principal,
        target: Target::parse(&options.target).map_err(error)?,
        max_paths: options.max_paths.unwrap_or(5).max(1),
        ..Options::default()
    };
    let findings = escalation::analyze(&[("export".to_owned(), details)], org.as_ref(), &opts)
        .map_err(error)?;
    to_js(&findings)
}

/// CheckNoPublicAccess: does the resource policy grant public access for the resource type
/// (`AWS::S3::Bucket`, `AWS::KMS::Key`, …)? Throws for an unknown type or an invalid policy.
#[wasm_bindgen(js_name = checkNoPublicAccess, unchecked_return_type = "CheckResponse")]
pub fn check_no_public_access(
    #[wasm_bindgen(js_name = "policyText")] policy_text: &str,
    #[wasm_bindgen(js_name = "resourceType")] resource_type: &str,
) -> Result<JsValue, JsError> {
    let ty: ResourceType = resource_type.parse().map_err(error)?;
    to_js(&checks::no_public_access(policy_text, ty).map_err(error)?)
}

/// CheckAccessNotGranted: does the policy grant one of the actions (on one of the resources)?
#[wasm_bindgen(js_name = checkAccessNotGranted, unchecked_return_type = "CheckResponse")]
pub fn check_access_not_granted(
    #[wasm_bindgen(js_name = "policyText")] policy_text: &str,
    #[wasm_bindgen(unchecked_param_type = "AccessCheck")] access: JsValue,
    #[wasm_bindgen(
        js_name = "policyType",
        unchecked_param_type = "AccessCheckPolicyType | undefined"
    )]
    policy_type_value: JsValue,
) -> Result<JsValue, JsError> {
    let access: AccessCheck = from_js(access)?;
    let ty = policy_type(policy_type_value)?;
    to_js(
        &checks::access_not_granted(policy_text, ty, &access.actions, &access.resources)
            .map_err(error)?,
    )
}

/// CheckNoNewAccess: does the new version allow anything the existing one did not?
#[wasm_bindgen(js_name = checkNoNewAccess, unchecked_return_type = "CheckResponse")]
pub fn check_no_new_access(
    #[wasm_bindgen(js_name = "existingText")] existing_text: &str,
    #[wasm_bindgen(js_name = "newText")] new_text: &str,
    #[wasm_bindgen(
        js_name = "policyType",
        unchecked_param_type = "AccessCheckPolicyType | undefined"
    )]
    policy_type_value: JsValue,
) -> Result<JsValue, JsError> {
    let ty = policy_type(policy_type_value)?;
    to_js(&checks::no_new_access(existing_text, new_text, ty, Catalog::embedded()).map_err(error)?)
}
