//! `iamlet serve` and `iamlet check-config`.

use crate::config::{Config, EngineKind};
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
            println!(
                "{}: ok ({} routes; gRPC {}, HTTP {}, admin {}; engine {:?}; store {})",
                args.config.display(),
                c.routes.len(),
                c.config.listen.grpc,
                c.config.listen.http,
                c.config.listen.admin,
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
    let checked = match Config::load(&args.config) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return Ok(ExitCode::from(EX_CONFIG));
        }
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the runtime")?;
    runtime.block_on(async move {
        let listen = checked.config.listen.clone();
        let prefix = checked.config.listen.http_path_prefix.clone();
        let limits = checked.config.limits.clone();
        let authz = crate::serve::build(checked, args.engine).await?;
        let engine = authz.evaluator().name();
        crate::serve::run(
            authz,
            listen,
            prefix,
            limits,
            crate::serve::shutdown_signal(),
            |b| {
                eprintln!(
                    "iamlet: serving ext_authz gRPC on {}, HTTP on {}, admin on {} (engine: {engine})",
                    b.grpc, b.http, b.admin
                );
            },
        )
        .await
    })?;
    eprintln!("iamlet: stopped");
    Ok(ExitCode::SUCCESS)
}
