//! `iamlet serve` and `iamlet check-config`.

use crate::config::{Config, EngineKind};
use crate::telemetry::LogFormat;
use anyhow::Context as _;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub(crate) struct ServeArgs {
    /// The configuration file (TOML; see sidecar/examples/iamlet.toml).
    #[arg(long, short)]
    config: PathBuf,
    /// Override the engine: the WebAssembly component (default) or the native engine.
    #[arg(long, value_enum)]
    engine: Option<EngineKind>,
    /// Which diagnostics to print (to stderr), as `tracing` filter directives, e.g. `warn` or
    /// `info,iamlet::server=debug` (per-check spans). Default: `$IAMLET_LOG`, else `info`.
    #[arg(long, value_name = "FILTER")]
    log_level: Option<String>,
    /// Diagnostics as text lines or JSON objects.
    #[arg(long, value_enum, default_value_t)]
    log_format: LogFormat,
}

#[derive(Debug, clap::Args)]
pub(crate) struct CheckConfigArgs {
    /// The configuration file.
    config: PathBuf,
}

/// Exit status for an unusable configuration (EX_USAGE), before any port is bound.
const EX_CONFIG: u8 = 64;

pub(crate) fn run_check(args: CheckConfigArgs) -> anyhow::Result<ExitCode> {
    match Config::load(&args.config) {
        Ok(c) => {
            if let Some(s) = &c.config.principal.sigv4 {
                if let Err(e) =
                    crate::credentials::Credentials::load(std::path::Path::new(&s.credentials))
                {
                    eprintln!("error: {e}");
                    return Ok(ExitCode::from(EX_CONFIG));
                }
            }
            println!(
                "{}: ok ({} routes; gRPC {}, HTTP {}, admin {}{}; engine {:?}; store {})",
                args.config.display(),
                c.routes.len(),
                c.config.listen.grpc,
                c.config.listen.http,
                c.config.listen.admin,
                c.config
                    .sts
                    .as_ref()
                    .map(|s| format!(", STS {}", s.listen))
                    .unwrap_or_default(),
                c.config.engine.kind,
                c.config.store.accounts
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            eprintln!("error: {e}");
            Ok(ExitCode::from(EX_CONFIG))
        }
    }
}

pub(crate) fn run_serve(args: ServeArgs) -> anyhow::Result<ExitCode> {
    if let Err(e) = crate::telemetry::init(args.log_level.as_deref(), args.log_format) {
        eprintln!("error: {e:#}");
        return Ok(ExitCode::from(EX_CONFIG));
    }
    let checked = match Config::load(&args.config) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return Ok(ExitCode::from(EX_CONFIG));
        }
    };
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    if let Some(n) = checked.config.limits.worker_threads {
        builder.worker_threads(n);
    }
    let runtime = builder
        .enable_all()
        .build()
        .context("starting the runtime")?;
    let open_files = crate::server::listener::raise_open_files_limit();
    if checked.config.principal.sigv4.is_some() && checked.config.context.region.is_none() {
        tracing::warn!(
            "[principal.sigv4] without [context] region: signatures are not bound to a region, and \
             aws:RequestedRegion is set only by routes that set it"
        );
    }
    runtime.block_on(async move {
        let listen = checked.config.listen.clone();
        let prefix = checked.config.listen.http_path_prefix.clone();
        let limits = checked.config.limits.clone();
        let limits_for_log = limits.clone();
        let authz = crate::serve::build(checked, args.engine).await?;
        let engine = authz.evaluator().name();
        crate::serve::run(
            authz,
            listen,
            prefix,
            limits,
            crate::serve::shutdown_signal(),
            |b| {
                tracing::info!(
                    grpc = %b.grpc,
                    http = %b.http,
                    admin = %b.admin,
                    engine,
                    workers = tokio::runtime::Handle::current().metrics().num_workers(),
                    open_files = ?open_files,
                    max_connections = limits_for_log.max_connections,
                    "serving ext_authz"
                );
                if let Some(sts) = b.sts {
                    tracing::info!(%sts, "serving STS (AssumeRole, GetSessionToken, GetCallerIdentity)");
                }
            },
        )
        .await
    })?;
    tracing::info!("stopped");
    Ok(ExitCode::SUCCESS)
}
