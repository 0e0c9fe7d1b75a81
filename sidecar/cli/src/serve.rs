//! `iamlet serve` and `iamlet check-config`.

use anyhow::Context as _;
use iamlet_server::config::{Config, EngineKind};
use iamlet_server::telemetry::LogFormat;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub(crate) struct ServeArgs {
    /// The configuration file (TOML; see sidecar/examples/iamlet.toml).
    #[arg(long, short)]
    config: PathBuf,
    /// Override the engine: the WebAssembly component (default) or the native engine.
    #[arg(long, value_enum)]
    engine: Option<EngineArg>,
    /// Which diagnostics to print (to stderr), as `tracing` filter directives, e.g. `warn` or
    /// `info,iamlet_server=debug` (per-check spans). Default: `$IAMLET_LOG`, else `info`.
    #[arg(long, value_name = "FILTER")]
    log_level: Option<String>,
    /// Diagnostics as text lines or JSON objects.
    #[arg(long, value_enum, default_value_t)]
    log_format: LogFormatArg,
}

/// `--engine`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum EngineArg {
    /// The WebAssembly component under wasmtime.
    Component,
    /// The engine compiled into the sidecar.
    Native,
}

impl From<EngineArg> for EngineKind {
    fn from(e: EngineArg) -> Self {
        match e {
            EngineArg::Component => EngineKind::Component,
            EngineArg::Native => EngineKind::Native,
        }
    }
}

/// `--log-format`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
enum LogFormatArg {
    /// One human-readable line per event.
    #[default]
    Text,
    /// One JSON object per event (for log shippers).
    Json,
}

impl From<LogFormatArg> for LogFormat {
    fn from(f: LogFormatArg) -> Self {
        match f {
            LogFormatArg::Text => LogFormat::Text,
            LogFormatArg::Json => LogFormat::Json,
        }
    }
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
            if let Some(iamlet_server::config::SigV4Section::File(s)) = &c.config.principal.sigv4 {
                if let Err(e) = iamlet_auth::Credentials::load(std::path::Path::new(&s.credentials))
                {
                    eprintln!("error: {e}");
                    return Ok(ExitCode::from(EX_CONFIG));
                }
            }
            println!(
                "{}: ok ({} routes; gRPC {}, HTTP {}, admin {}{}{}{}; engine {:?}; store {}{})",
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
                c.config
                    .iam
                    .as_ref()
                    .and_then(|i| i.listen)
                    .map(|l| format!(", IAM API {l}"))
                    .unwrap_or_default(),
                match (
                    c.config.listen.forward_auth,
                    c.config.listen.forward_auth_style
                ) {
                    (Some(a), Some(style)) => format!(", forward-auth {a} ({style:?})"),
                    _ => String::new(),
                },
                c.config.engine.kind,
                c.config.store.accounts,
                c.database
                    .as_ref()
                    .map(|d| format!("; IAM database {d}"))
                    .unwrap_or_default()
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
    if let Err(e) =
        iamlet_server::telemetry::init(args.log_level.as_deref(), args.log_format.into())
    {
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
    iamlet_server::start::serve(checked, args.engine.map(EngineKind::from)).context("serving")?;
    Ok(ExitCode::SUCCESS)
}
