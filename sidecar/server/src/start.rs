//! `iamlet serve`: opens the store, starts the engine, binds the listeners (gRPC, HTTP, admin, and
//! STS when configured), and on SIGTERM or Ctrl-C stops accepting, drains the checks in flight
//! (within the grace period) and exits.

use crate::admin::{self, Admin};
use crate::config::SigV4Section;
use crate::config::{Checked, Config, EngineKind};
use crate::forward_auth::ForwardAuth;
use crate::grpc::{AuthorizationService, ExtAuthz};
use crate::http::HttpMode;
use crate::listener::Acceptor;
use crate::sts::Sts;
use anyhow::Context as _;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use iamlet_auth::{Authenticator, CredentialSource, Credentials, Secret, WatchedCredentials};
use iamlet_authz::engine::Evaluator;
use iamlet_authz::metrics::Metrics;
use iamlet_authz::Authorizer;
use iamlet_decision_log::DecisionLog;
use iamlet_iam_api::IamApi;
use iamlet_iam_store::{DatabaseCredentials, DatabaseFetcher, Iam};
use iamlet_store::cache::CacheConfig;
use iamlet_store::{AccountSource, OrganizationSource, Store, StoreConfig};
use std::future::Future;
use std::net::SocketAddr;
use std::num::NonZeroUsize;
use std::path::Path;
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio::sync::watch;

/// The addresses actually bound (port 0 in the configuration picks a free one).
#[derive(Clone, Copy, Debug)]
pub struct Bound {
    /// gRPC ext_authz.
    pub grpc: SocketAddr,
    /// HTTP ext_authz.
    pub http: SocketAddr,
    /// Admin.
    pub admin: SocketAddr,
    /// STS, when configured.
    pub sts: Option<SocketAddr>,
    /// The IAM API, when configured.
    pub iam: Option<SocketAddr>,
    /// Forward-auth, when configured.
    pub forward_auth: Option<SocketAddr>,
}

/// A sidecar built from its configuration, ready to bind and serve.
#[derive(Debug)]
pub struct Sidecar {
    /// The authorizer every front end calls.
    pub authz: Arc<Authorizer>,
    config: Config,
    admin_token: Option<Secret>,
    iam_api: Option<Arc<IamApi>>,
}

fn store_config(
    checked: &Checked,
    accounts: &AccountSource,
    organization: Option<&OrganizationSource>,
) -> StoreConfig {
    let s = &checked.config.store;
    let mut cache = CacheConfig::default();
    if let Some(c) = s.cache_capacity.and_then(NonZeroUsize::new) {
        cache.capacity = c;
    }
    if let Some(t) = s.cache_ttl {
        cache.ttl = t;
    }
    if let Some(t) = s.negative_ttl {
        cache.negative_ttl = t;
    }
    if let Some(t) = s.max_stale {
        cache.max_stale = t;
    }
    StoreConfig {
        accounts: accounts.clone(),
        organization: organization.cloned(),
        poll_interval: s.poll_interval,
        cache,
    }
}

