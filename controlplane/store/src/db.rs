//! The database: one URL names it everywhere (`sqlite:PATH`, relative to a base directory, or
//! `postgres://…`), its schema is migrated at open, and every API call is one transaction.
//!
//! - **SQLite** (the embedded default): WAL, `synchronous = FULL` (a commit is on disk before it is
//!   acknowledged: it survives `kill -9`, and a power loss), foreign keys on, a busy timeout. Writes
//!   in one process are serialized by a lock of our own before `BEGIN`, so a transaction that reads
//!   and then writes never meets SQLite's "database is locked" upgrade failure; readers (this
//!   process's or a sidecar's) are never blocked by WAL.
//! - **PostgreSQL**: several control planes on one database. Every write transaction first takes
//!   one transaction-scoped advisory lock, so writers on every replica take turns as they do in one
//!   SQLite process: a read-then-write check (a name free, a quota not reached) holds until commit,
//!   and no transaction ever fails to serialize (IAM's write rates are far below what one lock
//!   serves). Readers take no lock.

use crate::error::IamError;
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, Transaction};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{watch, Mutex, OwnedMutexGuard};

/// Which SQL dialect a database speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dialect {
    /// SQLite: one file.
    Sqlite,
    /// PostgreSQL.
    Postgres,
}

/// A database as a URL names it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DatabaseUrl {
    /// `sqlite:PATH`: the file (created if missing).
    Sqlite(PathBuf),
    /// `postgres://…` or `postgresql://…`.
    Postgres(String),
}

impl DatabaseUrl {
    /// Reads a URL; a relative SQLite path is taken from `base` (the configuration file's
    /// directory, or the working directory on the command line).
    pub fn parse(text: &str, base: &Path) -> Result<DatabaseUrl, IamError> {
        if let Some(path) = text.strip_prefix("sqlite:") {
            let path = path.strip_prefix("//").unwrap_or(path);
            if path.is_empty() {
                return Err(IamError::invalid_input("`sqlite:` needs a file path"));
            }
            return Ok(DatabaseUrl::Sqlite(base.join(path)));
        }
        if text.starts_with("postgres://") || text.starts_with("postgresql://") {
            return Ok(DatabaseUrl::Postgres(text.to_owned()));
        }
        Err(IamError::invalid_input(format!(
            "`{}` is no database URL: use `sqlite:PATH` or `postgres://…`",
            redact_url(text)
        )))
    }

    /// The dialect.
    pub fn dialect(&self) -> Dialect {
        match self {
            DatabaseUrl::Sqlite(_) => Dialect::Sqlite,
            DatabaseUrl::Postgres(_) => Dialect::Postgres,
        }
    }
}

impl std::fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DatabaseUrl::Sqlite(p) => write!(f, "sqlite:{}", p.display()),
            DatabaseUrl::Postgres(u) => f.write_str(&redact_url(u)),
        }
    }
}

/// A URL with any password replaced, for messages and logs.
fn redact_url(url: &str) -> String {
    match (url.split_once("://"), url.rsplit_once('@')) {
        (Some((scheme, rest)), Some((_, host))) if rest.contains('@') => {
            let user = rest.split(['@', ':']).next().unwrap_or_default();
            format!("{scheme}://{user}:REDACTED@{host}")
        }
        _ => url.to_owned(),
    }
}

/// The database: a pool, its dialect, and the write lock of this process.
#[derive(Clone, Debug)]
pub struct Database {
    pool: AnyPool,
    dialect: Dialect,
    writer: Arc<Mutex<()>>,
    url: DatabaseUrl,
    /// Counts this process's commits that changed something: its readers wake at once, without
    /// waiting for their next poll.
    commits: Arc<watch::Sender<u64>>,
    /// On PostgreSQL, the task that hears the other replicas' commits.
    _listening: Option<Arc<crate::listen::Listening>>,
}

/// A transaction: every statement of one API call. Dropped without [`Tx::commit`], it rolls back.
#[derive(Debug)]
pub struct Tx {
    pub(crate) inner: Transaction<'static, sqlx::Any>,
    pub(crate) dialect: Dialect,
    /// Held by write transactions (this process's writes one at a time).
    _writer: Option<OwnedMutexGuard<()>>,
    /// What the transaction changed: the generations bumped at commit.
    pub(crate) touched: crate::changes::Touched,
    commits: Arc<watch::Sender<u64>>,
}

