//! The identity store: where the policies of a principal come from, and the cache that keeps them
//! compiled.
//!
//! A [`Store`] answers "what applies to this principal?" with a [`Resolved`]: the principal's
//! identity-based policies (its own and its groups'), its permissions boundary, the SCP and RCP levels
//! of its account, and its tags, compiled once into a `PolicySet` and kept in a per-principal LRU
//! cache ([`cache`]). [`Store::prepare`] then adds the resource's side (a resource-based policy from
//! the organization file, a role's trust policy for `sts:` actions, the RCPs of another account) and
//! builds the engine's `Request`.
//!
//! Sources of identity data:
//! - an account export (`aws iam get-account-authorization-details`) in a file or a directory of
//!   files ([`file`]), or at an HTTP(S) URL polled with `ETag`s ([`http`]); watched, and swapped
//!   atomically when a new version compiles (a broken one is reported and the last good one kept);
//! - the live IAM API ([`iam_api`]): per principal on a cache miss, or the whole account via
//!   `GetAccountAuthorizationDetails`, refreshed like a file.
//!
//! Beside it, an optional organization file ([`organization`]): SCPs, RCPs and resource-based
//! policies. Sources are named one way for the command line and the sidecar
//! ([`AccountSource::parse`]).
//!
//! What this crate must not do: decide (the engine does, on what [`Store::prepare`] returns), or
//! know IAM's semantics beyond reading documents: what a document means, and which policies take
//! part in a request, is `iamlet-account`'s.

#![forbid(unsafe_code)]

pub mod cache;
pub mod file;
pub mod http;
pub mod iam_api;
mod publish;
mod source;

use publish::{build_organization, build_snapshot, SnapshotFetcher, Watched};
pub use publish::{Published, SourceStatus};
pub use source::{
    AccountSource, Changed, FeedChange, FeedPage, LiveFetcher, OrganizationSource, StoreConfig,
};

// What the documents mean (parsing, compiling, resolving) lives in `iamlet-account`, with no I/O;
// this module reads them and caches what it resolves.
pub use iamlet_account::export::{OidcProviderDetail, SamlProviderDetail};
pub use iamlet_account::{
    additions_with, resource_side, trusted_role, EntityError, FetchError, LevelSummary, LoadError,
    Parts, Prepared, PrincipalKey, Query, Resolved, Snapshot, StoreError, Summary,
};
pub use iamlet_account::{export as account, organization};

use cache::{Cache, CacheConfig, CacheError, CacheStats};
use organization::Organization;
use std::collections::HashSet;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use tokio::task::JoinHandle;

/// Forgets what a live source says changed, as it says it.
fn forget_on_change(live: Arc<dyn LiveFetcher>, cache: Arc<PrincipalCache>) -> JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            match live.changed().await {
                Changed::Principals(arns) => {
                    let changed = ChangedPrincipals::new(&arns);
                    let forgotten = cache.invalidate_where(|k| changed.touches(k));
                    tracing::debug!(
                        principals = arns.len(),
                        forgotten,
                        "forgot changed principals"
                    );
                }
                Changed::Everything { reason } => {
                    tracing::warn!(%reason, "forgetting every cached principal");
                    cache.resync();
                }
            }
        }
    })
}

/// The users and roles a change names, as the cache's keys name them.
struct ChangedPrincipals {
    /// User and role ARNs, paths included.
    arns: HashSet<String>,
    /// The roles as their sessions' keys name them: `arn:aws:iam::ACCOUNT:role/NAME`, no path.
    sessions: HashSet<String>,
}

impl ChangedPrincipals {
    fn new(arns: &[String]) -> Self {
        let sessions = arns
            .iter()
            .filter_map(|a| {
                let (head, rest) = a.split_once(":role/")?;
                Some(format!("{head}:role/{}", rest.rsplit('/').next()?))
            })
            .collect();
        ChangedPrincipals {
            arns: arns.iter().cloned().collect(),
            sessions,
        }
    }

    fn touches(&self, key: &PrincipalKey) -> bool {
        match key {
            PrincipalKey::User(a) | PrincipalKey::Role(a) => self.arns.contains(a),
            PrincipalKey::RoleSession(a) => self.sessions.contains(a),
            PrincipalKey::FederatedUser { issuer, .. } => self.arns.contains(issuer),
            PrincipalKey::Root(_) | PrincipalKey::Service(_) | PrincipalKey::Anonymous => false,
        }
    }
}

/// A boxed, sendable future.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Named JSON documents: (file name or URL, text).
pub type Documents = Vec<(String, String)>;

