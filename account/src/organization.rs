//! The organization file: what AWS Organizations and resource owners add to an account's own IAM
//! data — service control policies (SCPs) and resource control policies (RCPs) attached to the root,
//! organizational units and accounts, and resource-based policies (bucket, queue, key policies) per
//! resource ARN. `get-account-authorization-details` carries none of this, so Iamlet reads it from a
//! small JSON file of its own, loaded beside the export:
//!
//! ```json
//! {
//!   "Id": "o-a1b2c3d4e5",
//!   "ManagementAccount": "999988887777",
//!   "Policies": [
//!     { "Name": "FullAWSAccess", "Type": "SERVICE_CONTROL_POLICY", "Document": { "Version": "2012-10-17", "Statement": [ … ] } },
//!     { "Name": "RCPFullAWSAccess", "Type": "RESOURCE_CONTROL_POLICY", "Document": "…" }
//!   ],
//!   "Roots": [ { "Id": "r-a1b2", "Policies": ["FullAWSAccess", "RCPFullAWSAccess"] } ],
//!   "OrganizationalUnits": [ { "Id": "ou-a1b2-11111111", "Name": "Workloads", "Parent": "r-a1b2", "Policies": ["FullAWSAccess"] } ],
//!   "Accounts": [ { "Id": "111122223333", "Name": "workloads-prod", "Parent": "ou-a1b2-11111111", "Policies": ["FullAWSAccess"] } ],
//!   "ResourcePolicies": [ { "Resource": "arn:aws:s3:::amzn-s3-demo-bucket", "Account": "111122223333", "Document": { … } } ]
//! }
//! ```
//!
//! - Every element is optional; `Description` is accepted wherever a `Name` is; other unknown fields
//!   are errors (they are usually typos).
//! - `Policies` are referred to by `Name` from the `Policies` lists of roots, OUs and accounts. Each
//!   account's organization levels are its path from the root (root first), then the account itself.
//!   SCPs: every level must allow, as in AWS, and once any SCP is attached anywhere every level must
//!   have at least one (attach `FullAWSAccess`). RCPs only deny: AWS Organizations supports `Allow`
//!   only in `RCPFullAWSAccess`, which it attaches to the root, every OU and every account and which
//!   cannot be detached, so a level never withholds an allow and only an RCP's `Deny` statements
//!   decide. Listing `RCPFullAWSAccess` is optional (it changes nothing); a level may have no RCP.
//! - Principals of the management account are not subject to SCPs, and its resources not to RCPs.
//!   Accounts not listed are outside the organization: no SCPs or RCPs.
//! - `ResourcePolicies` are found by the request's resource: the exact ARN, or for an S3 object its
//!   bucket. `Account` names the owner for ARNs that carry none (S3).
//! - Documents are JSON objects or strings (plain or URL-encoded JSON).

use crate::error::{EntityError, LoadError};
use crate::export::{parse_json, Document};
use iamlet_engine::{Policy, PolicyType};
use serde::Deserialize;
use std::collections::{HashMap, HashSet};

/// The organization file as written.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct OrganizationFile {
    /// The organization id (`o-…`): the value of `aws:PrincipalOrgID`.
    #[serde(default)]
    pub id: Option<String>,
    /// The management account, exempt from SCPs and RCPs.
    #[serde(default)]
    pub management_account: Option<String>,
    /// A free-text note.
    #[serde(default)]
    pub description: Option<String>,
    /// SCPs and RCPs, referred to by name.
    #[serde(default)]
    pub policies: Vec<OrgPolicy>,
    /// The organization root (one).
    #[serde(default)]
    pub roots: Vec<Target>,
    /// Organizational units, each with its `Parent` (the root or another OU).
    #[serde(default)]
    pub organizational_units: Vec<Target>,
    /// Member accounts, each with its `Parent`.
    #[serde(default)]
    pub accounts: Vec<Target>,
    /// Resource-based policies per resource ARN.
    #[serde(default)]
    pub resource_policies: Vec<ResourcePolicyEntry>,
}

