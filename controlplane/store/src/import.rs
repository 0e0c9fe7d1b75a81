//! `iamlet iam import`: an account export (what `aws iam get-account-authorization-details` prints,
//! typed as [`AccountDetails`]) and optionally a credentials file (access keys, MFA devices, the
//! session key) loaded into the database in one transaction, through the same operations the IAM
//! API uses, so the same rules apply: names, paths, document sizes, quotas, references.
//!
//! The export is first compiled as the file store compiles it ([`Snapshot::build`]): broken input is
//! refused naming the entity and JSON path, before anything is written. The account is created
//! (with a root key, returned) when the database has none; otherwise the export's account must be
//! the database's. AWS managed policies the export refers to must be among the shipped ones
//! ([`crate::aws_managed`]) or come with the export's `Policies`, whose versions are then imported
//! as AWS's; customer managed policies it refers to come with it or are already in the database.
//! Entity ids (`UserId`, `RoleId`) are kept, so `aws:userid` stays what it was.

mod credentials;
#[cfg(test)]
mod tests;

use crate::aws_managed;
use crate::db::{db_error, Database, DatabaseUrl, Tx};
use crate::document::PolicyDocument;
use crate::error::IamError;
use crate::inline::Owner;
use crate::names::{IamPath, Name, NameKind, Tag};
use crate::policies::{check_policy_arn, versions, CreatePolicy};
use crate::roles::{CreateRole, DEFAULT_MAX_SESSION_DURATION};
use crate::users::CreateUser;
use crate::{Iam, Quotas, RootKey};
use iamlet_account::export::{AccountDetails, InlinePolicy, ManagedPolicyDetail};
use iamlet_account::Snapshot;
use iamlet_auth::Credentials;
use iamlet_engine::PolicyType;

/// What an import did.
#[derive(Debug)]
pub struct ImportOutcome {
    /// The account's id.
    pub account: String,
    /// The root user's access key, when the import created the account (shown once).
    pub root_key: Option<RootKey>,
    /// What was imported, for people.
    pub summary: String,
}

/// Counts for the summary.
#[derive(Debug, Default)]
struct Counts {
    users: usize,
    groups: usize,
    roles: usize,
    local_policies: usize,
    aws_policies_added: usize,
    access_keys: usize,
    mfa_devices: usize,
    oidc_providers: usize,
    saml_providers: usize,
    notes: Vec<String>,
}

/// An error at an entity of the export (`acct.json: UserDetailList[0] (alice): …`).
fn at(source: &str, entity: &str, e: IamError) -> IamError {
    IamError::new(e.code, format!("{source}: {entity}: {}", e.message))
}

/// Imports an export (`source` names it in messages) and credentials into the database at `url`,
/// with the default quotas.
pub async fn import(
    url: &DatabaseUrl,
    source: &str,
    details: &AccountDetails,
    credentials: Option<&Credentials>,
) -> Result<ImportOutcome, IamError> {
    let db = Database::open(url).await?;
    import_into(&db, Quotas::default(), source, details, credentials).await
}

