//! IAM Access Analyzer's custom policy checks, offline: [`access_not_granted`]
//! (CheckAccessNotGranted), [`no_public_access`] (CheckNoPublicAccess) and [`no_new_access`]
//! (CheckNoNewAccess), each answering in AWS's response shape ([`CheckResponse`]: `result`,
//! `message`, `reasons` with the statement's index and id), and [`external_access`] — every
//! resource-based and trust policy of an account that grants a principal outside it.
//!
//! Documents are parsed by the engine first (an invalid policy is an error naming the place);
//! `no_new_access` is the engine's [`iamlet_engine::diff`] (the same probes under both versions).

mod external;
mod new_access;
mod public;
mod statement;
#[cfg(test)]
mod tests;

pub use external::{external_access, ExternalFinding};
pub use new_access::no_new_access;

use iamlet_engine::{Policy, PolicyType};
use serde::Serialize;
use statement::{statements, PrincipalEntry, Statement};
use std::fmt;
use std::str::FromStr;

/// `PASS` or `FAIL`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum CheckResult {
    /// The policy does not do what the check looks for.
    Pass,
    /// It might.
    Fail,
}

/// Why: a statement that grants what the check looks for.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReasonSummary {
    /// In words.
    pub description: String,
    /// The statement's index in `Statement`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub statement_index: Option<usize>,
    /// The statement's `Sid`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub statement_id: Option<String>,
}

/// A check's answer, as AWS's `Check…Response`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CheckResponse {
    /// `PASS` or `FAIL`.
    pub result: CheckResult,
    /// AWS's message for the result.
    pub message: String,
    /// The statements responsible (empty on `PASS`).
    pub reasons: Vec<ReasonSummary>,
}

/// AWS's `AccessCheckPolicyType`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AccessCheckPolicyType {
    /// `IDENTITY_POLICY`.
    Identity,
    /// `RESOURCE_POLICY` (trust policies included).
    Resource,
}

impl FromStr for AccessCheckPolicyType {
    type Err = CheckError;
    fn from_str(s: &str) -> Result<Self, CheckError> {
        match s {
            "IDENTITY_POLICY" => Ok(Self::Identity),
            "RESOURCE_POLICY" => Ok(Self::Resource),
            other => Err(CheckError::Validation(format!(
                "policy type `{other}`: expected IDENTITY_POLICY or RESOURCE_POLICY"
            ))),
        }
    }
}

/// AWS's `AccessCheckResourceType`: the resource types CheckNoPublicAccess takes, each with the
/// service whose actions reach it.
pub const RESOURCE_TYPES: &[(&str, &str)] = &[
    ("AWS::DynamoDB::Table", "dynamodb"),
    ("AWS::DynamoDB::Stream", "dynamodb"),
    ("AWS::EFS::FileSystem", "elasticfilesystem"),
    ("AWS::OpenSearchService::Domain", "es"),
    ("AWS::Kinesis::Stream", "kinesis"),
    ("AWS::Kinesis::StreamConsumer", "kinesis"),
    ("AWS::KMS::Key", "kms"),
    ("AWS::Lambda::Function", "lambda"),
    ("AWS::S3::Bucket", "s3"),
    ("AWS::S3::AccessPoint", "s3"),
    ("AWS::S3Express::DirectoryBucket", "s3express"),
    ("AWS::S3::Glacier", "glacier"),
    ("AWS::S3Outposts::Bucket", "s3-outposts"),
    ("AWS::S3Outposts::AccessPoint", "s3-outposts"),
    ("AWS::SecretsManager::Secret", "secretsmanager"),
    ("AWS::SNS::Topic", "sns"),
    ("AWS::SQS::Queue", "sqs"),
    ("AWS::IAM::AssumeRolePolicyDocument", "sts"),
    ("AWS::S3Tables::TableBucket", "s3tables"),
    ("AWS::ApiGateway::RestApi", "execute-api"),
    ("AWS::CodeArtifact::Domain", "codeartifact"),
    ("AWS::Backup::BackupVault", "backup"),
    ("AWS::CloudTrail::Dashboard", "cloudtrail"),
    ("AWS::CloudTrail::EventDataStore", "cloudtrail"),
    ("AWS::S3Tables::Table", "s3tables"),
    ("AWS::S3Express::AccessPoint", "s3express"),
];

/// One of [`RESOURCE_TYPES`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ResourceType {
    name: &'static str,
    service: &'static str,
}

impl ResourceType {
    /// AWS's name (`AWS::S3::Bucket`).
    pub fn name(self) -> &'static str {
        self.name
    }

    /// The service prefix of the actions that reach it (`s3`).
    pub fn service(self) -> &'static str {
        self.service
    }
}

impl FromStr for ResourceType {
    type Err = CheckError;
    fn from_str(s: &str) -> Result<Self, CheckError> {
        RESOURCE_TYPES
            .iter()
            .find(|(n, _)| *n == s)
            .map(|(name, service)| ResourceType { name, service })
            .ok_or_else(|| {
                CheckError::Validation(format!(
                    "resource type `{s}`: expected one of {}",
                    RESOURCE_TYPES
                        .iter()
                        .map(|(n, _)| *n)
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
            })
    }
}

impl fmt::Display for ResourceType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name)
    }
}