/// An SCP or RCP.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct OrgPolicy {
    /// The policy's name, unique in the file.
    pub name: String,
    /// `SERVICE_CONTROL_POLICY` or `RESOURCE_CONTROL_POLICY`.
    #[serde(rename = "Type")]
    pub kind: OrgPolicyType,
    /// A free-text note.
    #[serde(default)]
    pub description: Option<String>,
    /// The document.
    pub document: Document,
}

/// The two kinds of organization policy that take part in authorization.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
pub enum OrgPolicyType {
    /// A service control policy: limits the organization's principals.
    #[serde(rename = "SERVICE_CONTROL_POLICY")]
    Scp,
    /// A resource control policy: limits access to the organization's resources.
    #[serde(rename = "RESOURCE_CONTROL_POLICY")]
    Rcp,
}

/// A root, organizational unit or account, and the policies attached to it.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct Target {
    /// `r-…`, `ou-…`, or the 12-digit account id.
    pub id: String,
    /// A readable name.
    #[serde(default)]
    pub name: Option<String>,
    /// A free-text note.
    #[serde(default)]
    pub description: Option<String>,
    /// The parent's id (not for roots).
    #[serde(default)]
    pub parent: Option<String>,
    /// Names of the attached policies.
    #[serde(default)]
    pub policies: Vec<String>,
}

/// A resource-based policy.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct ResourcePolicyEntry {
    /// The resource's ARN (a bucket, queue, topic, key…).
    pub resource: String,
    /// The owning account, for ARNs that carry none (S3 buckets).
    #[serde(default)]
    pub account: Option<String>,
    /// The policy's name in explanations (default: `policy of <resource>`).
    #[serde(default)]
    pub name: Option<String>,
    /// A free-text note.
    #[serde(default)]
    pub description: Option<String>,
    /// The document.
    pub document: Document,
}

/// One organization level: a root, OU or account with the SCPs and RCPs attached to it.
#[derive(Clone, Debug)]
pub struct Level {
    /// `r-…`, `ou-…` or the account id.
    pub id: String,
    /// The SCPs attached to this level.
    pub scps: Vec<Policy>,
    /// The RCPs attached to this level.
    pub rcps: Vec<Policy>,
}

/// An account's place in the organization.
#[derive(Clone, Debug)]
struct Placement {
    /// Root first, the account last.
    levels: Vec<Level>,
    /// `o-…/r-…/ou-…/` (the value of `aws:PrincipalOrgPaths`).
    org_path: Option<String>,
}

/// A compiled resource-based policy.
#[derive(Clone, Debug)]
pub struct ResourcePolicy {
    /// The policy, compiled as a resource-based policy.
    pub policy: Policy,
    /// The resource's owner, for ARNs that carry no account (S3).
    pub account: Option<String>,
}

/// The organization file, compiled: every document parsed, every reference checked.
#[derive(Clone, Debug, Default)]
pub struct Organization {
    id: Option<String>,
    management_account: Option<String>,
    scps_enabled: bool,
    rcps_enabled: bool,
    accounts: HashMap<String, Placement>,
    resources: HashMap<String, ResourcePolicy>,
}

impl Organization {
    /// Parses and compiles an organization file; every broken entity is reported.
    pub fn parse(source_name: &str, text: &str) -> Result<Self, LoadError> {
        let file: OrganizationFile = parse_json(source_name, text)?;
        Self::compile(&file).map_err(|errors| LoadError::Invalid {
            source_name: source_name.to_owned(),
            errors,
        })
    }

