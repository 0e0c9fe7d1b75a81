//! Iamlet's IAM database: the account's users, groups, roles, instance profiles, managed and inline
//! policies, tags, access keys, console passwords, MFA devices and password policy, kept in SQLite
//! (embedded, the default) or PostgreSQL and changed one transaction per API call.
//!
//! - [`Iam`] is one account's database: [`Iam::init`] creates it (and the root user's access key),
//!   [`Iam::open`] opens it. Every operation takes a [`Tx`] from [`Iam::read`] or [`Iam::write`]
//!   and the caller commits: the IAM API authorizes a call and changes the database in one
//!   transaction.
//! - Inputs are typed ([`Name`], [`IamPath`], [`Tag`], [`Page`]), checked at the edge with IAM's
//!   rules; errors are [`IamError`]s with AWS's codes.
//! - Every committed write is a numbered change in the [`changes`] feed, naming what it touched and
//!   the principals whose decisions it may change: the sidecar's identity source
//!   ([`DatabaseFetcher`]) forgets exactly those. Its credentials ([`DatabaseCredentials`]) reload
//!   when the credentials [`generation`] moves.
//! - [`export`] writes the account as `GetAccountAuthorizationDetails` does, the format Iamlet's file
//!   store reads; [`import`] loads such an export (and a credentials file).
//! - [`aws_managed`] ships AWS's managed policies as data: every database has them, up to date.
//!
//! What this crate must not do: decide access (the IAM API asks the engine first) or speak HTTP.

#![forbid(unsafe_code)]

mod account;
mod attachments;
pub mod aws_managed;
mod boundaries;
pub mod changes;
mod credentials;
mod db;
mod document;
mod error;
pub mod export;
mod fetcher;
pub mod generation;
mod groups;
pub mod import;
mod inline;
mod keys;
mod listen;
mod mfa;
mod model;
pub mod names;
pub mod oidc;
mod page;
mod passwords;
pub mod policies;
mod profiles;
pub mod quotas;
mod report;
pub mod roles;
pub mod saml;
mod schema;
mod sql;
mod tags;
#[cfg(test)]
mod tests;
mod users;

pub use account::{parse_alias, Summary};
pub use changes::{Change, ChangesPage};
pub use credentials::DatabaseCredentials;
pub use db::{Database, DatabaseUrl, Dialect, Tx};
pub use document::PolicyDocument;
pub use error::{ErrorCode, IamError};
pub use fetcher::DatabaseFetcher;
pub use generation::DataKind;
pub use groups::UpdateGroup;
pub use inline::Owner;
pub use keys::{parse_key_id, AccessKeyMeta, KeyLastUsed, KeyOwner, KeyState};
pub use mfa::{
    parse_code, parse_serial, Assignment, NewMfaDevice, UserMfaDevice, VirtualMfaDevice,
};
pub use model::{iso8601, EntityKind, Group, InstanceProfile, Role, User};
pub use names::{IamPath, Name, NameKind, PathPrefix, Tag};
pub use oidc::{CreateOidcProvider, OidcProvider, OidcUrl};
pub use page::{Page, Paged};
pub use passwords::{parse_password, LoginProfile, UpdateLoginProfile};
pub use policies::entities::{EntityFilter, PolicyEntities, PolicyEntity};
pub use policies::versions::parse_version_id;
pub use policies::{
    check_policy_arn, CreatePolicy, ListPolicies, ManagedPolicy, PolicyInfo, PolicyScope,
    PolicyUsage,
};
pub use quotas::Quotas;
pub use report::{CredentialReport, ReportState, REPORT_LIFETIME_SECONDS};
pub use roles::service_linked::{CreateServiceLinkedRole, DeletionStatus};
pub use roles::{CreateRole, UpdateRole, DEFAULT_MAX_SESSION_DURATION};
pub use saml::{SamlMetadataDocument, SamlProvider};
pub use tags::parse_keys as parse_tag_keys;
pub use users::{CreateUser, UpdateUser};

use changes::Touch;
use db::db_error;

/// The owner of the root user's access keys in `iam_access_keys`.
pub(crate) const ROOT_OWNER: &str = "root";

/// One account's IAM database.
#[derive(Clone, Debug)]
pub struct Iam {
    db: Database,
    account: String,
    quotas: Quotas,
}

/// The root user's access key, printed once by `iamlet iam init`.
#[derive(Debug)]
pub struct RootKey {
    /// `AKIA…`.
    pub access_key_id: String,
    /// Its secret.
    pub secret_access_key: iamlet_auth::Secret,
}

impl Iam {
    /// Opens an initialised database.
    pub async fn open(url: &DatabaseUrl, quotas: Quotas) -> Result<Iam, IamError> {
        let db = Database::open(url).await?;
        let rows: Vec<(String,)> = sqlx::query_as("SELECT id FROM iam_account")
            .fetch_all(db.pool())
            .await
            .map_err(db_error)?;
        let Some((account,)) = rows.into_iter().next() else {
            return Err(IamError::service(format!(
                "{url} holds no account yet: run `iamlet iam init --database {url} --account-id ID`"
            )));
        };
        // The AWS managed policies this Iamlet ships, added or brought up to date.
        let mut tx = db.write().await?;
        let changed = aws_managed::seed(&mut tx).await?;
        tx.commit().await?;
        if changed > 0 {
            tracing::info!(changed, "brought the AWS managed policies up to date");
        }
        Ok(Iam {
            db,
            account,
            quotas,
        })
    }

