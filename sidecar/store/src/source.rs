//! Where a store's documents come from, named one way everywhere: the command line's `--account`
//! and `--organization` and the sidecar's `[store] accounts` and `organization` are parsed here.

use crate::cache::CacheConfig;
use crate::iam_api::{IamApiConfig, IamApiMode};
use crate::{BoxFuture, Fetcher};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// Where the accounts' identity data comes from.
#[derive(Clone, Debug)]
pub enum AccountSource {
    /// An export file, or a directory of them (one per account).
    Path(PathBuf),
    /// An export at an `http://` or `https://` URL.
    Url(String),
    /// The live IAM API.
    IamApi(IamApiConfig),
    /// The IAM database this process serves (`"database"`): filled in by the server once it has
    /// opened the database; `None` until then.
    Database(Option<Arc<dyn LiveFetcher>>),
}

/// A per-principal source that knows what changes (the IAM database and its change feed): the
/// store fetches from it on a cache miss and forgets the compiled principals a change names.
pub trait LiveFetcher: Fetcher {
    /// Resolves with the next change after the one the previous call returned.
    fn changed(&self) -> BoxFuture<'_, Changed>;
}

/// What a [`LiveFetcher`] says changed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Changed {
    /// These users and roles (ARNs, paths included): their compiled policies and their sessions'
    /// go, nothing else.
    Principals(Vec<String>),
    /// The source cannot say what changed (a reader too far behind the change feed, an import):
    /// everything goes. The reason is for the log.
    Everything {
        /// Why, in words.
        reason: String,
    },
}

/// A page of a change feed (the IAM database's, or a control plane's `WatchChanges`) as a reader
/// applies it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FeedPage {
    /// The changes, in order.
    pub changes: Vec<FeedChange>,
    /// The feed's last change.
    pub latest: i64,
    /// The reader is further behind than the feed keeps (or ahead of it): it must start over.
    pub resync: bool,
}

/// One change of a [`FeedPage`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FeedChange {
    /// Its number.
    pub sequence: i64,
    /// It may change anything (an import).
    pub everything: bool,
    /// The users and roles it names.
    pub principals: Vec<String>,
}

impl FeedPage {
    /// What the page means to a reader at `position`, which moves past it: `None` when none of its
    /// changes names a principal (keys, instance profiles, nothing new).
    pub fn apply(self, position: &mut i64) -> Option<Changed> {
        if self.resync {
            let reason = format!(
                "the change feed no longer holds the changes after {position} (it is at {})",
                self.latest
            );
            *position = self.latest;
            return Some(Changed::Everything { reason });
        }
        *position = self.changes.last()?.sequence;
        if let Some(c) = self.changes.iter().find(|c| c.everything) {
            return Some(Changed::Everything {
                reason: format!("change {} replaced the account (an import)", c.sequence),
            });
        }
        let principals: Vec<String> = self
            .changes
            .into_iter()
            .flat_map(|c| c.principals)
            .collect();
        (!principals.is_empty()).then_some(Changed::Principals(principals))
    }
}

/// Where the organization file comes from.
#[derive(Clone, Debug)]
pub enum OrganizationSource {
    /// A file.
    Path(PathBuf),
    /// An `http://` or `https://` URL.
    Url(String),
}

/// How to open a [`Store`].
#[derive(Clone, Debug)]
pub struct StoreConfig {
    /// The identity data.
    pub accounts: AccountSource,
    /// SCPs, RCPs and resource-based policies.
    pub organization: Option<OrganizationSource>,
    /// How often watched sources are polled; `None` loads once and never watches.
    pub poll_interval: Option<Duration>,
    /// The per-principal cache.
    pub cache: CacheConfig,
}

impl StoreConfig {
    /// A store of one export file or directory, loaded once, with the default cache.
    pub fn path(accounts: impl Into<PathBuf>) -> Self {
        StoreConfig {
            accounts: AccountSource::Path(accounts.into()),
            organization: None,
            poll_interval: None,
            cache: CacheConfig::default(),
        }
    }

    /// Adds an organization file.
    pub fn with_organization_path(mut self, path: impl Into<PathBuf>) -> Self {
        self.organization = Some(OrganizationSource::Path(path.into()));
        self
    }

    /// Watches the sources, polling every `interval`.
    pub fn watching(mut self, interval: Duration) -> Self {
        self.poll_interval = Some(interval);
        self
    }
}

