//! Diagnostics for `iamlet serve`: `tracing` events and spans to stderr, as text or JSON lines,
//! filtered by `--log-level` or `IAMLET_LOG` (`tracing-subscriber` directives, e.g.
//! `info,iamlet_server=debug`). Decisions are not diagnostics: they go to the decision log.

use tracing_subscriber::EnvFilter;

/// How events are written.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum LogFormat {
    /// One human-readable line per event.
    #[default]
    Text,
    /// One JSON object per event (for log shippers).
    Json,
}

/// The environment variable read when no `--log-level` is given.
pub const LOG_ENV: &str = "IAMLET_LOG";

/// Installs the global subscriber. An invalid filter is an error naming it.
pub fn init(level: Option<&str>, format: LogFormat) -> anyhow::Result<()> {
    let directives = match level {
        Some(l) => l.to_owned(),
        None => std::env::var(LOG_ENV).unwrap_or_else(|_| "info".to_owned()),
    };
    let filter = EnvFilter::builder()
        .parse(&directives)
        .map_err(|e| anyhow::anyhow!("invalid log filter `{directives}`: {e}"))?;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(false);
    let installed = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
    };
    installed.map_err(|e| anyhow::anyhow!("installing the log subscriber: {e}"))
}