/// Imports into an open database, in one transaction.
pub(crate) async fn import_into(
    db: &Database,
    quotas: Quotas,
    source: &str,
    details: &AccountDetails,
    credentials: Option<&Credentials>,
) -> Result<ImportOutcome, IamError> {
    let account = account_of(source, details)?;
    let mut tx = db.write().await?;
    let existing: Option<(String,)> = sqlx::query_as("SELECT id FROM iam_account")
        .fetch_optional(&mut *tx.inner)
        .await
        .map_err(db_error)?;
    let (root_key, created) = match existing {
        Some((id,)) if id == account => (None, false),
        Some((id,)) => {
            return Err(IamError::invalid_input(format!(
                "{source}: the export is account {account}'s, and {} holds account {id}",
                db.url()
            )))
        }
        None => (Some(crate::create_account(&mut tx, &account).await?), true),
    };
    // The database's AWS managed policies as this Iamlet ships them.
    aws_managed::seed(&mut tx).await?;
    // Whatever the import writes, every reader starts over.
    tx.touch(crate::changes::Touch::Account);
    let iam = Iam {
        db: db.clone(),
        account: account.clone(),
        quotas,
    };
    // The export is compiled as the file store compiles it, which wants every managed policy it
    // refers to: those it does not carry are the database's (AWS's as shipped, or the account's
    // own, for an import into an account that has them). Anything broken is refused here, before
    // a row is written (the transaction, the account's creation included, rolls back).
    let mut complete = details.clone();
    for arn in referenced(details) {
        if details.policies.iter().any(|p| p.arn == arn) {
            continue;
        }
        let Some(p) = iam.find_managed_policy(&mut tx, &arn).await? else {
            continue;
        };
        let v = iam
            .get_policy_version(&mut tx, &arn, &p.default_version)
            .await?;
        complete.policies.push(ManagedPolicyDetail {
            policy_name: p.name.as_str().to_owned(),
            arn: p.arn.clone(),
            default_version_id: Some(v.id.clone()),
            policy_version_list: vec![iamlet_account::export::PolicyVersion {
                version_id: v.id,
                is_default_version: true,
                document: Some(iamlet_account::export::Document(v.document)),
            }],
        });
    }
    Snapshot::build(&[(source.to_owned(), complete)], source)
        .map_err(|e| IamError::invalid_input(e.to_string()))?;

    let mut counts = Counts::default();
    iam.import_policies(&mut tx, source, details, &mut counts)
        .await?;
    iam.import_groups(&mut tx, source, details, &mut counts)
        .await?;
    iam.import_users(&mut tx, source, details, &mut counts)
        .await?;
    iam.import_roles(&mut tx, source, details, &mut counts)
        .await?;
    iam.import_oidc_providers(&mut tx, source, details, &mut counts)
        .await?;
    iam.import_saml_providers(&mut tx, source, details, &mut counts)
        .await?;
    if let Some(c) = credentials {
        iam.import_credentials(&mut tx, c, created, &mut counts)
            .await?;
    }
    tx.commit().await?;
    let mut summary = format!(
        "imported into account {account} ({}): {} users, {} groups, {} roles, {} customer managed policies, {} AWS managed policies added from the export, {} access keys, {} MFA devices, {} OpenID Connect providers, {} SAML providers",
        db.url(),
        counts.users,
        counts.groups,
        counts.roles,
        counts.local_policies,
        counts.aws_policies_added,
        counts.access_keys,
        counts.mfa_devices,
        counts.oidc_providers,
        counts.saml_providers,
    );
    for n in &counts.notes {
        summary.push_str("\n  ");
        summary.push_str(n);
    }
    Ok(ImportOutcome {
        account,
        root_key,
        summary,
    })
}

/// Every managed policy ARN the export's users, groups and roles refer to.
fn referenced(d: &AccountDetails) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for u in &d.user_detail_list {
        out.extend(
            u.attached_managed_policies
                .iter()
                .map(|a| a.policy_arn.clone()),
        );
        out.extend(
            u.permissions_boundary
                .iter()
                .map(|b| b.permissions_boundary_arn.clone()),
        );
    }
    for g in &d.group_detail_list {
        out.extend(
            g.attached_managed_policies
                .iter()
                .map(|a| a.policy_arn.clone()),
        );
    }
    for r in &d.role_detail_list {
        out.extend(
            r.attached_managed_policies
                .iter()
                .map(|a| a.policy_arn.clone()),
        );
        out.extend(
            r.permissions_boundary
                .iter()
                .map(|b| b.permissions_boundary_arn.clone()),
        );
    }
    out.sort();
    out.dedup();
    out
}

