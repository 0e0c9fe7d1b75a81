//! [`Snapshot`]: one or more account exports compiled — every policy parsed (the default version of
//! each managed policy), every reference (groups, managed policies, boundaries) checked — and what it
//! holds for one principal ([`Parts`]).

use crate::error::{EntityError, FetchError, LoadError};
use crate::export::{
    AccountDetails, Document, InlinePolicy, OidcProviderDetail, SamlProviderDetail, Tag,
};
use crate::resolve::{Parts, PrincipalKey};
use iamlet_engine::{Arn, Policy, PolicyType, Principal, PrincipalKind};
use std::collections::{BTreeSet, HashMap};

#[derive(Clone, Debug)]
struct UserEntry {
    arn: String,
    account: String,
    user_id: Option<String>,
    inline: Vec<Policy>,
    attached: Vec<String>,
    groups: Vec<String>,
    boundary: Option<String>,
    tags: Vec<(String, String)>,
}

#[derive(Clone, Debug)]
struct GroupEntry {
    arn: String,
    inline: Vec<Policy>,
    attached: Vec<String>,
}

#[derive(Clone, Debug)]
struct RoleEntry {
    arn: String,
    account: String,
    role_id: Option<String>,
    inline: Vec<Policy>,
    attached: Vec<String>,
    boundary: Option<String>,
    tags: Vec<(String, String)>,
    trust: Option<Policy>,
}

#[derive(Clone, Debug)]
struct ManagedEntry {
    identity: Policy,
    boundary: Option<Policy>,
}

/// One or more account exports, compiled: every policy parsed (the default version of each managed
/// policy), every reference (groups, managed policies, boundaries) checked.
#[derive(Clone, Debug, Default)]
pub struct Snapshot {
    users: HashMap<String, UserEntry>,
    groups: HashMap<(String, String), GroupEntry>,
    roles: HashMap<String, RoleEntry>,
    role_names: HashMap<(String, String), String>,
    managed: HashMap<String, ManagedEntry>,
    accounts: BTreeSet<String>,
    oidc_providers: HashMap<String, OidcProviderDetail>,
    saml_providers: HashMap<String, SamlProviderDetail>,
}

/// The account id in an IAM ARN (`arn:aws:iam::111122223333:user/alice`).
/// An IAM user's or role's ARN as the engine reads it (the form principal lookups use) and its
/// account, when `arn` is an ARN of that kind.
fn entity_arn(arn: &str, kind: PrincipalKind) -> Option<(String, String)> {
    let p = Principal::parse(arn).ok()?;
    let account = p.account().filter(|a| !a.is_empty())?.to_owned();
    (p.kind() == kind).then(|| (p.arn().to_owned(), account))
}

fn arn_account(arn: &str) -> Option<&str> {
    Arn::parse(arn).map(|a| a.account).filter(|a| !a.is_empty())
}

/// `arn:aws:iam::111122223333:role/path/name` → `arn:aws:iam::111122223333:role/name`.
fn without_path(arn: &str) -> String {
    match (arn.split_once(":role/"), arn.rsplit('/').next()) {
        (Some((head, _)), Some(name)) => format!("{head}:role/{name}"),
        _ => arn.to_owned(),
    }
}

fn tags(list: &[Tag]) -> Vec<(String, String)> {
    list.iter()
        .map(|t| (t.key.clone(), t.value.clone()))
        .collect()
}

fn parse_doc(
    name: &str,
    doc: &Document,
    ty: PolicyType,
    entity: &str,
    errors: &mut Vec<EntityError>,
) -> Option<Policy> {
    match Policy::parse_named(name, doc.text(), ty) {
        Ok(p) => Some(p),
        Err(e) => {
            errors.extend(EntityError::from_policy(entity, &e));
            None
        }
    }
}

fn inline_policies(
    owner: &str,
    entity: &str,
    list_name: &str,
    list: &[InlinePolicy],
    errors: &mut Vec<EntityError>,
) -> Vec<Policy> {
    list.iter()
        .enumerate()
        .filter_map(|(i, p)| {
            let entity = format!("{entity}.{list_name}[{i}] ({})", p.policy_name);
            let name = format!("{owner}:inline/{}", p.policy_name);
            parse_doc(
                &name,
                &p.policy_document,
                PolicyType::Identity,
                &entity,
                errors,
            )
        })
        .collect()
}