impl AccountSource {
    /// Reads a source as a user writes it: `database` for the IAM database the server serves
    /// (`[iam] database`), `iam` (or `iam-api`) for the live IAM API per principal,
    /// `iam:snapshot` for the whole account through `GetAccountAuthorizationDetails`, `iam:watch`
    /// per principal from an Iamlet control plane with its change feed (all with the
    /// AWS SDK's credentials, region and endpoint: `AWS_ENDPOINT_URL_IAM` or `AWS_ENDPOINT_URL`), an
    /// `http://` or `https://` URL, or a file or directory (relative to `base`).
    pub fn parse(text: &str, base: &Path) -> AccountSource {
        match text {
            "database" => AccountSource::Database(None),
            "iam" | "iam-api" => AccountSource::IamApi(IamApiConfig::default()),
            "iam:snapshot" => AccountSource::IamApi(IamApiConfig {
                mode: IamApiMode::AccountSnapshot,
                ..IamApiConfig::default()
            }),
            "iam:watch" => AccountSource::IamApi(IamApiConfig {
                mode: IamApiMode::Watched,
                ..IamApiConfig::default()
            }),
            u if is_url(u) => AccountSource::Url(u.to_owned()),
            p => AccountSource::Path(base.join(p)),
        }
    }
}

impl OrganizationSource {
    /// Reads a source as a user writes it: a URL, or a file (relative to `base`).
    pub fn parse(text: &str, base: &Path) -> OrganizationSource {
        if is_url(text) {
            OrganizationSource::Url(text.to_owned())
        } else {
            OrganizationSource::Path(base.join(text))
        }
    }
}

fn is_url(s: &str) -> bool {
    s.starts_with("http://") || s.starts_with("https://")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources_read_the_same_everywhere() {
        let base = Path::new("/etc/iamlet");
        for (text, want) in [
            ("iam", IamApiMode::PerPrincipal),
            ("iam-api", IamApiMode::PerPrincipal),
            ("iam:snapshot", IamApiMode::AccountSnapshot),
            ("iam:watch", IamApiMode::Watched),
        ] {
            match AccountSource::parse(text, base) {
                AccountSource::IamApi(c) => assert_eq!(c.mode, want, "{text}"),
                other => panic!("{text}: {other:?}"),
            }
        }
        assert!(matches!(
            AccountSource::parse("https://example.com/a.json", base),
            AccountSource::Url(u) if u == "https://example.com/a.json"
        ));
        assert!(matches!(
            AccountSource::parse("account.json", base),
            AccountSource::Path(p) if p == Path::new("/etc/iamlet/account.json")
        ));
        assert!(matches!(
            AccountSource::parse("/abs/account.json", base),
            AccountSource::Path(p) if p == Path::new("/abs/account.json")
        ));
        assert!(matches!(
            OrganizationSource::parse("org.json", base),
            OrganizationSource::Path(p) if p == Path::new("/etc/iamlet/org.json")
        ));
    }

    #[test]
    fn a_feed_page_moves_the_reader_and_says_what_changed() {
        let change = |sequence, everything, principals: &[&str]| FeedChange {
            sequence,
            everything,
            principals: principals.iter().map(|p| p.to_string()).collect(),
        };
        let mut at = 4;
        let page = FeedPage {
            changes: vec![
                change(5, false, &["a"]),
                change(6, false, &[]),
                change(7, false, &["b"]),
            ],
            latest: 9,
            resync: false,
        };
        assert_eq!(
            page.apply(&mut at),
            Some(Changed::Principals(vec!["a".into(), "b".into()]))
        );
        assert_eq!(at, 7);
        // Only keys changed: nothing to forget, but the reader moves on.
        let keys = FeedPage {
            changes: vec![change(8, false, &[])],
            latest: 8,
            resync: false,
        };
        assert_eq!(keys.apply(&mut at), None);
        assert_eq!(at, 8);
        let empty = FeedPage {
            latest: 8,
            ..FeedPage::default()
        };
        assert_eq!(empty.apply(&mut at), None);
        assert_eq!(at, 8);
        let import = FeedPage {
            changes: vec![change(9, true, &[])],
            latest: 9,
            resync: false,
        };
        assert!(matches!(
            import.apply(&mut at),
            Some(Changed::Everything { .. })
        ));
        let behind = FeedPage {
            latest: 200_000,
            resync: true,
            ..FeedPage::default()
        };
        assert!(matches!(
            behind.apply(&mut at),
            Some(Changed::Everything { .. })
        ));
        assert_eq!(at, 200_000);
    }
}