/// The one account every entity of the export belongs to.
fn account_of(source: &str, d: &AccountDetails) -> Result<String, IamError> {
    let mut arns: Vec<(String, &str)> = Vec::new();
    for (i, u) in d.user_detail_list.iter().enumerate() {
        arns.push((format!("UserDetailList[{i}] ({})", u.user_name), &u.arn));
    }
    for (i, g) in d.group_detail_list.iter().enumerate() {
        arns.push((format!("GroupDetailList[{i}] ({})", g.group_name), &g.arn));
    }
    for (i, r) in d.role_detail_list.iter().enumerate() {
        arns.push((format!("RoleDetailList[{i}] ({})", r.role_name), &r.arn));
    }
    for (i, p) in d.policies.iter().enumerate() {
        if !p.arn.starts_with("arn:aws:iam::aws:") {
            arns.push((format!("Policies[{i}] ({})", p.policy_name), &p.arn));
        }
    }
    let mut account: Option<(String, String)> = None;
    for (entity, arn) in arns {
        let a = iamlet_engine::Arn::parse(arn)
            .map(|a| a.account.to_owned())
            .unwrap_or_default();
        match &account {
            None => account = Some((a, entity)),
            Some((first, first_entity)) if *first != a => {
                return Err(IamError::invalid_input(format!(
                    "{source}: {entity}: `{arn}` is in account {a}, and {first_entity} in account {first}: an import loads one account"
                )))
            }
            Some(_) => {}
        }
    }
    account.map(|(a, _)| a).ok_or_else(|| {
        IamError::invalid_input(format!(
            "{source}: the export has no user, group, role or customer managed policy to name its account"
        ))
    })
}

/// An IAM entity's ARN split: its path and name, checked against the kind (`user`, `group`,
/// `role`, `policy`) and account.
fn path_and_name(arn: &str, kind: &str, account: &str) -> Result<(IamPath, String), IamError> {
    let invalid = || {
        IamError::invalid_input(format!(
            "`{arn}` is not an IAM {kind} ARN of account {account}"
        ))
    };
    let parsed = iamlet_engine::Arn::parse(arn).ok_or_else(invalid)?;
    let rest = parsed
        .resource
        .strip_prefix(kind)
        .filter(|r| r.starts_with('/'))
        .ok_or_else(invalid)?;
    if parsed.service != "iam" || parsed.account != account {
        return Err(invalid());
    }
    let (path, name) = rest.rsplit_once('/').ok_or_else(invalid)?;
    let path = IamPath::parse("Path", Some(&format!("{path}/")))?;
    Ok((path, name.to_owned()))
}

/// The entity's name in its ARN must be the one the export gives.
fn same_name(arn: &str, from_arn: &str, given: &str) -> Result<(), IamError> {
    if from_arn != given {
        return Err(IamError::invalid_input(format!(
            "the name `{given}` is not the one in its ARN `{arn}`"
        )));
    }
    Ok(())
}

/// An id kept from the export when it has IAM's shape (letters and digits, 16 to 128).
fn kept_id(id: Option<&String>) -> Option<&str> {
    id.map(String::as_str).filter(|id| {
        (16..=128).contains(&id.len())
            && id
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
    })
}

impl Iam {
    async fn import_inline(
        &self,
        tx: &mut Tx,
        owner: Owner<'_>,
        list: &[InlinePolicy],
    ) -> Result<(), IamError> {
        for p in list {
            let name = Name::parse("PolicyName", &p.policy_name, NameKind::Policy)?;
            let doc = PolicyDocument::parse(
                "PolicyDocument",
                p.policy_document.text(),
                PolicyType::Identity,
            )?;
            self.put_inline_policy(tx, owner, &name, &doc).await?;
        }
        Ok(())
    }

    async fn import_policies(
        &self,
        tx: &mut Tx,
        source: &str,
        d: &AccountDetails,
        counts: &mut Counts,
    ) -> Result<(), IamError> {
        for (i, p) in d.policies.iter().enumerate() {
            let entity = format!("Policies[{i}] ({})", p.policy_name);
            self.import_policy(tx, p, counts)
                .await
                .map_err(|e| at(source, &entity, e))?;
        }
        Ok(())
    }