impl Snapshot {
    /// Compiles exports (each with the name of the file or URL it came from). Every problem is
    /// reported, each naming its file, entity and JSON path.
    pub fn build(
        exports: &[(String, AccountDetails)],
        source_name: &str,
    ) -> Result<Self, LoadError> {
        let mut snap = Snapshot::default();
        let mut errors = Vec::new();
        let prefix = |file: &str, entity: String| {
            if exports.len() > 1 {
                format!("{file}: {entity}")
            } else {
                entity
            }
        };
        // Managed policies first: users, groups and roles refer to them.
        let mut boundary_refs: Vec<(String, String)> = Vec::new();
        for (file, d) in exports {
            for u in &d.user_detail_list {
                if let Some(b) = &u.permissions_boundary {
                    boundary_refs.push((b.permissions_boundary_arn.clone(), file.clone()));
                }
            }
            for r in &d.role_detail_list {
                if let Some(b) = &r.permissions_boundary {
                    boundary_refs.push((b.permissions_boundary_arn.clone(), file.clone()));
                }
            }
        }
        let boundary_arns: BTreeSet<&str> = boundary_refs.iter().map(|(a, _)| a.as_str()).collect();
        for (file, d) in exports {
            for (i, p) in d.policies.iter().enumerate() {
                let name = if p.policy_name.is_empty() {
                    p.arn.rsplit('/').next().unwrap_or_default()
                } else {
                    &p.policy_name
                };
                let entity = prefix(file, format!("Policies[{i}] ({name})"));
                let default = p
                    .policy_version_list
                    .iter()
                    .enumerate()
                    .find(|(_, v)| v.is_default_version)
                    .or_else(|| {
                        p.policy_version_list.iter().enumerate().find(|(_, v)| {
                            p.default_version_id.as_deref() == Some(v.version_id.as_str())
                        })
                    });
                let Some((vi, version)) = default else {
                    errors.push(EntityError::new(
                        entity,
                        "no version in `PolicyVersionList` has `IsDefaultVersion` true",
                    ));
                    continue;
                };
                let entity = format!("{entity}.PolicyVersionList[{vi}] ({})", version.version_id);
                let Some(doc) = &version.document else {
                    errors.push(EntityError::new(
                        entity,
                        "the default version has no `Document`",
                    ));
                    continue;
                };
                let Some(identity) =
                    parse_doc(&p.arn, doc, PolicyType::Identity, &entity, &mut errors)
                else {
                    continue;
                };
                let boundary = if boundary_arns.contains(p.arn.as_str()) {
                    parse_doc(&p.arn, doc, PolicyType::Boundary, &entity, &mut errors)
                } else {
                    None
                };
                // The same AWS-managed policy may come with every account's export.
                snap.managed
                    .entry(p.arn.clone())
                    .or_insert(ManagedEntry { identity, boundary });
            }
        }
        let check_managed = |arn: &str, entity: String, errors: &mut Vec<EntityError>| {
            if !snap.managed.contains_key(arn) {
                errors.push(EntityError::new(
                    entity,
                    format!("managed policy `{arn}` is not in the export's `Policies`"),
                ));
            }
        };
        let mut users = Vec::new();
        let mut groups = Vec::new();
        let mut roles = Vec::new();
        for (file, d) in exports {
            for (i, g) in d.group_detail_list.iter().enumerate() {
                let entity = prefix(file, format!("GroupDetailList[{i}] ({})", g.group_name));
                let Some(account) = arn_account(&g.arn) else {
                    errors.push(EntityError::new(
                        entity,
                        format!("`{}` is not a group ARN", g.arn),
                    ));
                    continue;
                };
                let owner = format!("group/{}", g.group_name);
                let inline = inline_policies(
                    &owner,
                    &entity,
                    "GroupPolicyList",
                    &g.group_policy_list,
                    &mut errors,
                );
                for (j, a) in g.attached_managed_policies.iter().enumerate() {
                    check_managed(
                        &a.policy_arn,
                        format!("{entity}.AttachedManagedPolicies[{j}]"),
                        &mut errors,
                    );
                }
                groups.push((
                    (account.to_owned(), g.group_name.clone()),
                    GroupEntry {
                        arn: g.arn.clone(),
                        inline,
                        attached: g
                            .attached_managed_policies
                            .iter()
                            .map(|a| a.policy_arn.clone())
                            .collect(),
                    },
                ));
            }
        }
        let group_names: BTreeSet<(String, String)> =
            groups.iter().map(|(k, _)| k.clone()).collect();
        for (file, d) in exports {
            for (i, u) in d.user_detail_list.iter().enumerate() {
                let entity = prefix(file, format!("UserDetailList[{i}] ({})", u.user_name));
                let Some((arn, account)) = entity_arn(&u.arn, PrincipalKind::User) else {
                    errors.push(EntityError::new(
                        entity,
                        format!("`{}` is not an IAM user ARN", u.arn),
                    ));
                    continue;
                };
                let account = account.as_str();
                let owner = format!("user/{}", u.user_name);
                let inline = inline_policies(
                    &owner,
                    &entity,
                    "UserPolicyList",
                    &u.user_policy_list,
                    &mut errors,
                );
                for (j, a) in u.attached_managed_policies.iter().enumerate() {
                    check_managed(
                        &a.policy_arn,
                        format!("{entity}.AttachedManagedPolicies[{j}]"),
                        &mut errors,
                    );
                }
                for (j, g) in u.group_list.iter().enumerate() {
                    if !group_names.contains(&(account.to_owned(), g.clone())) {
                        errors.push(EntityError::new(
                            format!("{entity}.GroupList[{j}]"),
                            format!("group `{g}` is not in the export's `GroupDetailList`"),
                        ));
                    }
                }
                if let Some(b) = &u.permissions_boundary {
                    check_managed(
                        &b.permissions_boundary_arn,
                        format!("{entity}.PermissionsBoundary"),
                        &mut errors,
                    );
                }
                users.push(UserEntry {
                    arn,
                    account: account.to_owned(),
                    user_id: u.user_id.clone(),
                    inline,
                    attached: u
                        .attached_managed_policies
                        .iter()
                        .map(|a| a.policy_arn.clone())
                        .collect(),
                    groups: u.group_list.clone(),
                    boundary: u
                        .permissions_boundary
                        .as_ref()
                        .map(|b| b.permissions_boundary_arn.clone()),
                    tags: tags(&u.tags),
                });
            }
            for (i, r) in d.role_detail_list.iter().enumerate() {
                let entity = prefix(file, format!("RoleDetailList[{i}] ({})", r.role_name));
                let Some((arn, account)) = entity_arn(&r.arn, PrincipalKind::Role) else {
                    errors.push(EntityError::new(
                        entity,
                        format!("`{}` is not an IAM role ARN", r.arn),
                    ));
                    continue;
                };
                let account = account.as_str();
                let owner = format!("role/{}", r.role_name);
                let inline = inline_policies(
                    &owner,
                    &entity,
                    "RolePolicyList",
                    &r.role_policy_list,
                    &mut errors,
                );
                let trust = r.assume_role_policy_document.as_ref().and_then(|doc| {
                    parse_doc(
                        &format!("{owner}:trust"),
                        doc,
                        PolicyType::Trust,
                        &format!("{entity}.AssumeRolePolicyDocument"),
                        &mut errors,
                    )
                });
                for (j, a) in r.attached_managed_policies.iter().enumerate() {
                    check_managed(
                        &a.policy_arn,
                        format!("{entity}.AttachedManagedPolicies[{j}]"),
                        &mut errors,
                    );
                }
                if let Some(b) = &r.permissions_boundary {
                    check_managed(
                        &b.permissions_boundary_arn,
                        format!("{entity}.PermissionsBoundary"),
                        &mut errors,
                    );
                }
                roles.push(RoleEntry {
                    arn,
                    account: account.to_owned(),
                    role_id: r.role_id.clone(),
                    inline,
                    attached: r
                        .attached_managed_policies
                        .iter()
                        .map(|a| a.policy_arn.clone())
                        .collect(),
                    boundary: r
                        .permissions_boundary
                        .as_ref()
                        .map(|b| b.permissions_boundary_arn.clone()),
                    tags: tags(&r.tags),
                    trust,
                });
            }
        }
        let mut oidc_providers = HashMap::new();
        for (file, d) in exports {
            for (i, p) in d.oidc_providers.iter().enumerate() {
                let entity = prefix(file, format!("OpenIDConnectProviderList[{i}] ({})", p.arn));
                if let Err(e) = p.check() {
                    errors.push(EntityError::new(entity, e));
                } else if oidc_providers.insert(p.arn.clone(), p.clone()).is_some() {
                    errors.push(EntityError::new(entity, "the provider is declared twice"));
                }
            }
        }
        let mut saml_providers = HashMap::new();
        for (file, d) in exports {
            for (i, p) in d.saml_providers.iter().enumerate() {
                let entity = prefix(file, format!("SAMLProviderList[{i}] ({})", p.arn));
                if let Err(e) = p.check() {
                    errors.push(EntityError::new(entity, e));
                } else if saml_providers.insert(p.arn.clone(), p.clone()).is_some() {
                    errors.push(EntityError::new(entity, "the provider is declared twice"));
                }
            }
        }
        if !errors.is_empty() {
            return Err(LoadError::Invalid {
                source_name: source_name.to_owned(),
                errors,
            });
        }
        snap.oidc_providers = oidc_providers;
        snap.saml_providers = saml_providers;
        for (key, g) in groups {
            snap.accounts.insert(key.0.clone());
            snap.groups.insert(key, g);
        }
        for u in users {
            snap.accounts.insert(u.account.clone());
            snap.users.insert(u.arn.clone(), u);
        }
        for r in roles {
            snap.accounts.insert(r.account.clone());
            snap.role_names
                .insert((r.account.clone(), without_path(&r.arn)), r.arn.clone());
            snap.roles.insert(r.arn.clone(), r);
        }
        Ok(snap)
    }

