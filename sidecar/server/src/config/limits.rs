//! `[limits]`: time, concurrency, sizes and connections.

use iamlet_authz::settings::duration;
use serde::Deserialize;
use std::time::Duration;

/// Limits.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitsSection {
    /// Time for one check; past it the check is denied.
    #[serde(default = "default_timeout", with = "duration")]
    pub check_timeout: Duration,
    /// Checks in flight at once; more are shed at once with a deny.
    #[serde(default = "default_concurrency")]
    pub concurrency: usize,
    /// Total bytes of request headers accepted.
    #[serde(default = "default_header_bytes")]
    pub max_header_bytes: usize,
    /// The largest request body a check accepts (Envoy's `with_request_body`), over it a 413: what
    /// each connection may make the sidecar hold for one check. 0 for a deployment that sends no
    /// bodies; at most [`MAX_BODY_BYTES_SETTING`].
    #[serde(default = "default_body_bytes")]
    pub max_body_bytes: usize,
    /// Grace period to drain in-flight checks on shutdown.
    #[serde(default = "default_grace", with = "duration")]
    pub shutdown_grace: Duration,
    /// Connections each listener (gRPC, HTTP, admin, STS) holds at once; more wait in the
    /// kernel's backlog until one closes.
    #[serde(default = "default_max_connections")]
    pub max_connections: usize,
    /// Streams one gRPC connection may hold open at once (HTTP/2's `SETTINGS_MAX_CONCURRENT_STREAMS`);
    /// more are refused (`REFUSED_STREAM`) and Envoy opens another connection. Without it one
    /// connection holds as many streams as its client opens: a client that reads nothing keeps
    /// every answer, and its state, in the sidecar's memory.
    #[serde(default = "default_max_streams_per_connection")]
    pub max_streams_per_connection: u32,
    /// Time for a request's headers to arrive, and for an idle keep-alive connection's next
    /// request (then it is closed); on gRPC, the HTTP/2 keep-alive ping interval and timeout.
    #[serde(default = "default_header_read_timeout", with = "duration")]
    pub header_read_timeout: Duration,
    /// Threads serving checks; by default one per core. Like Envoy's `--concurrency`: a sidecar
    /// sharing its node with the application it guards can be held to fewer cores (BENCHMARKS.md
    /// measures one thread against two).
    #[serde(default)]
    pub worker_threads: Option<usize>,
}

fn default_timeout() -> Duration {
    Duration::from_millis(500)
}
fn default_concurrency() -> usize {
    1024
}
fn default_header_bytes() -> usize {
    64 * 1024
}
fn default_body_bytes() -> usize {
    iamlet_authz::DEFAULT_MAX_BODY_BYTES
}
fn default_grace() -> Duration {
    Duration::from_secs(10)
}
fn default_max_connections() -> usize {
    512
}
/// The least RFC 9113 (5.1.2) recommends, and what gRPC clients assume before a server's SETTINGS.
fn default_max_streams_per_connection() -> u32 {
    100
}
fn default_header_read_timeout() -> Duration {
    Duration::from_secs(30)
}

impl Default for LimitsSection {
    fn default() -> Self {
        LimitsSection {
            check_timeout: default_timeout(),
            concurrency: default_concurrency(),
            max_header_bytes: default_header_bytes(),
            max_body_bytes: default_body_bytes(),
            shutdown_grace: default_grace(),
            max_connections: default_max_connections(),
            max_streams_per_connection: default_max_streams_per_connection(),
            header_read_timeout: default_header_read_timeout(),
            worker_threads: None,
        }
    }
}

/// More threads than this is a typo, not a machine.
const MAX_WORKER_THREADS: usize = 1024;
/// A check's body is read whole into memory (a SigV4 payload hash is checked against it): a larger
/// limit is an upload, which Envoy should not be sending to an authorizer.
pub const MAX_BODY_BYTES_SETTING: usize = 64 * 1024 * 1024;

impl LimitsSection {
    /// What is wrong with the limits, naming the key.
    pub(super) fn check(&self) -> Result<(), String> {
        if self.concurrency == 0 {
            return Err("limits.concurrency must be at least 1".into());
        }
        if self.max_connections == 0 {
            return Err("limits.max_connections must be at least 1".into());
        }
        if self.max_streams_per_connection == 0 {
            return Err("limits.max_streams_per_connection must be at least 1".into());
        }
        if self.max_body_bytes > MAX_BODY_BYTES_SETTING {
            return Err(format!(
                "limits.max_body_bytes is {}; it must be at most {MAX_BODY_BYTES_SETTING} (64 MiB)",
                self.max_body_bytes
            ));
        }
        if self.header_read_timeout.is_zero() {
            return Err("limits.header_read_timeout must be more than 0".into());
        }
        match self.worker_threads {
            Some(n) if !(1..=MAX_WORKER_THREADS).contains(&n) => Err(format!(
                "limits.worker_threads is {n}; it must be 1 to {MAX_WORKER_THREADS}"
            )),
            _ => Ok(()),
        }
    }
}