    /// Compiles a parsed file.
    pub fn compile(file: &OrganizationFile) -> Result<Self, Vec<EntityError>> {
        let mut errors = Vec::new();
        let mut policies: HashMap<&str, (OrgPolicyType, Policy)> = HashMap::new();
        for (i, p) in file.policies.iter().enumerate() {
            let entity = format!("Policies[{i}] ({})", p.name);
            let ty = match p.kind {
                OrgPolicyType::Scp => PolicyType::Scp,
                OrgPolicyType::Rcp => PolicyType::Rcp,
            };
            match Policy::parse_named(&p.name, p.document.text(), ty) {
                Ok(policy) => {
                    if policies.insert(&p.name, (p.kind, policy)).is_some() {
                        errors.push(EntityError::new(
                            entity,
                            "a policy of this name comes earlier",
                        ));
                    }
                }
                Err(e) => errors.extend(EntityError::from_policy(&entity, &e)),
            }
        }

        // Every target by id, with where it is written.
        let mut targets: HashMap<&str, (String, &Target)> = HashMap::new();
        let lists = [
            ("Roots", &file.roots),
            ("OrganizationalUnits", &file.organizational_units),
            ("Accounts", &file.accounts),
        ];
        for (list, items) in lists {
            for (i, t) in items.iter().enumerate() {
                let entity = format!("{list}[{i}] ({})", t.id);
                let expect_parent = list != "Roots";
                if expect_parent != t.parent.is_some() {
                    let msg = if expect_parent {
                        "`Parent` is missing"
                    } else {
                        "a root has no `Parent`"
                    };
                    errors.push(EntityError::new(&entity, msg));
                }
                if list == "Accounts"
                    && !(t.id.len() == 12 && t.id.bytes().all(|b| b.is_ascii_digit()))
                {
                    errors.push(EntityError::new(
                        &entity,
                        format!("`{}` is not a 12-digit account id", t.id),
                    ));
                }
                for (j, name) in t.policies.iter().enumerate() {
                    if !policies.contains_key(name.as_str()) {
                        errors.push(EntityError::new(
                            format!("{entity}.Policies[{j}]"),
                            format!("no policy named `{name}` in `Policies`"),
                        ));
                    }
                }
                if targets.insert(&t.id, (entity.clone(), t)).is_some() {
                    errors.push(EntityError::new(entity, "this id comes earlier"));
                }
            }
        }
        if file.roots.len() > 1 {
            errors.push(EntityError::new("Roots", "an organization has one root"));
        }
        let attached = |t: &Target, kind: OrgPolicyType| -> Vec<Policy> {
            t.policies
                .iter()
                .filter_map(|n| policies.get(n.as_str()))
                .filter(|(k, _)| *k == kind)
                .map(|(_, p)| p.clone())
                .collect()
        };
        let any = |kind| targets.values().any(|(_, t)| !attached(t, kind).is_empty());
        let scps_enabled = any(OrgPolicyType::Scp);
        let rcps_enabled = any(OrgPolicyType::Rcp);

        // Once SCPs are in use, every root, OU and account needs one attached, as in AWS. (RCPs
        // only deny: AWS attaches RCPFullAWSAccess everywhere itself, and a level without any RCP
        // is the same as one with only it.)
        for (entity, t) in targets.values() {
            if file.management_account.as_deref() == Some(t.id.as_str()) {
                continue;
            }
            if scps_enabled && attached(t, OrgPolicyType::Scp).is_empty() {
                errors.push(EntityError::new(
                    entity,
                    "no SCP attached: once SCPs are in use every root, OU and account needs one (attach FullAWSAccess)",
                ));
            }
        }

        let mut accounts = HashMap::new();
        for (i, acct) in file.accounts.iter().enumerate() {
            let entity = format!("Accounts[{i}] ({})", acct.id);
            // Walk up to the root.
            let mut chain = vec![acct];
            let mut seen = HashSet::from([acct.id.as_str()]);
            let mut cur = acct;
            let mut broken = false;
            while let Some(parent) = &cur.parent {
                let found = targets.get(parent.as_str()).map(|(_, t)| *t);
                let Some(t) = found else {
                    errors.push(EntityError::new(
                        &entity,
                        format!(
                            "parent `{parent}` is not a root or organizational unit in the file"
                        ),
                    ));
                    broken = true;
                    break;
                };
                if file.accounts.iter().any(|a| a.id == t.id) {
                    errors.push(EntityError::new(
                        &entity,
                        format!("parent `{parent}` is an account, not a root or OU"),
                    ));
                    broken = true;
                    break;
                }
                if !seen.insert(&t.id) {
                    errors.push(EntityError::new(
                        &entity,
                        format!("its parents form a cycle through `{parent}`"),
                    ));
                    broken = true;
                    break;
                }
                chain.push(t);
                cur = t;
            }
            if broken {
                continue;
            }
            chain.reverse();
            let levels = chain
                .iter()
                .map(|t| Level {
                    id: t.id.clone(),
                    scps: attached(t, OrgPolicyType::Scp),
                    rcps: attached(t, OrgPolicyType::Rcp),
                })
                .collect();
            let org_path = file.id.as_ref().map(|org| {
                let mut p = format!("{org}/");
                for t in chain.iter().take(chain.len().saturating_sub(1)) {
                    p.push_str(&t.id);
                    p.push('/');
                }
                p
            });
            accounts.insert(acct.id.clone(), Placement { levels, org_path });
        }

        let mut resources = HashMap::new();
        for (i, r) in file.resource_policies.iter().enumerate() {
            let entity = format!("ResourcePolicies[{i}] ({})", r.resource);
            let name = r
                .name
                .clone()
                .unwrap_or_else(|| format!("policy of {}", r.resource));
            match Policy::parse_named(&name, r.document.text(), PolicyType::Resource) {
                Ok(policy) => {
                    let entry = ResourcePolicy {
                        policy,
                        account: r.account.clone(),
                    };
                    if resources.insert(r.resource.clone(), entry).is_some() {
                        errors.push(EntityError::new(
                            entity,
                            "this resource has a policy earlier in the list",
                        ));
                    }
                }
                Err(e) => errors.extend(EntityError::from_policy(&entity, &e)),
            }
        }

        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(Organization {
            id: file.id.clone(),
            management_account: file.management_account.clone(),
            scps_enabled,
            rcps_enabled,
            accounts,
            resources,
        })
    }