    /// The OpenID Connect provider with this ARN.
    pub fn oidc_provider(&self, arn: &str) -> Option<&OidcProviderDetail> {
        self.oidc_providers.get(arn)
    }

    /// The SAML provider with this ARN.
    pub fn saml_provider(&self, arn: &str) -> Option<&SamlProviderDetail> {
        self.saml_providers.get(arn)
    }

    /// The accounts the snapshot has entities of.
    pub fn accounts(&self) -> impl Iterator<Item = &str> {
        self.accounts.iter().map(String::as_str)
    }

    /// Every user and role ARN, sorted.
    pub fn principals(&self) -> Vec<String> {
        let mut v: Vec<String> = self
            .users
            .keys()
            .chain(self.roles.keys())
            .cloned()
            .collect();
        v.sort();
        v
    }

    fn managed_identity(
        &self,
        arns: &[String],
        seen: &mut BTreeSet<String>,
        out: &mut Vec<Policy>,
    ) {
        for arn in arns {
            if let Some(m) = self.managed.get(arn) {
                if seen.insert(arn.clone()) {
                    out.push(m.identity.clone());
                }
            }
        }
    }

    fn boundary(&self, arn: Option<&String>) -> Option<Policy> {
        arn.and_then(|a| self.managed.get(a))
            .and_then(|m| m.boundary.clone())
    }