impl Database {
    /// Opens (creating it if needed) and migrates the database.
    pub async fn open(url: &DatabaseUrl) -> Result<Database, IamError> {
        sqlx::any::install_default_drivers();
        let (options, max) = match url {
            DatabaseUrl::Sqlite(path) => {
                if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                    std::fs::create_dir_all(dir).map_err(|e| {
                        IamError::service(format!("creating {}: {e}", dir.display()))
                    })?;
                }
                create_private(path)?;
                // Pragmas as connection parameters: every connection of the pool gets them.
                let text = format!(
                    "sqlite://{}?mode=rwc",
                    path.to_string_lossy().replace('?', "%3F")
                );
                (AnyConnectOptions::from_str(&text).map_err(db_error)?, 8)
            }
            DatabaseUrl::Postgres(u) => (AnyConnectOptions::from_str(u).map_err(db_error)?, 16),
        };
        let dialect = url.dialect();
        let pool = AnyPoolOptions::new()
            .max_connections(max)
            .acquire_timeout(Duration::from_secs(10))
            .after_connect(move |conn, _meta| {
                Box::pin(async move {
                    if dialect == Dialect::Sqlite {
                        for pragma in [
                            "PRAGMA journal_mode = WAL",
                            "PRAGMA synchronous = FULL",
                            "PRAGMA foreign_keys = ON",
                            "PRAGMA busy_timeout = 10000",
                        ] {
                            sqlx::query(pragma).execute(&mut *conn).await?;
                        }
                    }
                    Ok(())
                })
            })
            .connect_with(options)
            .await
            .map_err(db_error)?;
        let commits = Arc::new(watch::Sender::new(0));
        let listening = match url {
            DatabaseUrl::Postgres(u) => {
                Some(Arc::new(crate::listen::listen(u.clone(), commits.clone())))
            }
            DatabaseUrl::Sqlite(_) => None,
        };
        let db = Database {
            pool,
            dialect,
            writer: Arc::new(Mutex::new(())),
            url: url.clone(),
            commits,
            _listening: listening,
        };
        crate::schema::migrate(&db).await?;
        Ok(db)
    }

    /// The URL it was opened from.
    pub fn url(&self) -> &DatabaseUrl {
        &self.url
    }

    /// The dialect.
    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    /// Wakes when this process commits a change.
    pub(crate) fn commits(&self) -> watch::Receiver<u64> {
        self.commits.subscribe()
    }

    pub(crate) fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// A transaction that only reads: one consistent view.
    pub async fn read(&self) -> Result<Tx, IamError> {
        let inner = match self.dialect {
            Dialect::Sqlite => self.pool.begin().await,
            // One snapshot for every statement (an export reads many tables).
            Dialect::Postgres => {
                self.pool
                    .begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
                    .await
            }
        }
        .map_err(db_error)?;
        Ok(Tx {
            inner,
            dialect: self.dialect,
            _writer: None,
            touched: Default::default(),
            commits: self.commits.clone(),
        })
    }

    /// A transaction that writes: this process's writes one at a time, and on SQLite `BEGIN
    /// IMMEDIATE` (another process's writer waits for the busy timeout instead of failing when a
    /// read would become a write); on PostgreSQL every replica's writers one at a time.
    pub async fn write(&self) -> Result<Tx, IamError> {
        let guard = self.writer.clone().lock_owned().await;
        let inner = match self.dialect {
            Dialect::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await,
            Dialect::Postgres => self.pool.begin().await,
        };
        let mut inner = inner.map_err(db_error)?;
        if self.dialect == Dialect::Postgres {
            sqlx::query("SELECT pg_advisory_xact_lock($1)")
                .bind(WRITER_LOCK)
                .execute(&mut *inner)
                .await
                .map_err(db_error)?;
        }
        Ok(Tx {
            inner,
            dialect: self.dialect,
            _writer: Some(guard),
            touched: Default::default(),
            commits: self.commits.clone(),
        })
    }
}

/// The advisory lock every PostgreSQL writer takes ("IAMLET" in ASCII).
const WRITER_LOCK: i64 = 0x49_41_4d_4c_45_54;

impl Tx {
    /// Commits, bumping the generations of what changed first (readers in every process learn of
    /// the change from them).
    pub async fn commit(mut self) -> Result<(), IamError> {
        let changed = crate::changes::record(&mut self).await?.is_some();
        self.inner.commit().await.map_err(db_error)?;
        if changed {
            self.commits.send_modify(|n| *n = n.wrapping_add(1));
        }
        Ok(())
    }

    /// The dialect.
    pub fn dialect(&self) -> Dialect {
        self.dialect
    }
}

/// Creates the SQLite file with mode 0600 (it holds access keys' secrets) if it does not exist.
fn create_private(path: &Path) -> Result<(), IamError> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(false);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    options
        .open(path)
        .map(drop)
        .map_err(|e| IamError::service(format!("opening {}: {e}", path.display())))
}

/// A database error: a unique key already taken is `EntityAlreadyExists` (checked before every
/// insert, so only a writer outside Iamlet's locks meets it); anything else is the service's failure.
pub(crate) fn db_error(e: sqlx::Error) -> IamError {
    if let sqlx::Error::Database(d) = &e {
        if d.is_unique_violation() {
            return IamError::already_exists("the entity already exists");
        }
    }
    tracing::error!(error = %e, "database error");
    IamError::service(format!("the database failed: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_name_one_database() {
        let base = Path::new("/etc/iamlet");
        assert_eq!(
            DatabaseUrl::parse("sqlite:iam.db", base).unwrap(),
            DatabaseUrl::Sqlite(PathBuf::from("/etc/iamlet/iam.db"))
        );
        assert_eq!(
            DatabaseUrl::parse("sqlite:///var/lib/iam.db", base).unwrap(),
            DatabaseUrl::Sqlite(PathBuf::from("/var/lib/iam.db"))
        );
        let pg = DatabaseUrl::parse("postgres://iam:s3cret@127.0.0.1:5432/iam", base).unwrap();
        assert_eq!(pg.dialect(), Dialect::Postgres);
        assert_eq!(pg.to_string(), "postgres://iam:REDACTED@127.0.0.1:5432/iam");
        let e = DatabaseUrl::parse("mysql://x:secret@h/db", base).unwrap_err();
        assert!(!e.message.contains("secret"), "{e}");
        assert!(DatabaseUrl::parse("sqlite:", base).is_err());
    }
}
