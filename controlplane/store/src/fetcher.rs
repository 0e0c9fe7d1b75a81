//! The sidecar's identity source on the IAM database (`[store] accounts = "database"`): one
//! principal's part of the account read on a cache miss and compiled by the same code that compiles
//! an export file, so a principal decides the same whether it comes from the database or from
//! `iamlet iam export`'s output. The store forgets exactly the principals each change in the
//! database's change feed ([`crate::changes`]) names, in the order they committed.

use crate::export::PrincipalRef;
use crate::names::Name;
use crate::{Iam, IamError};
use iamlet_account::export::{OidcProviderDetail, SamlProviderDetail};
use iamlet_account::{FetchError, Parts, PrincipalKey, Snapshot};
use iamlet_engine::PrincipalKind;
use iamlet_store::{BoxFuture, Changed, FeedChange, FeedPage, Fetcher, LiveFetcher};
use std::time::Duration;

/// How long one wait on the feed lasts before it is asked again (any commit ends it sooner).
const FEED_WAIT: Duration = Duration::from_secs(30);
/// Changes read at once.
const FEED_PAGE: u32 = 1000;

/// Fetches principals from the IAM database.
#[derive(Debug)]
pub struct DatabaseFetcher {
    iam: Iam,
    poll: Duration,
    /// The last change applied: the feed resumes after it.
    position: tokio::sync::Mutex<i64>,
}

impl DatabaseFetcher {
    /// A fetcher that notices other processes' changes within `poll` (this process's at once).
    pub async fn new(iam: Iam, poll: Duration) -> Result<DatabaseFetcher, IamError> {
        let position = iam.database().latest_change().await?;
        Ok(DatabaseFetcher {
            iam,
            poll,
            position: tokio::sync::Mutex::new(position),
        })
    }

    /// The next changes that name principals, after the last applied. A database that cannot be
    /// read is retried at the poll interval (and reported): the cache keeps serving within its
    /// `max_stale` meanwhile.
    async fn next_change(&self) -> Changed {
        let mut position = self.position.lock().await;
        loop {
            let db = self.iam.database();
            let page = match db
                .wait_for_changes(*position, FEED_PAGE, FEED_WAIT, self.poll)
                .await
            {
                Ok(page) => page,
                Err(e) => {
                    tracing::warn!(error = %e, "reading the IAM database's change feed failed");
                    tokio::time::sleep(self.poll).await;
                    continue;
                }
            };
            let page = FeedPage {
                latest: page.latest,
                resync: page.resync,
                changes: page
                    .changes
                    .into_iter()
                    .map(|c| FeedChange {
                        sequence: c.sequence,
                        everything: c.everything,
                        principals: c.principals,
                    })
                    .collect(),
            };
            if let Some(changed) = page.apply(&mut position) {
                return changed;
            }
        }
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

    fn saml_provider<'a>(
        &'a self,
        arn: &'a str,
    ) -> BoxFuture<'a, Result<Option<SamlProviderDetail>, FetchError>> {
        Box::pin(async move {
            let failed =
                |e: IamError| FetchError::Failed(format!("the IAM database: {}", e.message));
            let mut tx = self.iam.read().await.map_err(failed)?;
            let found = self
                .iam
                .find_saml_provider(&mut tx, arn)
                .await
                .map_err(failed)?;
            Ok(found.map(|p| p.to_detail()))
        })
    }
}

impl LiveFetcher for DatabaseFetcher {
    fn changed(&self) -> BoxFuture<'_, Changed> {
        Box::pin(self.next_change())
    }
}