/// Something that yields documents when they change: a file, a directory, a URL, the IAM API.
pub trait Loader: Send + Sync + fmt::Debug {
    /// The source's name for messages.
    fn name(&self) -> String;
    /// The documents if they may have changed since the last poll; `None` when known unchanged.
    fn poll(&mut self) -> BoxFuture<'_, Result<Option<Documents>, LoadError>>;
}

/// Where the parts of one principal come from on a cache miss.
pub trait Fetcher: Send + Sync + fmt::Debug {
    /// What the source has for the principal.
    fn fetch<'a>(&'a self, key: &'a PrincipalKey) -> BoxFuture<'a, Result<Parts, FetchError>>;

    /// The OpenID Connect provider with this ARN, if the source has it. A source that cannot hold
    /// providers fails, so that `AssumeRoleWithWebIdentity` fails closed with the reason.
    fn oidc_provider<'a>(
        &'a self,
        arn: &'a str,
    ) -> BoxFuture<'a, Result<Option<OidcProviderDetail>, FetchError>> {
        Box::pin(async move {
            Err(FetchError::Failed(format!(
                "this identity source holds no OpenID Connect providers (looking for `{arn}`): declare them in an account file or use the IAM database"
            )))
        })
    }

    /// The SAML provider with this ARN, if the source has it; as for OpenID Connect providers, a
    /// source that cannot hold providers fails, so that `AssumeRoleWithSAML` fails closed.
    fn saml_provider<'a>(
        &'a self,
        arn: &'a str,
    ) -> BoxFuture<'a, Result<Option<SamlProviderDetail>, FetchError>> {
        Box::pin(async move {
            Err(FetchError::Failed(format!(
                "this identity source holds no SAML providers (looking for `{arn}`): declare them in an account file or use the IAM database"
            )))
        })
    }
}

/// Whether a failed first load fails [`Store::open_with`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum FirstLoad {
    Required,
    Retried,
}

/// The cache of compiled principals.
pub type PrincipalCache = Cache<PrincipalKey, Arc<Resolved>>;

/// The identity store. See the module documentation.
#[derive(Debug)]
pub struct Store {
    accounts: Option<Arc<Published<Snapshot>>>,
    organization: Option<Arc<Published<Organization>>>,
    fetcher: Arc<dyn Fetcher>,
    cache: Arc<PrincipalCache>,
    tasks: Vec<JoinHandle<()>>,
}

impl Drop for Store {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

impl Store {
    /// Opens a store: loads every source once (an error here is the first load's), then, if the
    /// config says so, watches them from background tasks. Needs a tokio runtime.
    pub async fn open(config: StoreConfig) -> Result<Store, LoadError> {
        Store::open_with(config, FirstLoad::Required).await
    }

    /// Opens a store that starts even if a watched source fails its first load: it is then not
    /// ready (the source's status says why, lookups fail with that reason) until its watcher loads
    /// it. Without a poll interval nothing would retry, so a failed first load is still an error.
    /// What a server wants: up and answering (denying, with the reason) while its store is down.
    pub async fn open_unready(config: StoreConfig) -> Result<Store, LoadError> {
        Store::open_with(config, FirstLoad::Retried).await
    }

    async fn open_with(config: StoreConfig, first: FirstLoad) -> Result<Store, LoadError> {
        let retried = first == FirstLoad::Retried && config.poll_interval.is_some();
        let cache = Arc::new(PrincipalCache::new(config.cache));
        let mut tasks = Vec::new();

        let organization = match &config.organization {
            None => None,
            Some(src) => {
                let loader: Box<dyn Loader> = match src {
                    OrganizationSource::Path(p) => Box::new(file::FileLoader::new(p)),
                    OrganizationSource::Url(u) => Box::new(http::HttpLoader::new(u)?),
                };
                let published = Arc::new(Published::new(loader.name()));
                let mut w = Watched {
                    loader,
                    build: build_organization,
                    published: published.clone(),
                    last_hash: None,
                };
                w.first_load(retried).await?;
                if let Some(i) = config.poll_interval {
                    tasks.push(w.spawn(i, cache.clone()));
                }
                Some(published)
            }
        };

        let loader: Box<dyn Loader> = match &config.accounts {
            AccountSource::IamApi(c) if c.mode == iam_api::IamApiMode::PerPrincipal => {
                let fetcher = Arc::new(iam_api::IamApiFetcher::new(c).await?);
                return Ok(Store::assemble(None, organization, fetcher, cache, tasks));
            }
            AccountSource::IamApi(c) if c.mode == iam_api::IamApiMode::Watched => {
                let live = Arc::new(iam_api::WatchedIamApi::new(c).await?);
                tasks.push(forget_on_change(live.clone(), cache.clone()));
                return Ok(Store::assemble(None, organization, live, cache, tasks));
            }
            AccountSource::Database(None) => {
                return Err(LoadError::Read {
                    source_name: "database".into(),
                    message: "`accounts = \"database\"` reads the IAM database this process serves: configure `[iam] database`".into(),
                })
            }
            AccountSource::Database(Some(live)) => {
                tasks.push(forget_on_change(live.clone(), cache.clone()));
                let fetcher = live.clone() as Arc<dyn Fetcher>;
                return Ok(Store::assemble(None, organization, fetcher, cache, tasks));
            }
            AccountSource::Path(p) => Box::new(file::FileLoader::new(p)),
            AccountSource::Url(u) => Box::new(http::HttpLoader::new(u)?),
            AccountSource::IamApi(c) => Box::new(iam_api::IamApiSnapshotLoader::new(c).await?),
        };
        let published = Arc::new(Published::new(loader.name()));
        let mut w = Watched {
            loader,
            build: build_snapshot,
            published: published.clone(),
            last_hash: None,
        };
        w.first_load(retried).await?;
        if let Some(i) = config.poll_interval {
            tasks.push(w.spawn(i, cache.clone()));
        }
        let fetcher = Arc::new(SnapshotFetcher(published.clone()));
        Ok(Store::assemble(
            Some(published),
            organization,
            fetcher,
            cache,
            tasks,
        ))
    }