/// Why a check could not run: AWS answers these with `ValidationException`.
#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    /// The document is not a valid policy.
    #[error("{0}")]
    Policy(String),
    /// A parameter is not valid.
    #[error("{0}")]
    Validation(String),
}

pub(crate) fn parse(name: &str, text: &str, ty: PolicyType) -> Result<Policy, CheckError> {
    Policy::parse_named(name, text, ty).map_err(|e| CheckError::Policy(format!("{name}: {e}")))
}

pub(crate) fn engine_type(ty: AccessCheckPolicyType, text: &str) -> PolicyType {
    match ty {
        AccessCheckPolicyType::Identity => PolicyType::Identity,
        // A trust policy is a resource policy whose statements have no `Resource`.
        AccessCheckPolicyType::Resource
            if statements(text).iter().all(|s| s.resources.is_none())
                && !statements(text).is_empty() =>
        {
            PolicyType::Trust
        }
        AccessCheckPolicyType::Resource => PolicyType::Resource,
    }
}

pub(crate) fn reason(s: &Statement, what: &str) -> ReasonSummary {
    let place = match &s.sid {
        Some(sid) => format!("sid: {sid}"),
        None => format!("index: {}", s.index),
    };
    ReasonSummary {
        description: format!("{what} in the statement with {place}."),
        statement_index: Some(s.index),
        statement_id: s.sid.clone(),
    }
}

pub(crate) fn respond(reasons: Vec<ReasonSummary>, pass: &str, fail: &str) -> CheckResponse {
    if reasons.is_empty() {
        CheckResponse {
            result: CheckResult::Pass,
            message: pass.to_owned(),
            reasons,
        }
    } else {
        CheckResponse {
            result: CheckResult::Fail,
            message: fail.to_owned(),
            reasons,
        }
    }
}

/// CheckAccessNotGranted: FAIL when an `Allow` statement might grant one of `actions` (on one of
/// `resources`, when given; with only resources, any action on one of them), and no unconditional
/// `Deny` of the policy takes all of that access away. Patterns meet as IAM matches them: `s3:Get*`
/// asked of a policy allowing `s3:*Object` fails.
pub fn access_not_granted(
    document: &str,
    policy_type: AccessCheckPolicyType,
    actions: &[String],
    resources: &[String],
) -> Result<CheckResponse, CheckError> {
    if actions.is_empty() && resources.is_empty() {
        return Err(CheckError::Validation(
            "give at least one action or resource to check".to_owned(),
        ));
    }
    for a in actions {
        if !a.contains(':') && a != "*" {
            return Err(CheckError::Validation(format!(
                "action `{a}`: expected `service:Action`"
            )));
        }
    }
    parse("policy", document, engine_type(policy_type, document))?;
    let list = statements(document);
    let wanted_actions: Vec<&str> = if actions.is_empty() {
        vec!["*"]
    } else {
        actions.iter().map(String::as_str).collect()
    };
    let wanted_resources: Vec<&str> = if resources.is_empty() {
        vec!["*"]
    } else {
        resources.iter().map(String::as_str).collect()
    };
    let resource_may =
        |s: &Statement, r: &str| s.resources.as_ref().is_none_or(|e| e.may_match(r, false));
    let denied = |a: &str, r: &str| {
        list.iter().any(|d| {
            !d.allow
                && d.conditions.is_empty()
                && d.principals
                    .as_ref()
                    .is_none_or(|(p, neg)| !neg && p.contains(&PrincipalEntry::Anyone))
                && d.actions.matches_all(a, true)
                && d.resources.as_ref().is_none_or(|e| e.matches_all(r, false))
        })
    };
    let mut reasons = Vec::new();
    for s in list.iter().filter(|s| s.allow) {
        let grants = wanted_actions.iter().any(|a| {
            wanted_resources
                .iter()
                .any(|r| s.actions.may_match(a, true) && resource_may(s, r) && !denied(a, r))
        });
        if grants {
            reasons.push(reason(s, "One or more of the listed actions or resources"));
        }
    }
    Ok(respond(
        reasons,
        "The policy document does not grant access to perform one or more of the listed actions or resources.",
        "The policy document grants access to perform one or more of the listed actions or resources.",
    ))
}

/// CheckNoPublicAccess: FAIL when a statement allows everyone (`*`, or an `Allow` with
/// `NotPrincipal`) an action of the resource type's service without a condition that pins the
/// caller (see [`public`]).
pub fn no_public_access(
    document: &str,
    resource_type: ResourceType,
) -> Result<CheckResponse, CheckError> {
    let trust = resource_type.name == "AWS::IAM::AssumeRolePolicyDocument";
    parse(
        "policy",
        document,
        if trust {
            PolicyType::Trust
        } else {
            PolicyType::Resource
        },
    )?;
    let service_actions = format!("{}:*", resource_type.service);
    let reasons = statements(document)
        .iter()
        .filter(|s| public::public_statement(s) && s.actions.may_match(&service_actions, true))
        .map(|s| reason(s, "Public access granted"))
        .collect();
    Ok(respond(
        reasons,
        "The resource policy does not grant public access for the given resource type.",
        "The resource policy grants public access for the given resource type.",
    ))
}
