//! External access over an account: every role trust policy and resource-based policy (from the
//! organization file) with an `Allow` for a principal outside the zone of trust — the account's own
//! accounts, or with an organization file the organization's — and what it grants: IAM Access
//! Analyzer's external access findings, offline.

use super::public::{pins, public_statement};
use super::statement::{statements, Condition, PrincipalEntry, Statement};
use iamlet_account::export::AccountDetails;
use iamlet_account::organization::OrganizationFile;
use serde::Serialize;
use std::collections::BTreeSet;

/// One statement granting access from outside.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ExternalFinding {
    /// The resource (a role, bucket, key…).
    pub resource: String,
    /// Its type as AWS names it (`AWS::IAM::Role`, `AWS::S3::Bucket`…).
    pub resource_type: String,
    /// The statement's index.
    pub statement_index: usize,
    /// The statement's `Sid`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub statement_id: Option<String>,
    /// The outside principals it names (`*` for everyone, `NotPrincipal …` for all but some).
    pub principals: Vec<String>,
    /// The actions it allows (as written; `NotAction …` for all but some).
    pub actions: Vec<String>,
    /// Its conditions (`operator key values`): they may narrow who gets in.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<String>,
    /// Whether anyone at all gets in (AWS's `isPublic`).
    pub is_public: bool,
}

/// The zone of trust: accounts and organization.
struct Zone {
    accounts: BTreeSet<String>,
    org: Option<String>,
}

impl Zone {
    fn account_of(principal: &str) -> Option<&str> {
        if principal.len() == 12 && principal.chars().all(|c| c.is_ascii_digit()) {
            return Some(principal);
        }
        principal.split(':').nth(4).filter(|a| !a.is_empty())
    }

    fn trusts(&self, principal: &str) -> bool {
        Self::account_of(principal).is_some_and(|a| self.accounts.contains(a))
    }

    /// Whether a condition confines callers to the zone: it pins them (see `pins`) by account,
    /// organization or ARN, and every value it allows is inside.
    fn confines(&self, c: &Condition) -> bool {
        if !pins(c) {
            return false;
        }
        let key = c.key.to_ascii_lowercase();
        c.values.iter().all(|v| match key.as_str() {
            "aws:principalorgid" | "aws:sourceorgid" => self.org.as_deref() == Some(v.as_str()),
            "aws:principalorgpaths" | "aws:sourceorgpaths" => self
                .org
                .as_deref()
                .is_some_and(|o| v.starts_with(&format!("{o}/"))),
            "aws:principalaccount"
            | "aws:sourceaccount"
            | "aws:sourceowner"
            | "kms:calleraccount"
            | "s3:dataaccesspointaccount" => self.accounts.contains(v),
            "aws:principalarn" | "aws:sourcearn" | "s3:dataaccesspointarn" => self.trusts(v),
            _ => false,
        })
    }
}

fn resource_type(arn: &str) -> String {
    let mut parts = arn.splitn(6, ':');
    let service = parts.nth(2).unwrap_or_default();
    let resource = arn.splitn(6, ':').nth(5).unwrap_or_default();
    let t = match service {
        "s3" if resource.contains('/') => "AWS::S3::Object",
        "s3" => "AWS::S3::Bucket",
        "kms" => "AWS::KMS::Key",
        "sqs" => "AWS::SQS::Queue",
        "sns" => "AWS::SNS::Topic",
        "lambda" => "AWS::Lambda::Function",
        "secretsmanager" => "AWS::SecretsManager::Secret",
        "dynamodb" if resource.contains("/stream/") => "AWS::DynamoDB::Stream",
        "dynamodb" => "AWS::DynamoDB::Table",
        "elasticfilesystem" => "AWS::EFS::FileSystem",
        "es" => "AWS::OpenSearchService::Domain",
        "kinesis" => "AWS::Kinesis::Stream",
        "glacier" => "AWS::S3::Glacier",
        "ecr" => "AWS::ECR::Repository",
        "execute-api" | "apigateway" => "AWS::ApiGateway::RestApi",
        "backup" => "AWS::Backup::BackupVault",
        _ => return format!("{service} resource"),
    };
    t.to_owned()
}

