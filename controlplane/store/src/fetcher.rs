//! The sidecar's identity source on the IAM database (`[store] accounts = "database"`): one
//! principal's part of the account read on a cache miss and compiled by the same code that compiles
//! an export file, so a principal decides the same whether it comes from the database or from
//! `iamlet iam export`'s output. The store forgets every compiled principal when the identity
//! generation moves.

use crate::export::PrincipalRef;
use crate::generation::{DataKind, Watcher};
use crate::names::Name;
use crate::{Iam, IamError};
use iamlet_account::export::OidcProviderDetail;
use iamlet_account::{FetchError, Parts, PrincipalKey, Snapshot};
use iamlet_engine::PrincipalKind;
use iamlet_store::{BoxFuture, Fetcher, LiveFetcher};
use std::time::Duration;

/// Fetches principals from the IAM database.
#[derive(Debug)]
pub struct DatabaseFetcher {
    iam: Iam,
    watcher: Watcher,
}

impl DatabaseFetcher {
    /// A fetcher that notices other processes' changes within `poll` (this process's at once).
    pub async fn new(iam: Iam, poll: Duration) -> Result<DatabaseFetcher, IamError> {
        let watcher = Watcher::new(iam.database().clone(), DataKind::Identity, poll).await?;
        Ok(DatabaseFetcher { iam, watcher })
    }

    async fn parts(&self, key: &PrincipalKey) -> Result<Parts, FetchError> {
        let not_found = || FetchError::NotFound(key.describe().to_owned());
        let account = self.iam.account_id();
        let (which, arn) = match key {
            PrincipalKey::Root(a) if a == account => {
                let arn = self.iam.root_arn();
                return Ok(Parts::empty(PrincipalKind::Root, &arn, Some(a)));
            }
            PrincipalKey::Root(_) => return Err(not_found()),
            PrincipalKey::Service(name) => {
                return Ok(Parts::empty(PrincipalKind::Service, name, None))
            }
            PrincipalKey::Anonymous => {
                return Ok(Parts::empty(PrincipalKind::Anonymous, "anonymous", None))
            }
            PrincipalKey::User(arn) | PrincipalKey::FederatedUser { issuer: arn, .. } => {
                (EntityRef::User, arn)
            }
            PrincipalKey::Role(arn) | PrincipalKey::RoleSession(arn) => (EntityRef::Role, arn),
        };
        // Only this account's entities are here; the name is the ARN's last segment, and the
        // compiled snapshot checks the whole ARN (path included) as a file's would.
        if iamlet_engine::Arn::parse(arn).is_none_or(|a| a.account != account) {
            return Err(not_found());
        }
        let Ok(name) = Name::parse(
            "name",
            arn.rsplit('/').next().unwrap_or_default(),
            which.kind(),
        ) else {
            return Err(not_found());
        };
        let failed = |e: IamError| FetchError::Failed(format!("the IAM database: {}", e.message));
        let mut tx = self.iam.read().await.map_err(failed)?;
        let details = match which {
            EntityRef::User => {
                self.iam
                    .principal_details(&mut tx, PrincipalRef::User(&name))
                    .await
            }
            EntityRef::Role => {
                self.iam
                    .principal_details(&mut tx, PrincipalRef::Role(&name))
                    .await
            }
        }
        .map_err(failed)?
        .ok_or_else(not_found)?;
        drop(tx);
        let max_session = details.roles.first().map(|r| r.role.max_session_duration);
        let snapshot = Snapshot::build(
            &[("the IAM database".to_owned(), details.to_account_details())],
            "the IAM database",
        )
        .map_err(|e| FetchError::Failed(e.to_string()))?;
        let mut parts = snapshot.parts(key)?;
        parts.max_session_duration = max_session;
        Ok(parts)
    }
}

#[derive(Clone, Copy)]
enum EntityRef {
    User,
    Role,
}

impl EntityRef {
    fn kind(self) -> crate::NameKind {
        match self {
            EntityRef::User => crate::NameKind::User,
            EntityRef::Role => crate::NameKind::Role,
        }
    }
}

impl Fetcher for DatabaseFetcher {
    fn fetch<'a>(&'a self, key: &'a PrincipalKey) -> BoxFuture<'a, Result<Parts, FetchError>> {
        Box::pin(self.parts(key))
    }

    fn oidc_provider<'a>(
        &'a self,
        arn: &'a str,
    ) -> BoxFuture<'a, Result<Option<OidcProviderDetail>, FetchError>> {
        Box::pin(async move {
            let failed =
                |e: IamError| FetchError::Failed(format!("the IAM database: {}", e.message));
            let mut tx = self.iam.read().await.map_err(failed)?;
            let found = self
                .iam
                .find_oidc_provider(&mut tx, arn)
                .await
                .map_err(failed)?;
            Ok(found.map(|p| p.to_detail()))
        })
    }
}

impl LiveFetcher for DatabaseFetcher {
    fn changed(&self) -> BoxFuture<'_, ()> {
        Box::pin(self.watcher.changed())
    }
}