    async fn import_policy(
        &self,
        tx: &mut Tx,
        p: &ManagedPolicyDetail,
        counts: &mut Counts,
    ) -> Result<(), IamError> {
        check_policy_arn(&p.arn)?;
        let aws = p.arn.starts_with("arn:aws:iam::aws:");
        let owner = if aws { "aws" } else { self.account_id() };
        let (path, name) = path_and_name(&p.arn, "policy", owner)?;
        if !p.policy_name.is_empty() {
            same_name(&p.arn, &name, &p.policy_name)?;
        }
        let name = Name::parse("PolicyName", &name, NameKind::Policy)?;
        let path = IamPath::parse_policy("Path", Some(path.as_str()))?;
        let default = p
            .policy_version_list
            .iter()
            .find(|v| v.is_default_version)
            .or_else(|| {
                p.policy_version_list
                    .iter()
                    .find(|v| p.default_version_id.as_deref() == Some(v.version_id.as_str()))
            })
            .map(|v| v.version_id.clone())
            .ok_or_else(|| IamError::invalid_input("no version is the default"))?;
        let mut list: Vec<(i64, &str, String)> = Vec::new();
        for v in &p.policy_version_list {
            let n = versions::number(&versions::parse_version_id("VersionId", &v.version_id)?)
                .unwrap_or_default();
            let doc = v.document.as_ref().ok_or_else(|| {
                IamError::invalid_input(format!("version {} has no Document", v.version_id))
            })?;
            list.push((n, &v.version_id, doc.text().to_owned()));
        }
        list.sort_by_key(|(n, _, _)| *n);
        if aws {
            if let Some(have) = self.find_managed_policy(tx, &p.arn).await? {
                let ours = self
                    .get_policy_version(tx, &have.arn, &have.default_version)
                    .await?;
                let theirs = list.iter().find(|(_, id, _)| **id == default);
                let same = theirs.is_some_and(|(_, _, doc)| same_json(doc, &ours.document));
                if !same {
                    counts.notes.push(format!(
                        "{}: the export's default version {default} differs from this database's {} (AWS's as Iamlet ships it); the database's is kept",
                        p.arn, have.default_version
                    ));
                }
                return Ok(());
            }
            for (_, _, doc) in &list {
                PolicyDocument::parse("PolicyDocument", doc, PolicyType::Identity)?;
            }
            self.install_aws_policy(tx, &name, &path, &p.arn, &list, &default)
                .await?;
            counts.aws_policies_added += 1;
            return Ok(());
        }
        let max = self.quotas().policy_versions;
        if list.len() > max {
            return Err(IamError::limit_exceeded(format!(
                "A managed policy can have up to {max} versions; the export gives {}",
                list.len()
            )));
        }
        let mut docs = Vec::with_capacity(list.len());
        for (_, id, text) in &list {
            docs.push((
                *id,
                PolicyDocument::parse("PolicyDocument", text, PolicyType::Identity)?,
            ));
        }
        let mut docs = docs.into_iter();
        let Some((first_id, first)) = docs.next() else {
            return Err(IamError::invalid_input("the policy has no version"));
        };
        let create = CreatePolicy {
            name,
            path,
            document: first,
            description: None,
            tags: Vec::new(),
        };
        let info = self.create_policy_as(tx, &create, None, first_id).await?;
        for (id, doc) in docs {
            doc.within("PolicySize", crate::quotas::document::MANAGED)?;
            self.add_version(tx, &info.policy, id, doc.text(), id == default)
                .await?;
        }
        counts.local_policies += 1;
        Ok(())
    }

    /// Adds an AWS managed policy Iamlet does not ship, with the export's versions.
    async fn install_aws_policy(
        &self,
        tx: &mut Tx,
        name: &Name,
        path: &IamPath,
        arn: &str,
        list: &[(i64, &str, String)],
        default: &str,
    ) -> Result<(), IamError> {
        let id = crate::new_id("ANPA")?;
        let now = crate::model::now();
        let next = list.iter().map(|(n, _, _)| *n).max().unwrap_or(0) + 1;
        sqlx::query(
            "INSERT INTO iam_policies (id, arn, name, name_key, path, description, created_at, updated_at, \
             default_version, next_version, aws_managed) VALUES ($1, $2, $3, $4, $5, NULL, $6, $6, $7, $8, 1)",
        )
        .bind(&id)
        .bind(arn)
        .bind(name.as_str())
        .bind(name.key())
        .bind(path.as_str())
        .bind(now)
        .bind(default)
        .bind(next)
        .execute(&mut *tx.inner)
        .await
        .map_err(db_error)?;
        for (_, v, doc) in list {
            versions::insert(tx, &id, v, doc, now).await?;
        }
        tx.touch(crate::changes::Touch::Policy(id.clone()));
        Ok(())
    }