impl Sidecar {
    /// Everything `serve` starts before it binds: the store (and a shadow one), the engine, the
    /// decision log, the credentials, the authorizer.
    pub async fn build(
        mut checked: Checked,
        engine: Option<EngineKind>,
    ) -> anyhow::Result<Sidecar> {
        let cfg = checked.config.clone();
        let database = match (&checked.database, &cfg.iam) {
            (Some(url), Some(section)) => Some(Database::open(url, section).await?),
            _ => None,
        };
        if let Some(db) = &database {
            for accounts in [
                Some(&mut checked.accounts),
                checked.shadow_accounts.as_mut(),
            ]
            .into_iter()
            .flatten()
            {
                if let AccountSource::Database(live) = accounts {
                    *live = Some(db.fetcher().await?);
                }
            }
        }
        let store = Store::open_unready(store_config(
            &checked,
            &checked.accounts,
            checked.organization.as_ref(),
        ))
        .await
        .context("opening the identity store")?;
        let shadow = match &checked.shadow_accounts {
            Some(accounts) => Some(Arc::new(
                Store::open_unready(store_config(
                    &checked,
                    accounts,
                    checked.shadow_organization.as_ref(),
                ))
                .await
                .context("opening the shadow store")?,
            )),
            None => None,
        };
        let evaluator = match engine.unwrap_or(cfg.engine.kind) {
            EngineKind::Native => Evaluator::native(),
            EngineKind::Component => {
                let mut hc = iamlet_wasm_host::HostConfig::default();
                if let Some(n) = cfg.engine.instances {
                    hc.instances = n.max(1);
                }
                if let Some(m) = cfg.engine.max_memory_mib {
                    hc.max_memory_bytes = m.saturating_mul(1024 * 1024);
                }
                if let Some(t) = cfg.engine.call_timeout {
                    hc.call_timeout = t;
                }
                let capacity = cfg.store.cache_capacity.unwrap_or(10_000);
                Evaluator::component(hc, capacity).context("starting the engine component")?
            }
        };
        let log = match &cfg.decision_log.path {
            Some(p) => DecisionLog::open_with(p, cfg.decision_log.format)
                .await
                .with_context(|| format!("opening the decision log {p}"))?,
            None => DecisionLog::disabled(),
        };
        let credentials: Option<Arc<dyn CredentialSource>> = match &cfg.principal.sigv4 {
            Some(SigV4Section::File(s)) => {
                if cfg.sts.is_some() {
                    ensure_session_key(Path::new(&s.credentials))?;
                }
                Some(watch_credentials(
                    WatchedCredentials::open(&s.credentials)
                        .context("opening the credentials file")?,
                    s.poll_interval,
                ))
            }
            Some(SigV4Section::Database) => match &database {
                Some(db) => Some(db.credentials.clone()),
                None => anyhow::bail!("principal.sigv4 = \"database\" needs [iam] database"),
            },
            None => None,
        };
        let admin_token = match &cfg.admin.token_file {
            Some(path) => Some(read_token(Path::new(path))?),
            None => None,
        };
        let authorizer = Authorizer::new(
            checked.settings(),
            Arc::new(store),
            shadow,
            evaluator,
            log,
            Arc::new(Metrics::new()),
        );
        let authorizer = match cfg.cache.decision_cache() {
            Some(c) => authorizer.with_decision_cache(c),
            None => authorizer,
        };
        let authz = Arc::new(match credentials {
            Some(c) => authorizer.with_credentials(c),
            None => authorizer,
        });
        let iam_api = match (&database, cfg.iam.as_ref().and_then(|i| i.listen)) {
            (Some(db), Some(_)) => {
                // The API's callers are the database's: its keys verify them and its principals
                // (with the organization's SCPs) authorize them, whatever the sidecar checks with.
                let accounts = AccountSource::Database(Some(db.fetcher().await?));
                let api_store = Store::open_unready(store_config(
                    &checked,
                    &accounts,
                    checked.organization.as_ref(),
                ))
                .await
                .context("opening the IAM API's identity store")?;
                Some(Arc::new(
                    IamApi::new(
                        db.iam.clone(),
                        authz.clone(),
                        Arc::new(api_store),
                        Arc::new(Authenticator::new(db.credentials.clone())),
                    )
                    .with_feed_poll(db.poll),
                ))
            }
            _ => None,
        };
        Ok(Sidecar {
            authz,
            config: cfg,
            admin_token,
            iam_api,
        })
    }

    /// The configuration it was built from.
    pub fn config(&self) -> &Config {
        &self.config
    }
}