    fn placement(&self, account: &str) -> Option<&Placement> {
        if self.management_account.as_deref() == Some(account) {
            return None;
        }
        self.accounts.get(account)
    }

    /// The organization levels (root first) of an account's principals or resources; empty for the
    /// management account and accounts outside the organization.
    pub fn levels(&self, account: &str) -> &[Level] {
        self.placement(account)
            .map(|p| p.levels.as_slice())
            .unwrap_or_default()
    }

    /// Whether SCPs are in use.
    pub fn scps_enabled(&self) -> bool {
        self.scps_enabled
    }

    /// Whether RCPs are in use.
    pub fn rcps_enabled(&self) -> bool {
        self.rcps_enabled
    }

    /// Whether the account is a member (or the management account) of the organization.
    pub fn has_account(&self, account: &str) -> bool {
        self.accounts.contains_key(account) || self.management_account.as_deref() == Some(account)
    }

    /// `aws:PrincipalOrgID` and `aws:PrincipalOrgPaths` for an account's principals.
    pub fn principal_org_keys(&self, account: &str) -> Option<(String, String)> {
        let id = self.id.clone()?;
        let path = self.accounts.get(account)?.org_path.clone()?;
        Some((id, path))
    }

    /// The resource-based policy of a resource: its exact ARN, or for an S3 object its bucket.
    pub fn resource_policy(&self, resource: &str) -> Option<&ResourcePolicy> {
        if let Some(p) = self.resources.get(resource) {
            return Some(p);
        }
        let object = resource.strip_prefix("arn:")?;
        let (_partition, rest) = object.split_once(':')?;
        let bucket_and_key = rest.strip_prefix("s3:::")?;
        let (bucket, _key) = bucket_and_key.split_once('/')?;
        // The bucket's ARN is the object's up to the bucket's name: looked up without a copy (this
        // runs on every check).
        let end = resource.len() - bucket_and_key.len() + bucket.len();
        self.resources.get(resource.get(..end)?)
    }