    /// Creates the account in a new database (or one without an account): its STS session key and
    /// the root user's access key, returned once.
    pub async fn init(
        url: &DatabaseUrl,
        account_id: &str,
        quotas: Quotas,
    ) -> Result<(Iam, RootKey), IamError> {
        check_account_id(account_id)?;
        let db = Database::open(url).await?;
        let mut tx = db.write().await?;
        let existing: Vec<(String,)> = sqlx::query_as("SELECT id FROM iam_account")
            .fetch_all(&mut *tx.inner)
            .await
            .map_err(db_error)?;
        if let Some((id,)) = existing.first() {
            return Err(IamError::already_exists(format!(
                "{url} already holds account {id}"
            )));
        }
        let root = create_account(&mut tx, account_id).await?;
        tx.commit().await?;
        let iam = Iam {
            db,
            account: account_id.to_owned(),
            quotas,
        };
        Ok((iam, root))
    }

    /// The account's id.
    pub fn account_id(&self) -> &str {
        &self.account
    }

    /// The database.
    pub fn database(&self) -> &Database {
        &self.db
    }

    /// The quotas enforced.
    pub fn quotas(&self) -> &Quotas {
        &self.quotas
    }

    /// A transaction that reads.
    pub async fn read(&self) -> Result<Tx, IamError> {
        self.db.read().await
    }

    /// A transaction that writes.
    pub async fn write(&self) -> Result<Tx, IamError> {
        self.db.write().await
    }

    /// `arn:aws:iam::ACCOUNT:{kind}{path}{name}`.
    pub fn arn(&self, kind: EntityKind, path: &IamPath, name: &str) -> String {
        format!(
            "arn:aws:iam::{}:{}{}{}",
            self.account,
            kind.as_str(),
            path.as_str(),
            name
        )
    }

    /// When the account was created.
    pub async fn created(&self, tx: &mut Tx) -> Result<i64, IamError> {
        let (at,): (i64,) = sqlx::query_as("SELECT created_at FROM iam_account")
            .fetch_one(&mut *tx.inner)
            .await
            .map_err(db_error)?;
        Ok(at)
    }

    /// The root user's ARN.
    pub fn root_arn(&self) -> String {
        format!("arn:aws:iam::{}:root", self.account)
    }
}

/// Creates the account in a database that has none, in the caller's transaction: the account row,
/// the STS session key, the root user's access key (returned) and the AWS managed policies.
pub(crate) async fn create_account(tx: &mut Tx, account_id: &str) -> Result<RootKey, IamError> {
    check_account_id(account_id)?;
    let now = model::now();
    sqlx::query("INSERT INTO iam_account (id, created_at) VALUES ($1, $2)")
        .bind(account_id)
        .bind(now)
        .execute(&mut *tx.inner)
        .await
        .map_err(db_error)?;
    let session_key = iamlet_auth::SessionKey::generate().map_err(credentials_error)?;
    sqlx::query("INSERT INTO iam_sts (id, session_key) VALUES (1, $1)")
        .bind(session_key.expose())
        .execute(&mut *tx.inner)
        .await
        .map_err(db_error)?;
    let (access_key_id, secret) = iamlet_auth::new_key_pair().map_err(credentials_error)?;
    sqlx::query(
        "INSERT INTO iam_access_keys (id, user_id, secret, status, created_at) VALUES ($1, $2, $3, 'Active', $4)",
    )
    .bind(&access_key_id)
    .bind(ROOT_OWNER)
    .bind(secret.expose())
    .bind(now)
    .execute(&mut *tx.inner)
    .await
    .map_err(db_error)?;
    tx.touch(Touch::Account);
    aws_managed::seed(tx).await?;
    Ok(RootKey {
        access_key_id,
        secret_access_key: secret,
    })
}

/// An account id is twelve digits.
fn check_account_id(account_id: &str) -> Result<(), IamError> {
    if account_id.len() != 12 || !account_id.bytes().all(|b| b.is_ascii_digit()) {
        return Err(IamError::validation(format!(
            "the account id `{account_id}` is not twelve digits"
        )));
    }
    Ok(())
}

/// A new unique id with IAM's prefix for the kind (`AIDA`, `AGPA`, `AROA`, `ANPA`, `AIPA`).
pub(crate) fn new_id(prefix: &str) -> Result<String, IamError> {
    iamlet_auth::new_unique_id(prefix).map_err(credentials_error)
}

/// A failure of the system's random number generator or of a key's encoding.
pub(crate) fn credentials_error(e: iamlet_auth::CredentialsError) -> IamError {
    IamError::service(e.to_string())
}