    fn assemble(
        accounts: Option<Arc<Published<Snapshot>>>,
        organization: Option<Arc<Published<Organization>>>,
        fetcher: Arc<dyn Fetcher>,
        cache: Arc<PrincipalCache>,
        tasks: Vec<JoinHandle<()>>,
    ) -> Store {
        Store {
            accounts,
            organization,
            fetcher,
            cache,
            tasks,
        }
    }

    /// A store over a fetcher of one's own (tests, other sources), with an optional organization.
    pub fn with_fetcher(
        fetcher: Arc<dyn Fetcher>,
        organization: Option<Organization>,
        cache: CacheConfig,
    ) -> Store {
        let organization = organization.map(|o| {
            let p = Published::new("organization".into());
            p.publish(o);
            Arc::new(p)
        });
        Store {
            accounts: None,
            organization,
            fetcher,
            cache: Arc::new(PrincipalCache::new(cache)),
            tasks: Vec::new(),
        }
    }

    /// The cache's counters.
    pub fn cache_stats(&self) -> CacheStats {
        self.cache.stats()
    }

    /// The cache itself (for metrics).
    pub fn cache(&self) -> &Arc<PrincipalCache> {
        &self.cache
    }

    /// The account snapshot's status (`None` for the per-principal IAM API source).
    pub fn accounts_status(&self) -> Option<SourceStatus> {
        self.accounts.as_ref().map(|p| p.status())
    }

    /// The organization file's status.
    pub fn organization_status(&self) -> Option<SourceStatus> {
        self.organization.as_ref().map(|p| p.status())
    }

    /// The account snapshot in force (`None` for the per-principal IAM API source).
    pub fn snapshot(&self) -> Option<Arc<Snapshot>> {
        self.accounts.as_ref().and_then(|p| p.current())
    }

    /// The organization data in force.
    pub fn organization(&self) -> Option<Arc<Organization>> {
        self.organization.as_ref().and_then(|p| p.current())
    }

    /// Forgets one principal's compiled policies (an admin call).
    pub fn invalidate(
        &self,
        principal: &str,
        session_issuer: Option<&str>,
    ) -> Result<(), StoreError> {
        let key = PrincipalKey::for_principal(principal, session_issuer)?;
        self.cache.invalidate(&key);
        Ok(())
    }

    /// Forgets every principal's compiled policies.
    pub fn invalidate_all(&self) {
        self.cache.invalidate_all();
    }

    /// The compiled policies of a principal: from the cache, or fetched and compiled once.
    pub async fn resolve(
        &self,
        principal: &str,
        session_issuer: Option<&str>,
    ) -> Result<Arc<Resolved>, StoreError> {
        let key = PrincipalKey::for_principal(principal, session_issuer)?;
        self.resolve_key(&key, principal).await
    }

    /// The role with exactly this ARN (partition, account, path and name), with its trust policy: what
    /// `AssumeRole` needs before anything is decided. A role named by another path or partition is
    /// no role: `UnknownPrincipal`.
    pub async fn role(&self, arn: &str) -> Result<Arc<Resolved>, StoreError> {
        let key = PrincipalKey::for_principal(arn, None)?;
        if !matches!(key, PrincipalKey::Role(_)) {
            return Err(StoreError::UnknownPrincipal(arn.to_owned()));
        }
        let role = self.resolve_key(&key, arn).await?;
        if role.entity() != arn {
            return Err(StoreError::UnknownPrincipal(arn.to_owned()));
        }
        Ok(role)
    }