    async fn import_groups(
        &self,
        tx: &mut Tx,
        source: &str,
        d: &AccountDetails,
        counts: &mut Counts,
    ) -> Result<(), IamError> {
        for (i, g) in d.group_detail_list.iter().enumerate() {
            let entity = format!("GroupDetailList[{i}] ({})", g.group_name);
            let result: Result<(), IamError> = async {
                let (path, name) = path_and_name(&g.arn, "group", self.account_id())?;
                same_name(&g.arn, &name, &g.group_name)?;
                let name = Name::parse("GroupName", &name, NameKind::Group)?;
                self.create_group(tx, &name, &path).await?;
                self.import_inline(tx, Owner::Group(&name), &g.group_policy_list)
                    .await?;
                for a in &g.attached_managed_policies {
                    self.attach_policy(tx, Owner::Group(&name), &a.policy_arn)
                        .await?;
                }
                Ok(())
            }
            .await;
            result.map_err(|e| at(source, &entity, e))?;
            counts.groups += 1;
        }
        Ok(())
    }

    async fn import_users(
        &self,
        tx: &mut Tx,
        source: &str,
        d: &AccountDetails,
        counts: &mut Counts,
    ) -> Result<(), IamError> {
        for (i, u) in d.user_detail_list.iter().enumerate() {
            let entity = format!("UserDetailList[{i}] ({})", u.user_name);
            let result: Result<(), IamError> = async {
                let (path, name) = path_and_name(&u.arn, "user", self.account_id())?;
                same_name(&u.arn, &name, &u.user_name)?;
                if let Some(p) = &u.path {
                    if p != path.as_str() {
                        return Err(IamError::invalid_input(format!(
                            "the path `{p}` is not the one in its ARN `{}`",
                            u.arn
                        )));
                    }
                }
                let name = Name::parse("UserName", &name, NameKind::User)?;
                let pairs: Vec<(&str, &str)> = u
                    .tags
                    .iter()
                    .map(|t| (t.key.as_str(), t.value.as_str()))
                    .collect();
                let create = CreateUser {
                    name: name.clone(),
                    path,
                    boundary: u
                        .permissions_boundary
                        .as_ref()
                        .map(|b| b.permissions_boundary_arn.clone()),
                    tags: Tag::parse_list(&pairs)?,
                };
                self.create_user_as(tx, &create, kept_id(u.user_id.as_ref()))
                    .await?;
                for g in &u.group_list {
                    let group = Name::parse("GroupName", g, NameKind::Group)?;
                    self.add_user_to_group(tx, &group, &name).await?;
                }
                self.import_inline(tx, Owner::User(&name), &u.user_policy_list)
                    .await?;
                for a in &u.attached_managed_policies {
                    self.attach_policy(tx, Owner::User(&name), &a.policy_arn)
                        .await?;
                }
                Ok(())
            }
            .await;
            result.map_err(|e| at(source, &entity, e))?;
            counts.users += 1;
        }
        Ok(())
    }

    /// The export's OpenID Connect providers (`OpenIDConnectProviderList`, as `iamlet iam export`
    /// writes them), each checked as `CreateOpenIDConnectProvider` checks its parameters.
    async fn import_oidc_providers(
        &self,
        tx: &mut Tx,
        source: &str,
        d: &AccountDetails,
        counts: &mut Counts,
    ) -> Result<(), IamError> {
        for (i, p) in d.oidc_providers.iter().enumerate() {
            let entity = format!("OpenIDConnectProviderList[{i}] ({})", p.arn);
            let result: Result<(), IamError> = async {
                let url = crate::OidcUrl::parse(&format!("https://{}", p.url))?;
                if self.oidc_arn(&url) != p.arn {
                    return Err(IamError::invalid_input(format!(
                        "the ARN is not {}, this account's for the URL",
                        self.oidc_arn(&url)
                    )));
                }
                let ids: Vec<&str> = p.client_id_list.iter().map(String::as_str).collect();
                let thumbs: Vec<&str> = p.thumbprint_list.iter().map(String::as_str).collect();
                let create = crate::CreateOidcProvider {
                    url,
                    client_ids: crate::oidc::parse_client_ids(&ids)?,
                    thumbprints: crate::oidc::parse_thumbprints(&thumbs)?,
                    tags: Vec::new(),
                };
                self.create_oidc_provider(tx, &create).await?;
                Ok(())
            }
            .await;
            result.map_err(|e| at(source, &entity, e))?;
            counts.oidc_providers += 1;
        }
        Ok(())
    }