    /// What the snapshot has for a principal.
    pub fn parts(&self, key: &PrincipalKey) -> Result<Parts, FetchError> {
        let not_found = || FetchError::NotFound(key.describe().to_owned());
        match key {
            PrincipalKey::User(arn) => {
                let u = self.users.get(arn).ok_or_else(not_found)?;
                Ok(self.user_parts(u, PrincipalKind::User))
            }
            PrincipalKey::FederatedUser { issuer, .. } => {
                let u = self.users.get(issuer).ok_or_else(not_found)?;
                let mut parts = self.user_parts(u, PrincipalKind::FederatedUser);
                parts.issuer = Some(u.arn.clone());
                Ok(parts)
            }
            PrincipalKey::Role(arn) => {
                let r = self.roles.get(arn).ok_or_else(not_found)?;
                Ok(self.role_parts(r, PrincipalKind::Role))
            }
            PrincipalKey::RoleSession(role) => {
                let account = arn_account(role).unwrap_or_default().to_owned();
                let arn = self
                    .role_names
                    .get(&(account, role.clone()))
                    .ok_or_else(not_found)?;
                let r = self.roles.get(arn).ok_or_else(not_found)?;
                let mut parts = self.role_parts(r, PrincipalKind::AssumedRole);
                parts.issuer = Some(r.arn.clone());
                Ok(parts)
            }
            PrincipalKey::Root(account) => {
                if !self.accounts.contains(account) {
                    return Err(not_found());
                }
                let arn = format!("arn:aws:iam::{account}:root");
                Ok(Parts::empty(PrincipalKind::Root, &arn, Some(account)))
            }
            PrincipalKey::Service(name) => Ok(Parts::empty(PrincipalKind::Service, name, None)),
            PrincipalKey::Anonymous => {
                Ok(Parts::empty(PrincipalKind::Anonymous, "anonymous", None))
            }
        }
    }