/// `iamlet serve`: a runtime with the configured threads, the open-files limit raised, the sidecar
/// built and served until SIGTERM or Ctrl-C; every bound address and the engine logged at start.
pub fn serve(checked: Checked, engine: Option<EngineKind>) -> anyhow::Result<()> {
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    if let Some(n) = checked.config.limits.worker_threads {
        builder.worker_threads(n);
    }
    let runtime = builder
        .enable_all()
        .build()
        .context("starting the runtime")?;
    let open_files = crate::listener::raise_open_files_limit();
    if checked.config.principal.sigv4.is_some() && checked.config.context.region.is_none() {
        tracing::warn!(
            "[principal.sigv4] without [context] region: signatures are not bound to a region, and \
             aws:RequestedRegion is set only by routes that set it"
        );
    }
    let max_connections = checked.config.limits.max_connections;
    runtime.block_on(async move {
        let sidecar = Sidecar::build(checked, engine).await?;
        let engine = sidecar.authz.evaluator().name();
        run(sidecar, shutdown_signal(), |b| {
            tracing::info!(
                grpc = %b.grpc,
                http = %b.http,
                admin = %b.admin,
                engine,
                workers = tokio::runtime::Handle::current().metrics().num_workers(),
                open_files = ?open_files,
                max_connections,
                "serving ext_authz"
            );
            if let Some(sts) = b.sts {
                tracing::info!(%sts, "serving STS (AssumeRole, GetSessionToken, GetCallerIdentity)");
            }
            if let Some(iam) = b.iam {
                tracing::info!(%iam, "serving the IAM API");
            }
            if let Some(forward_auth) = b.forward_auth {
                tracing::info!(%forward_auth, "serving forward-auth");
            }
        })
        .await
    })?;
    tracing::info!("stopped");
    Ok(())
}

/// The IAM database the process serves, and its credentials (shared by the sidecar and the API).
struct Database {
    iam: Iam,
    credentials: Arc<DatabaseCredentials>,
    poll: std::time::Duration,
}

impl Database {
    async fn open(
        url: &iamlet_iam_store::DatabaseUrl,
        section: &crate::config::IamSection,
    ) -> anyhow::Result<Database> {
        let iam = Iam::open(url, section.quotas)
            .await
            .with_context(|| format!("opening the IAM database {url}"))?;
        let credentials = DatabaseCredentials::start(iam.clone(), section.poll_interval)
            .await
            .context("reading credentials from the IAM database")?;
        Ok(Database {
            iam,
            credentials,
            poll: section.poll_interval,
        })
    }

    /// A fetcher of the database's principals for one store (each store watches with its own).
    async fn fetcher(&self) -> anyhow::Result<Arc<dyn iamlet_store::LiveFetcher>> {
        let f = DatabaseFetcher::new(self.iam.clone(), self.poll)
            .await
            .context("reading the IAM database")?;
        Ok(Arc::new(f))
    }
}

/// The admin token: the file's first line, which must not be empty.
fn read_token(path: &Path) -> anyhow::Result<Secret> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading the admin token file {}", path.display()))?;
    let token = text.lines().next().unwrap_or_default().trim();
    anyhow::ensure!(
        !token.is_empty(),
        "the admin token file {} is empty",
        path.display()
    );
    Ok(Secret::new(token.to_owned()))
}

/// STS seals sessions with the credentials file's session key: made (and saved) on the first start
/// with `[sts]`, so every replica reading the file accepts every session.
fn ensure_session_key(path: &Path) -> anyhow::Result<()> {
    // Under the file's lock: replicas starting together make one key, not one each.
    let created = Credentials::update(path, |c| {
        if c.session_key.is_some() {
            return Ok(false);
        }
        c.rotate_session_key().map(|()| true)
    })
    .context("saving the new session key in the credentials file")??;
    if created {
        tracing::info!(path = %path.display(), "created the STS session key in the credentials file");
    }
    Credentials::load(path)
        .context("reading the credentials file")?
        .session_key()
        .context("the credentials file's session key")?;
    Ok(())
}

/// Re-reads the credentials file when it changes; a broken version is logged and the last good one
/// kept.
fn watch_credentials(
    credentials: WatchedCredentials,
    interval: std::time::Duration,
) -> Arc<dyn CredentialSource> {
    let credentials = Arc::new(credentials);
    let weak = Arc::downgrade(&credentials);
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(interval);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        tick.tick().await;
        loop {
            tick.tick().await;
            let Some(c) = weak.upgrade() else { break };
            match c.refresh() {
                Ok(true) => tracing::info!(path = %c.path().display(), "credentials reloaded"),
                Ok(false) => {}
                Err(e) => {
                    tracing::warn!(error = %e, "credentials reload failed; keeping the last good version")
                }
            }
        }
    });
    credentials
}