    /// The export's SAML providers (`SAMLProviderList`, as `iamlet iam export` writes them), each
    /// checked as `CreateSAMLProvider` checks its parameters.
    async fn import_saml_providers(
        &self,
        tx: &mut Tx,
        source: &str,
        d: &AccountDetails,
        counts: &mut Counts,
    ) -> Result<(), IamError> {
        for (i, p) in d.saml_providers.iter().enumerate() {
            let entity = format!("SAMLProviderList[{i}] ({})", p.arn);
            let result: Result<(), IamError> = async {
                let name = crate::saml::parse_name(p.name())?;
                if self.saml_arn(&name) != p.arn {
                    return Err(IamError::invalid_input(format!(
                        "the ARN is not {}, this account's for the name",
                        self.saml_arn(&name)
                    )));
                }
                let document = crate::SamlMetadataDocument::parse(&p.saml_metadata_document)?;
                self.create_saml_provider(tx, &name, &document, &[]).await?;
                Ok(())
            }
            .await;
            result.map_err(|e| at(source, &entity, e))?;
            counts.saml_providers += 1;
        }
        Ok(())
    }

    async fn import_roles(
        &self,
        tx: &mut Tx,
        source: &str,
        d: &AccountDetails,
        counts: &mut Counts,
    ) -> Result<(), IamError> {
        for (i, r) in d.role_detail_list.iter().enumerate() {
            let entity = format!("RoleDetailList[{i}] ({})", r.role_name);
            let result: Result<(), IamError> = async {
                let (path, name) = path_and_name(&r.arn, "role", self.account_id())?;
                same_name(&r.arn, &name, &r.role_name)?;
                if let Some(p) = &r.path {
                    if p != path.as_str() {
                        return Err(IamError::invalid_input(format!(
                            "the path `{p}` is not the one in its ARN `{}`",
                            r.arn
                        )));
                    }
                }
                let name = Name::parse("RoleName", &name, NameKind::Role)?;
                let trust = r.assume_role_policy_document.as_ref().ok_or_else(|| {
                    IamError::invalid_input("the role has no AssumeRolePolicyDocument")
                })?;
                let pairs: Vec<(&str, &str)> = r
                    .tags
                    .iter()
                    .map(|t| (t.key.as_str(), t.value.as_str()))
                    .collect();
                let service_linked = path.as_str().starts_with("/aws-service-role/");
                let create = CreateRole {
                    name: name.clone(),
                    path,
                    trust: PolicyDocument::parse(
                        "AssumeRolePolicyDocument",
                        trust.text(),
                        PolicyType::Trust,
                    )?,
                    description: None,
                    max_session_duration: DEFAULT_MAX_SESSION_DURATION,
                    boundary: r
                        .permissions_boundary
                        .as_ref()
                        .map(|b| b.permissions_boundary_arn.clone()),
                    tags: Tag::parse_list(&pairs)?,
                };
                let role = self
                    .create_role_as(tx, &create, kept_id(r.role_id.as_ref()), false)
                    .await?;
                self.import_inline(tx, Owner::Role(&name), &r.role_policy_list)
                    .await?;
                for a in &r.attached_managed_policies {
                    self.attach_policy(tx, Owner::Role(&name), &a.policy_arn)
                        .await?;
                }
                // A service-linked role's policies are set by its service: it is marked only now
                // that they are in place (callers may not change them after).
                if service_linked {
                    tx.exec_id(
                        "UPDATE iam_roles SET service_linked = 1 WHERE id = $1",
                        &role.id,
                    )
                    .await?;
                }
                Ok(())
            }
            .await;
            result.map_err(|e| at(source, &entity, e))?;
            counts.roles += 1;
        }
        Ok(())
    }
}

/// Whether two documents are the same JSON.
fn same_json(a: &str, b: &str) -> bool {
    match (
        serde_json::from_str::<serde_json::Value>(a),
        serde_json::from_str::<serde_json::Value>(b),
    ) {
        (Ok(x), Ok(y)) => x == y,
        _ => a == b,
    }
}