fn finding(
    zone: &Zone,
    resource: &str,
    resource_type: &str,
    s: &Statement,
) -> Option<ExternalFinding> {
    if !s.allow {
        return None;
    }
    let (entries, negated) = s.principals.as_ref()?;
    let confined = s.conditions.iter().any(|c| zone.confines(c));
    if confined {
        return None;
    }
    let mut principals = Vec::new();
    let mut public = false;
    if *negated {
        public = true;
        principals.push(format!("NotPrincipal {}", describe(entries).join(", ")));
    } else {
        for e in entries {
            match e {
                PrincipalEntry::Anyone => {
                    public = true;
                    principals.push("*".to_owned());
                }
                PrincipalEntry::Aws(a) if !zone.trusts(a) => principals.push(a.clone()),
                PrincipalEntry::Federated(f) => principals.push(format!("federated {f}")),
                PrincipalEntry::CanonicalUser(c) => principals.push(format!("canonical user {c}")),
                _ => {}
            }
        }
    }
    if principals.is_empty() {
        return None;
    }
    // A `*` confined by an IP or VPC condition is not open to all, but still outside the zone; a
    // public web identity provider without an audience condition is.
    let public = (public && !s.conditions.iter().any(pins)) || public_statement(s);
    let actions = if s.actions.negated {
        vec![format!("NotAction {}", s.actions.patterns.join(", "))]
    } else {
        s.actions.patterns.clone()
    };
    Some(ExternalFinding {
        resource: resource.to_owned(),
        resource_type: resource_type.to_owned(),
        statement_index: s.index,
        statement_id: s.sid.clone(),
        principals,
        actions,
        conditions: s
            .conditions
            .iter()
            .map(|c| format!("{} {} {}", c.operator, c.key, c.values.join(" or ")))
            .collect(),
        is_public: public,
    })
}

fn describe(entries: &[PrincipalEntry]) -> Vec<String> {
    entries
        .iter()
        .map(|e| match e {
            PrincipalEntry::Anyone => "*".to_owned(),
            PrincipalEntry::Aws(a) => a.clone(),
            PrincipalEntry::Service(s) => s.clone(),
            PrincipalEntry::Federated(f) => f.clone(),
            PrincipalEntry::CanonicalUser(c) => c.clone(),
        })
        .collect()
}

/// Every statement of the accounts' role trust policies, and of the organization file's
/// resource-based policies, that lets a principal outside the zone of trust in. The zone is the
/// accounts the exports hold; with `organization`, also every account of the organization (and its
/// id satisfies `aws:PrincipalOrgID`). Service principals are AWS's own and not reported.
pub fn external_access(
    exports: &[AccountDetails],
    organization: Option<&OrganizationFile>,
) -> Vec<ExternalFinding> {
    let mut zone = Zone {
        accounts: BTreeSet::new(),
        org: None,
    };
    for d in exports {
        let arns = d
            .user_detail_list
            .iter()
            .map(|u| u.arn.as_str())
            .chain(d.role_detail_list.iter().map(|r| r.arn.as_str()))
            .chain(d.group_detail_list.iter().map(|g| g.arn.as_str()));
        for a in arns {
            if let Some(acct) = Zone::account_of(a) {
                zone.accounts.insert(acct.to_owned());
            }
        }
    }
    if let Some(org) = organization {
        zone.org = org.id.clone();
        zone.accounts
            .extend(org.accounts.iter().map(|a| a.id.clone()));
        zone.accounts.extend(org.management_account.iter().cloned());
    }
    let mut out = Vec::new();
    for d in exports {
        for r in &d.role_detail_list {
            let Some(doc) = &r.assume_role_policy_document else {
                continue;
            };
            for s in statements(doc.text()) {
                out.extend(finding(&zone, &r.arn, "AWS::IAM::Role", &s));
            }
        }
    }
    for p in organization.iter().flat_map(|o| o.resource_policies.iter()) {
        let ty = resource_type(&p.resource);
        for s in statements(p.document.text()) {
            out.extend(finding(&zone, &p.resource, &ty, &s));
        }
    }
    out
}