/// Serves HTTP/1 connections from a listener until `stop` flips, then lets open ones finish. At
/// most `limits.max_connections` at once; a request's headers (and an idle keep-alive connection's
/// next request) must arrive within `limits.header_read_timeout`.
fn serve_http<F, Fut>(
    acceptor: Acceptor,
    limits: &crate::config::LimitsSection,
    mut stop: watch::Receiver<bool>,
    handler: F,
) -> tokio::task::JoinHandle<()>
where
    F: Fn(hyper::Request<hyper::body::Incoming>, SocketAddr) -> Fut + Clone + Send + Sync + 'static,
    Fut:
        Future<Output = hyper::Response<http_body_util::Full<hyper::body::Bytes>>> + Send + 'static,
{
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .max_buf_size(256 * 1024);
    tokio::spawn(async move {
        let graceful = hyper_util::server::graceful::GracefulShutdown::new();
        loop {
            tokio::select! {
                conn = acceptor.accept() => {
                    let peer = conn.peer;
                    let handler = handler.clone();
                    let svc = service_fn(move |req| {
                        let h = handler.clone();
                        async move { Ok::<_, std::convert::Infallible>(h(req, peer).await) }
                    });
                    let conn = builder.serve_connection(TokioIo::new(conn), svc);
                    let conn = graceful.watch(conn);
                    tokio::spawn(async move {
                        let _ = conn.await;
                    });
                }
                _ = stop.changed() => break,
            }
        }
        graceful.shutdown().await;
    })
}