    /// The number of resource-based policies.
    pub fn resource_policy_count(&self) -> usize {
        self.resources.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALLOW_ALL: &str =
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;

    fn file(extra: &str) -> String {
        format!(
            r#"{{"Id":"o-a1b2c3d4e5","ManagementAccount":"999988887777",
              "Policies":[{{"Name":"FullAWSAccess","Type":"SERVICE_CONTROL_POLICY","Document":{ALLOW_ALL}}}],
              "Roots":[{{"Id":"r-a1b2","Policies":["FullAWSAccess"]}}],
              "OrganizationalUnits":[{{"Id":"ou-a1b2-11111111","Parent":"r-a1b2","Policies":["FullAWSAccess"]}}],
              "Accounts":[{{"Id":"111122223333","Parent":"ou-a1b2-11111111","Policies":["FullAWSAccess"]}}
                          {extra}]}}"#
        )
    }

    #[test]
    fn levels_root_first_and_org_paths() {
        let org = Organization::parse("org.json", &file("")).unwrap();
        let levels = org.levels("111122223333");
        let ids: Vec<_> = levels.iter().map(|l| l.id.as_str()).collect();
        assert_eq!(ids, ["r-a1b2", "ou-a1b2-11111111", "111122223333"]);
        assert!(levels
            .iter()
            .all(|l| l.scps.len() == 1 && l.rcps.is_empty()));
        assert_eq!(
            org.principal_org_keys("111122223333").unwrap(),
            (
                "o-a1b2c3d4e5".to_owned(),
                "o-a1b2c3d4e5/r-a1b2/ou-a1b2-11111111/".to_owned()
            )
        );
        assert!(org.levels("999988887777").is_empty());
        assert!(org.levels("444455556666").is_empty());
    }

    #[test]
    fn broken_references_and_missing_scps_are_named() {
        let extra = r#",{"Id":"444455556666","Parent":"ou-nowhere","Policies":["Nope"]},
                        {"Id":"555566667777","Parent":"r-a1b2"}"#;
        let e = Organization::parse("org.json", &file(extra)).unwrap_err();
        let text = e.to_string();
        assert!(
            text.contains("Accounts[1] (444455556666).Policies[0]: no policy named `Nope`"),
            "{text}"
        );
        assert!(
            text.contains("Accounts[1] (444455556666): parent `ou-nowhere` is not a root"),
            "{text}"
        );
        assert!(
            text.contains("Accounts[2] (555566667777): no SCP attached"),
            "{text}"
        );
    }

    #[test]
    fn rcps_need_not_be_attached_everywhere() {
        // RCPs only deny: one attached to the root alone is enough, and the levels without any
        // RCP withhold nothing (AWS attaches RCPFullAWSAccess there itself).
        let text = r#"{"Policies":[{"Name":"DataPerimeter","Type":"RESOURCE_CONTROL_POLICY",
            "Document":{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"*",
              "Condition":{"StringNotEqualsIfExists":{"aws:PrincipalOrgID":"o-a1b2c3d4e5"}}}]}}],
            "Roots":[{"Id":"r-a1b2","Policies":["DataPerimeter"]}],
            "OrganizationalUnits":[{"Id":"ou-a1b2-11111111","Parent":"r-a1b2"}],
            "Accounts":[{"Id":"111122223333","Parent":"ou-a1b2-11111111"}]}"#;
        let org = Organization::parse("org.json", text).unwrap();
        assert!(org.rcps_enabled() && !org.scps_enabled());
        let counts: Vec<usize> = org
            .levels("111122223333")
            .iter()
            .map(|l| l.rcps.len())
            .collect();
        assert_eq!(counts, [1, 0, 0]);
    }

    #[test]
    fn broken_policy_names_its_statement() {
        let text = r#"{"Policies":[{"Name":"Deny","Type":"SERVICE_CONTROL_POLICY",
            "Document":{"Version":"2012-10-17","Statement":[{"Effect":"deny","Action":"*","Resource":"*"}]}}]}"#;
        let e = Organization::parse("org.json", text).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("org.json: Policies[0] (Deny): Statement[0].Effect: "),
            "{e}"
        );
    }

    #[test]
    fn s3_objects_find_their_bucket_policy() {
        let text = r#"{"ResourcePolicies":[{"Resource":"arn:aws:s3:::b","Account":"111122223333",
              "Document":{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}]}}]}"#;
        let org = Organization::parse("org.json", text).unwrap();
        assert!(org.resource_policy("arn:aws:s3:::b/k/1").is_some());
        assert!(org.resource_policy("arn:aws:s3:::b").is_some());
        assert!(org.resource_policy("arn:aws:s3:::c/k").is_none());
        assert!(org.resource_policy("arn:aws:s3:::bb/k").is_none());
        assert!(org.resource_policy("arn:aws-cn:s3:::b/k").is_none());
        assert!(org.resource_policy("arn:aws:s3:::/b").is_none());
        assert!(org.resource_policy("arn:aws:s3:::b/").is_some());
    }
}