    async fn resolve_key(
        &self,
        key: &PrincipalKey,
        principal: &str,
    ) -> Result<Arc<Resolved>, StoreError> {
        let fetch = || async {
            // An organization that has not loaded is no organization: without its SCPs and RCPs
            // the answer could allow what they deny, so nothing is resolved until it loads.
            let org = match &self.organization {
                None => None,
                Some(p) => match p.current() {
                    Some(o) => Some(o),
                    None => return Err(p.not_loaded()),
                },
            };
            let parts = self.fetcher.fetch(key).await?;
            Ok(Arc::new(parts.assemble(org.as_deref())))
        };
        self.cache.get(key, fetch).await.map_err(|e| match e {
            CacheError::NotFound => StoreError::UnknownPrincipal(principal.to_owned()),
            CacheError::Unavailable(reason) => StoreError::Unavailable {
                principal: principal.to_owned(),
                reason,
            },
        })
    }

    /// The OpenID Connect provider with exactly this ARN, read from the source each time (providers
    /// are not cached with principals: a deleted provider stops working at once).
    pub async fn oidc_provider(&self, arn: &str) -> Result<Option<OidcProviderDetail>, StoreError> {
        self.fetcher.oidc_provider(arn).await.map_err(|e| match e {
            FetchError::NotFound(_) => StoreError::UnknownPrincipal(arn.to_owned()),
            FetchError::Failed(reason) => StoreError::Unavailable {
                principal: arn.to_owned(),
                reason,
            },
        })
    }

    /// The SAML provider with exactly this ARN, read from the source each time (as OpenID Connect
    /// providers: a deleted or updated provider takes effect at once).
    pub async fn saml_provider(&self, arn: &str) -> Result<Option<SamlProviderDetail>, StoreError> {
        self.fetcher.saml_provider(arn).await.map_err(|e| match e {
            FetchError::NotFound(_) => StoreError::UnknownPrincipal(arn.to_owned()),
            FetchError::Failed(reason) => StoreError::Unavailable {
                principal: arn.to_owned(),
                reason,
            },
        })
    }

    /// Resolves the principal and adds the resource's side (`iamlet_account::prepare`): its
    /// resource-based policy, a role's trust policy for the `sts:` actions on it (fetched like a
    /// principal), another account's RCP levels.
    pub async fn prepare(&self, query: Query) -> Result<Prepared, StoreError> {
        let resolved = self
            .resolve(&query.principal, query.session_issuer.as_deref())
            .await?;
        let org = self.organization();
        self.prepare_resolved(resolved, org.as_deref(), query).await
    }

    /// [`Store::prepare`] for a principal already resolved ([`Store::resolve`]), with the
    /// organization data read beside it ([`Store::organization`]): a caller that names what it
    /// decided by the two decides on exactly them.
    pub async fn prepare_resolved(
        &self,
        resolved: Arc<Resolved>,
        org: Option<&Organization>,
        query: Query,
    ) -> Result<Prepared, StoreError> {
        let trust = match trusted_role(&query.action, &query.resource) {
            Some(role) => match self
                .resolve_key(&PrincipalKey::Role(role.to_owned()), role)
                .await
            {
                Ok(r) => r.trust_policy().cloned(),
                // No such role: no trust policy, and the engine denies (a role that does not exist
                // cannot be assumed).
                Err(StoreError::UnknownPrincipal(_)) => None,
                Err(e) => return Err(e),
            },
            None => None,
        };
        iamlet_account::prepare(resolved, query, org, trust)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_change_names_users_roles_their_sessions_and_federated_users() {
        let changed = ChangedPrincipals::new(&[
            "arn:aws:iam::111122223333:user/eng/alice".to_owned(),
            "arn:aws:iam::111122223333:role/service/deploy".to_owned(),
        ]);
        let key = |arn: &str| PrincipalKey::for_principal(arn, None).unwrap();
        assert!(changed.touches(&key("arn:aws:iam::111122223333:user/eng/alice")));
        assert!(!changed.touches(&key("arn:aws:iam::111122223333:user/alice")));
        assert!(changed.touches(&key("arn:aws:iam::111122223333:role/service/deploy")));
        assert!(changed.touches(&key(
            "arn:aws:sts::111122223333:assumed-role/deploy/session-1"
        )));
        assert!(!changed.touches(&key(
            "arn:aws:sts::111122223333:assumed-role/other/session-1"
        )));
        let federated = PrincipalKey::for_principal(
            "arn:aws:sts::111122223333:federated-user/bob",
            Some("arn:aws:iam::111122223333:user/eng/alice"),
        )
        .unwrap();
        assert!(changed.touches(&federated));
        assert!(!changed.touches(&key("arn:aws:iam::111122223333:root")));
    }
}