/// Binds and serves until `shutdown` completes; `on_bound` learns the addresses once listening.
pub async fn run(
    sidecar: Sidecar,
    shutdown: impl Future<Output = ()>,
    on_bound: impl FnOnce(Bound),
) -> anyhow::Result<()> {
    let Sidecar {
        authz,
        config,
        admin_token,
        iam_api,
    } = sidecar;
    let checked_listen = config.listen.clone();
    let limits = config.limits.clone();
    let grpc_l = TcpListener::bind(checked_listen.grpc)
        .await
        .with_context(|| format!("binding gRPC on {}", checked_listen.grpc))?;
    let http_l = TcpListener::bind(checked_listen.http)
        .await
        .with_context(|| format!("binding HTTP on {}", checked_listen.http))?;
    let admin_l = TcpListener::bind(checked_listen.admin)
        .await
        .with_context(|| format!("binding admin on {}", checked_listen.admin))?;
    let sts_l = match &config.sts {
        Some(s) => Some(
            TcpListener::bind(s.listen)
                .await
                .with_context(|| format!("binding STS on {}", s.listen))?,
        ),
        None => None,
    };
    let iam_l = match (&iam_api, config.iam.as_ref().and_then(|i| i.listen)) {
        (Some(_), Some(addr)) => Some(
            TcpListener::bind(addr)
                .await
                .with_context(|| format!("binding the IAM API on {addr}"))?,
        ),
        _ => None,
    };
    let forward_l = match checked_listen.forward_auth {
        Some(addr) => Some(
            TcpListener::bind(addr)
                .await
                .with_context(|| format!("binding forward-auth on {addr}"))?,
        ),
        None => None,
    };
    let bound = Bound {
        grpc: grpc_l.local_addr()?,
        http: http_l.local_addr()?,
        admin: admin_l.local_addr()?,
        sts: sts_l.as_ref().map(TcpListener::local_addr).transpose()?,
        iam: iam_l.as_ref().map(TcpListener::local_addr).transpose()?,
        forward_auth: forward_l
            .as_ref()
            .map(TcpListener::local_addr)
            .transpose()?,
    };

    let guarded = crate::checks(authz.clone(), limits.concurrency, limits.check_timeout);
    let (stop_tx, stop_rx) = watch::channel(false);

    let http_mode = Arc::new(HttpMode {
        service: guarded.clone(),
        authz: authz.clone(),
        path_prefix: checked_listen.http_path_prefix.clone(),
        max_header_bytes: limits.max_header_bytes,
    });
    let cap = limits.max_connections;
    let http_task = serve_http(
        Acceptor::new(http_l, cap, "http"),
        &limits,
        stop_rx.clone(),
        move |req, peer| {
            let m = http_mode.clone();
            async move { m.handle(req, peer).await }
        },
    );
    let admin = Arc::new(Admin {
        authz: authz.clone(),
        token: admin_token,
    });
    let admin_task = serve_http(
        Acceptor::new(admin_l, cap, "admin"),
        &limits,
        stop_rx.clone(),
        move |req, _peer| {
            let a = admin.clone();
            async move { admin::handle(a, req).await }
        },
    );
    let sts_task = match (sts_l, &config.sts) {
        (Some(listener), Some(section)) => {
            let max = i64::try_from(section.max_session_duration.as_secs()).unwrap_or(3600);
            let sts = Arc::new(Sts::new(authz.clone(), max).with_saml_service_provider(
                section.saml_audiences.clone(),
                section.saml_recipients.clone(),
            ));
            Some(serve_http(
                Acceptor::new(listener, cap, "sts"),
                &limits,
                stop_rx.clone(),
                move |req, peer| {
                    let s = sts.clone();
                    async move { s.handle(req, peer).await }
                },
            ))
        }
        _ => None,
    };
    let iam_task = match (iam_l, iam_api) {
        (Some(listener), Some(api)) => Some(serve_http(
            Acceptor::new(listener, cap, "iam"),
            &limits,
            stop_rx.clone(),
            move |req, peer| {
                let a = api.clone();
                async move { crate::iam::handle(&a, req, peer).await }
            },
        )),
        _ => None,
    };
    let forward_task = match (forward_l, checked_listen.forward_auth_style) {
        (Some(listener), Some(style)) => {
            let forward = Arc::new(ForwardAuth {
                service: guarded.clone(),
                authz: authz.clone(),
                style,
            });
            Some(serve_http(
                Acceptor::new(listener, cap, "forward_auth"),
                &limits,
                stop_rx.clone(),
                move |req, peer| {
                    let f = forward.clone();
                    async move { f.handle(req, peer).await }
                },
            ))
        }
        _ => None,
    };
    let mut grpc_stop = stop_rx.clone();
    // gRPC connections are capped like the others (a stream of accepted connections, each holding
    // a place until it closes), and so are the streams each one holds open; dead peers are found by
    // HTTP/2 keep-alive pings.
    let grpc_acceptor = Arc::new(Acceptor::new(grpc_l, cap, "grpc"));
    let incoming = futures_util::stream::unfold(grpc_acceptor, |a| async move {
        let conn = a.accept().await.coalescing();
        Some((Ok::<_, std::io::Error>(conn), a))
    });
    let grpc_task = tokio::spawn(
        tonic::transport::Server::builder()
            .http2_keepalive_interval(Some(limits.header_read_timeout))
            .http2_keepalive_timeout(Some(limits.header_read_timeout))
            .max_concurrent_streams(limits.max_streams_per_connection)
            // tonic turns off h2's bound on the streams a client makes the server reset (streams
            // refused over the limit above count too): past it the connection is closed
            // (GOAWAY, ENHANCE_YOUR_CALM). 1024 is hyper's and h2's own default.
            .http2_max_local_error_reset_streams(Some(1024))
            .add_service(AuthorizationService::new(
                ExtAuthz::new(guarded, authz.clone()),
                crate::grpc::max_message_bytes(limits.max_header_bytes, limits.max_body_bytes),
            ))
            .serve_with_incoming_shutdown(incoming, async move {
                let _ = grpc_stop.changed().await;
            }),
    );
    on_bound(bound);
    shutdown.await;
    let _ = stop_tx.send(true);
    let drain = async {
        let _ = grpc_task.await;
        let _ = http_task.await;
        let _ = admin_task.await;
        for t in [sts_task, iam_task, forward_task].into_iter().flatten() {
            let _ = t.await;
        }
    };
    if tokio::time::timeout(limits.shutdown_grace, drain)
        .await
        .is_err()
    {
        tracing::warn!(
            grace = ?limits.shutdown_grace,
            "in-flight checks did not finish within the grace period; exiting"
        );
    }
    Ok(())
}

/// Completes on SIGTERM or Ctrl-C.
pub async fn shutdown_signal() {
    #[cfg(unix)]
    {
        let term = async {
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(mut s) => {
                    s.recv().await;
                }
                Err(_) => std::future::pending::<()>().await,
            }
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