    fn user_parts(&self, u: &UserEntry, kind: PrincipalKind) -> Parts {
        let mut identity = u.inline.clone();
        let mut seen = BTreeSet::new();
        self.managed_identity(&u.attached, &mut seen, &mut identity);
        for g in &u.groups {
            if let Some(group) = self.groups.get(&(u.account.clone(), g.clone())) {
                identity.extend(group.inline.iter().cloned());
                self.managed_identity(&group.attached, &mut seen, &mut identity);
            }
        }
        Parts {
            kind,
            entity: u.arn.clone(),
            account: Some(u.account.clone()),
            unique_id: u.user_id.clone(),
            issuer: None,
            groups: u
                .groups
                .iter()
                .map(|g| {
                    self.groups
                        .get(&(u.account.clone(), g.clone()))
                        .map(|e| e.arn.clone())
                        .unwrap_or_else(|| g.clone())
                })
                .collect(),
            identity,
            boundary: self.boundary(u.boundary.as_ref()),
            tags: u.tags.clone(),
            trust: None,
            max_session_duration: None,
        }
    }

    fn role_parts(&self, r: &RoleEntry, kind: PrincipalKind) -> Parts {
        let mut identity = r.inline.clone();
        self.managed_identity(&r.attached, &mut BTreeSet::new(), &mut identity);
        Parts {
            kind,
            entity: r.arn.clone(),
            account: Some(r.account.clone()),
            unique_id: r.role_id.clone(),
            issuer: None,
            groups: Vec::new(),
            identity,
            boundary: self.boundary(r.boundary.as_ref()),
            tags: r.tags.clone(),
            trust: r.trust.clone(),
            max_session_duration: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::export::parse_export;

    fn build(text: &str) -> Result<Snapshot, LoadError> {
        let details = parse_export("account.json", text).unwrap_or_else(|e| panic!("{e}"));
        Snapshot::build(&[("account.json".to_owned(), details)], "account.json")
    }

    #[test]
    fn saml_providers_are_declared_in_the_export() {
        let arn = "arn:aws:iam::111122223333:saml-provider/corp";
        let doc = crate::saml::tests::metadata(
            "https://idp.example.com/saml",
            "<md:KeyDescriptor><ds:KeyInfo><ds:X509Data><ds:X509Certificate>MAEC</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>",
        );
        let entry = |arn: &str, doc: &str| {
            serde_json::json!({"SAMLProviderList": [{"Arn": arn, "SAMLMetadataDocument": doc}]})
                .to_string()
        };
        let snap = build(&entry(arn, &doc)).unwrap();
        let p = snap.saml_provider(arn).unwrap();
        assert_eq!(p.name(), "corp");
        assert_eq!(p.check().unwrap().entity_id, "https://idp.example.com/saml");
        let e = build(&entry("arn:aws:iam::111122223333:saml-provider/a b", &doc)).unwrap_err();
        assert!(e.to_string().contains("not a SAML provider ARN"), "{e}");
        let e = build(&entry(arn, "<x/>")).unwrap_err();
        assert!(e.to_string().contains("SAMLProviderList[0]"), "{e}");
    }

    #[test]
    fn oidc_providers_are_declared_in_the_export() {
        let arn = "arn:aws:iam::111122223333:oidc-provider/oidc.example.com/id/1";
        let snap = build(&format!(
            r#"{{"OpenIDConnectProviderList": [{{"Arn": "{arn}", "Url": "oidc.example.com/id/1",
                "ClientIDList": ["sts.amazonaws.com"], "ThumbprintList": ["{}"]}}]}}"#,
            "a".repeat(40)
        ))
        .unwrap();
        let p = snap.oidc_provider(arn).unwrap();
        assert_eq!(p.issuer(), "https://oidc.example.com/id/1");
        assert_eq!(p.client_id_list, vec!["sts.amazonaws.com"]);
        assert!(snap
            .oidc_provider("arn:aws:iam::111122223333:oidc-provider/other")
            .is_none());
        for (bad, why) in [
            (
                r#"{"Arn": "arn:aws:iam::111122223333:role/x", "Url": "x"}"#,
                "not an OpenID Connect provider ARN",
            ),
            (
                r#"{"Arn": "arn:aws:iam::111122223333:oidc-provider/a.example", "Url": "b.example"}"#,
                "names the URL",
            ),
            (
                r#"{"Arn": "arn:aws:iam::111122223333:oidc-provider/a.example", "Url": "a.example", "ThumbprintList": ["zz"]}"#,
                "thumbprint",
            ),
        ] {
            let e = build(&format!(r#"{{"OpenIDConnectProviderList": [{bad}]}}"#)).unwrap_err();
            assert!(e.to_string().contains(why), "{e}");
        }
        let twice = format!(
            r#"{{"OpenIDConnectProviderList": [{{"Arn": "{arn}", "Url": "oidc.example.com/id/1"}}, {{"Arn": "{arn}", "Url": "oidc.example.com/id/1"}}]}}"#
        );
        assert!(build(&twice)
            .unwrap_err()
            .to_string()
            .contains("declared twice"));
    }

    /// Found by the `account_export` fuzz target: a user entry with a role's ARN was accepted, then
    /// listed as a principal that no lookup could find.
    #[test]
    fn entities_must_carry_arns_of_their_kind() {
        let err = build(
            r#"{"UserDetailList": [{"UserName": "b", "UserId": "AIDAEXAMPLE",
                "Arn": "arn:aws:iam::111122223333:role/app/admin"}],
              "RoleDetailList": [{"RoleName": "r", "RoleId": "AROAEXAMPLE",
                "Arn": "arn:aws:iam::111122223333:user/r"}]}"#,
        )
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
        assert!(
            err.contains("UserDetailList[0] (b): `arn:aws:iam::111122223333:role/app/admin` is not an IAM user ARN"),
            "{err}"
        );
        assert!(
            err.contains(
                "RoleDetailList[0] (r): `arn:aws:iam::111122223333:user/r` is not an IAM role ARN"
            ),
            "{err}"
        );
    }

    #[test]
    fn every_listed_principal_resolves() {
        let snap = build(
            r#"{"UserDetailList": [{"UserName": "alice", "UserId": "AIDAEXAMPLE",
                "Arn": "arn:aws:iam::111122223333:user/division/alice"}],
              "RoleDetailList": [{"RoleName": "admin", "RoleId": "AROAEXAMPLE",
                "Arn": "arn:aws:iam::111122223333:role/app/admin"}]}"#,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let principals = snap.principals();
        assert_eq!(principals.len(), 2);
        for p in principals {
            let key = PrincipalKey::for_principal(&p, None).unwrap_or_else(|e| panic!("{e}"));
            assert!(snap.parts(&key).is_ok(), "{p}");
        }
    }
}
