//! The decision log: one JSON line per decision, with CloudTrail-like field names, written by a
//! thread of its own so that checks never wait on the disk. If the writer falls behind, lines are
//! dropped and counted rather than slowing checks down. The reports read it back
//! ([`read`], [`LoggedDecision`]).
//!
//! What of a client's request may be written down is [`redact`]'s: never a credential, and never
//! more than a bounded slice of the client's input.
//!
//! What this crate must not do: decide anything, or block a caller on the disk.

#![forbid(unsafe_code)]

pub mod cloudtrail;
mod event_time;
mod line;
mod queue;
pub mod redact;

use queue::{Handle, Queue};
use serde::Serialize;
use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// One decision.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DecisionRecord {
    /// RFC 3339 time of the decision.
    pub event_time: String,
    /// The request id (Envoy's `x-request-id`, or one of ours).
    pub request_id: String,
    /// The decision's own id, always ours and unique: what the answer carries (a header for the
    /// upstream, Envoy's dynamic metadata, the deny body) to find this line.
    pub decision_id: String,
    /// The checked request's W3C `traceparent`, when it carried a well-formed one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub traceparent: Option<String>,
    /// The checked request's W3C `tracestate`, with a `traceparent`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tracestate: Option<String>,
    /// `grpc` or `http`.
    pub protocol: &'static str,
    /// The principal's ARN, when established.
    pub principal: Option<String>,
    /// The principal's unique id (`AIDA…` for a user, `AROA…` for a role), when the store knows it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub principal_id: Option<String>,
    /// For temporary credentials: who issued the session, when, and whether with MFA.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session_context: Option<SessionContext>,
    /// The access key that signed the request (SigV4), verified or not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access_key_id: Option<String>,
    /// The IAM action.
    pub action: Option<String>,
    /// The resource ARN.
    pub resource: Option<String>,
    /// The account owning the resource, when the route says.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource_account: Option<String>,
    /// Whether the action only reads (its access level in the catalog is List or Read).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub read_only: Option<bool>,
    /// AWS's error code of a signature that did not verify (`SignatureDoesNotMatch`, …).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_code: Option<String>,
    /// `aws:RequestedRegion` of the request (a SigV4 signature's region, or the configured one).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// `Allow`, `ExplicitDeny`, `ImplicitDeny`, or `Error` when no decision could be made.
    pub decision: String,
    /// Whether the request was let through (dry runs let denied requests through).
    pub allowed: bool,
    /// `false` in dry-run mode.
    pub enforced: bool,
    /// The deciding policy.
    pub deciding_policy: Option<String>,
    /// The deciding statement: `Statement[i]` and its Sid.
    pub deciding_statement: Option<String>,
    /// Why, in words.
    pub reason: String,
    /// The client's address.
    pub source_ip_address: Option<String>,
    /// The client's `User-Agent`.
    pub user_agent: Option<String>,
    /// The HTTP method and path.
    pub http_method: String,
    /// The HTTP path.
    pub http_path: String,
    /// Time spent deciding, in microseconds.
    pub latency_micros: u64,
    /// `component` or `native`.
    pub engine: &'static str,
    /// In shadow mode, the candidate's decision when it differs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shadow_decision: Option<String>,
    /// For calls of an AWS API served by Iamlet (the IAM API): CloudTrail's management-event
    /// fields, in CloudTrail's names, beside the decision's.
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub management: Option<ManagementEvent>,
    /// For STS federation calls (`AssumeRoleWithWebIdentity`): the identity provider's ARN and the
    /// token's subject (`sub`), once the token is verified.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub federation: Option<Federation>,
}

/// Who a federation call came from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Federation {
    /// The provider's ARN.
    pub provider: String,
    /// The subject the provider vouched for.
    pub subject: String,
}

/// A session's issuer and attributes (CloudTrail's `sessionContext`).
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionContext {
    /// The role (assumed-role sessions) or IAM user (federation, `GetSessionToken`) that issued it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
    /// When it was issued, RFC 3339.
    pub creation_date: String,
    /// Whether it was issued with MFA.
    pub mfa_authenticated: bool,
}

/// CloudTrail's fields of a management event (`eventSource`, `eventName`, `userIdentity`,
/// `requestParameters`, `errorCode`…), so tools that read CloudTrail read these lines.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ManagementEvent {
    /// `iam.amazonaws.com`.
    pub event_source: &'static str,
    /// The API action (`CreateUser`).
    pub event_name: String,
    /// `1.08`.
    pub event_version: &'static str,
    /// `AwsApiCall`.
    pub event_type: &'static str,
    /// Whether the call only reads.
    pub read_only: bool,
    /// Who called: `type`, `principalId`, `arn`, `accountId`, `accessKeyId`, `userName`.
    pub user_identity: serde_json::Value,
    /// The call's parameters, secrets replaced by `HIDDEN_DUE_TO_SECURITY_REASONS`, bounded.
    pub request_parameters: serde_json::Value,
    /// AWS's error code, when the call failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_code: Option<String>,
    /// The error's message.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_message: Option<String>,
    /// The account the call was made in.
    pub recipient_account_id: String,
}

impl DecisionRecord {
    /// A record begun now, everything else unknown yet: each front end (ext_authz, STS, a failed
    /// check) fills in what it learns. The decision id is the request id until one says otherwise.
    pub fn begin(
        request_id: String,
        protocol: &'static str,
        engine: &'static str,
        enforced: bool,
    ) -> Self {
        let decision_id = request_id.clone();
        let now = chrono::Utc::now();
        Self::begin_at(now, request_id, decision_id, protocol, engine, enforced)
    }

    /// [`DecisionRecord::begin`] at a time the caller has read (a check reads the clock once),
    /// with a decision id of its own.
    pub fn begin_at(
        now: chrono::DateTime<chrono::Utc>,
        request_id: String,
        decision_id: String,
        protocol: &'static str,
        engine: &'static str,
        enforced: bool,
    ) -> Self {
        DecisionRecord {
            event_time: event_time::format(now),
            decision_id,
            traceparent: None,
            tracestate: None,
            request_id,
            protocol,
            principal: None,
            principal_id: None,
            session_context: None,
            access_key_id: None,
            action: None,
            resource: None,
            resource_account: None,
            read_only: None,
            error_code: None,
            region: None,
            decision: String::new(),
            allowed: false,
            enforced,
            deciding_policy: None,
            deciding_statement: None,
            reason: String::new(),
            source_ip_address: None,
            user_agent: None,
            http_method: String::new(),
            http_path: String::new(),
            latency_micros: 0,
            engine,
            shadow_decision: None,
            management: None,
            federation: None,
        }
    }

    /// The record with every field that carries client input (principal, action, resource, reason,
    /// user agent, path) cut to [`redact::MAX_LOGGED_BYTES`]: a hostile request cannot make a
    /// line, or the queue, large.
    fn bounded(mut self) -> Self {
        for field in [
            &mut self.principal,
            &mut self.principal_id,
            &mut self.resource_account,
            &mut self.error_code,
            &mut self.access_key_id,
            &mut self.action,
            &mut self.resource,
            &mut self.region,
            &mut self.user_agent,
            &mut self.deciding_policy,
            &mut self.deciding_statement,
            &mut self.source_ip_address,
            &mut self.shadow_decision,
            &mut self.traceparent,
            &mut self.tracestate,
        ]
        .into_iter()
        .flatten()
        {
            redact::truncate_in_place(field);
        }
        for field in [
            &mut self.reason,
            &mut self.http_path,
            &mut self.request_id,
            &mut self.http_method,
        ] {
            redact::truncate_in_place(field);
        }
        if let Some(m) = self.management.as_mut() {
            redact::truncate_in_place(&mut m.event_name);
            if let Some(e) = m.error_message.as_mut() {
                redact::truncate_in_place(e);
            }
            // Parameters carry policy documents: a few kilobytes are kept, more is cut.
            if m.request_parameters.to_string().len() > 4 * redact::MAX_LOGGED_BYTES {
                m.request_parameters = serde_json::json!({ "truncated": true });
            }
        }
        self
    }

    /// Records the statement that decided: its policy, and `Statement[i]` with its Sid.
    pub fn set_deciding(&mut self, policy: String, statement: usize, sid: Option<&str>) {
        self.deciding_statement = Some(statement_label(statement, sid));
        self.deciding_policy = Some(policy);
    }
}

/// How the log names a policy's statement: `Statement[i]`, with its Sid in parentheses when it has
/// one.
pub fn statement_label(statement: usize, sid: Option<&str>) -> String {
    match sid {
        Some(sid) => format!("Statement[{statement}] ({sid})"),
        None => format!("Statement[{statement}]"),
    }
}

/// How decisions are written: one JSON object a line either way.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Iamlet's own fields ([`DecisionRecord`]).
    #[default]
    Iamlet,
    /// CloudTrail's record format ([`cloudtrail`]), Iamlet's fields under `additionalEventData`.
    CloudTrail,
}

/// The most bytes of lines waiting for the writer; past it records are dropped and counted.
pub const MAX_QUEUED_BYTES: usize = 16 * 1024 * 1024;
/// The most a thread's line buffer keeps between records ([`DecisionLog::record`]).
const LINE_KEPT_BYTES: usize = 16 * 1024;
/// How long the writer lets records gather after each batch it writes (what a record may wait).
const LINGER: std::time::Duration = std::time::Duration::from_millis(2);

/// Where decisions go.
#[derive(Clone, Debug)]
pub struct DecisionLog {
    /// `None`: a log that writes nothing.
    queue: Option<Arc<Handle>>,
    format: LogFormat,
    dropped: Arc<AtomicU64>,
    max_queued_bytes: usize,
}

impl DecisionLog {
    /// A log that writes nothing.
    pub fn disabled() -> Self {
        DecisionLog {
            queue: None,
            format: LogFormat::Iamlet,
            dropped: Arc::new(AtomicU64::new(0)),
            max_queued_bytes: MAX_QUEUED_BYTES,
        }
    }

    /// Starts the writer in Iamlet's own format: `-` for stdout, else a file appended to.
    pub async fn open(path: &str) -> std::io::Result<Self> {
        Self::open_with(path, LogFormat::Iamlet).await
    }

    /// Starts the writer in a format: `-` for stdout, else a file appended to.
    ///
    /// The writer is one long-lived blocking thread with plain `std::io` writes: `tokio::fs` would
    /// hand every write to the blocking pool, a thread wake-up per batch. It ends once every
    /// handle on the log is dropped and what was queued is written.
    pub async fn open_with(path: &str, format: LogFormat) -> std::io::Result<Self> {
        let mut out: Box<dyn Write + Send> = if path == "-" {
            Box::new(std::io::stdout())
        } else {
            Box::new(
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(path)?,
            )
        };
        let queue = Arc::new(Queue::default());
        let writer = queue.clone();
        tokio::task::spawn_blocking(move || {
            let mut batch = Vec::new();
            while writer.take(&mut batch) {
                let ok = out.write_all(&batch).is_ok() && out.flush().is_ok();
                writer.release(batch.len());
                batch.clear();
                if !ok {
                    // Nothing more can be written: records from now on are dropped and counted.
                    writer.close();
                    break;
                }
                // Let lines gather before the next batch: a writer that goes back to waiting at
                // once is woken (a futex call on the check's thread and a context switch) for
                // every record under load; this bounds wake-ups to LINGER's rate.
                std::thread::sleep(LINGER);
            }
        });
        Ok(DecisionLog {
            queue: Some(Arc::new(Handle(queue))),
            format,
            dropped: Arc::new(AtomicU64::new(0)),
            max_queued_bytes: MAX_QUEUED_BYTES,
        })
    }

    /// The same log with another bound on the bytes queued (tests).
    pub fn with_max_queued_bytes(mut self, bytes: usize) -> Self {
        self.max_queued_bytes = bytes;
        self
    }

    /// Queues a record's line (its client input cut short); never waits on the disk. The line is
    /// written here, on the caller's thread (the `queue` module says why). Past the queue's bound in
    /// bytes or lines, the record is dropped and counted.
    pub fn record(&self, rec: DecisionRecord) {
        let Some(queue) = &self.queue else { return };
        let rec = rec.bounded();
        // Written in a buffer of the thread's, kept between records: the queue copies the line, so
        // a buffer of its own per record would be a kilobyte allocated and freed on every check.
        thread_local! {
            static LINE: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
        }
        let queued = LINE.with_borrow_mut(|line| {
            line.clear();
            let written = match self.format {
                LogFormat::Iamlet => line::write(&rec, line),
                LogFormat::CloudTrail => {
                    serde_json::to_writer(&mut *line, &cloudtrail::record(&rec))
                }
            };
            line.push(b'\n');
            let queued = written.is_ok() && queue.0.push(line, self.max_queued_bytes);
            // A record far longer than most does not keep its buffer's size on the thread.
            if line.capacity() > LINE_KEPT_BYTES {
                *line = Vec::new();
            }
            queued
        });
        if !queued {
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Bytes of lines waiting for the writer or being written.
    pub fn queued_bytes(&self) -> usize {
        self.queue.as_ref().map_or(0, |q| q.0.bytes())
    }

    /// Records dropped because the writer fell behind.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }
}

/// A decision as read back from a log file: the fields the reports use (others are ignored).
#[derive(Clone, Debug, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LoggedDecision {
    /// RFC 3339 time of the decision.
    pub event_time: chrono::DateTime<chrono::Utc>,
    /// The principal's ARN, when established.
    #[serde(default)]
    pub principal: Option<String>,
    /// The access key that signed the request.
    #[serde(default)]
    pub access_key_id: Option<String>,
    /// The IAM action.
    #[serde(default)]
    pub action: Option<String>,
    /// The resource ARN.
    #[serde(default)]
    pub resource: Option<String>,
    /// `aws:RequestedRegion`, when the request had one.
    #[serde(default)]
    pub region: Option<String>,
    /// `Allow`, `ExplicitDeny`, `ImplicitDeny`, `Unauthenticated`, `Unmapped`, `Error`…
    pub decision: String,
}

impl LoggedDecision {
    /// Whether the engine decided (the principal was authenticated and the request mapped).
    pub fn is_decision(&self) -> bool {
        matches!(
            self.decision.as_str(),
            "Allow" | "ExplicitDeny" | "ImplicitDeny"
        )
    }
}

/// A decision log that cannot be read back.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// The file cannot be read.
    #[error("{file}: {source}")]
    Io {
        /// The file.
        file: String,
        /// Why.
        source: std::io::Error,
    },
    /// A line is not a decision record.
    #[error("{file}:{line}: not a decision record: {message}")]
    Line {
        /// The file.
        file: String,
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        message: String,
    },
}

/// One JSON record as a decision: Iamlet's format, or CloudTrail's ([`cloudtrail::decision_of`]).
fn decision(v: serde_json::Value) -> Result<LoggedDecision, String> {
    match cloudtrail::decision_of(&v) {
        Some(r) => r,
        None => serde_json::from_value(v).map_err(|e| e.to_string()),
    }
}

/// Reads every record of a decision log: JSON lines in Iamlet's format or CloudTrail's (blank lines
/// are skipped), or a CloudTrail log file (`{"Records": [...]}`, as CloudTrail delivers to S3). A
/// record that is not a decision is an error naming its line: a report built on half a log would
/// mislead. The one exception is a last line cut short with no newline after it: the record a
/// running sidecar is appending as the log is read, which the next read will find whole.
pub fn read(path: &std::path::Path) -> Result<Vec<LoggedDecision>, ReadError> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source| ReadError::Io {
        file: file.clone(),
        source,
    })?;
    let line_error = |line: usize, message: String| ReadError::Line {
        file: file.clone(),
        line,
        message,
    };
    if let Ok(serde_json::Value::Object(mut whole)) = serde_json::from_str(&text) {
        if let Some(serde_json::Value::Array(records)) = whole.remove("Records") {
            return records
                .into_iter()
                .enumerate()
                .map(|(i, r)| decision(r).map_err(|m| line_error(1, format!("Records[{i}]: {m}"))))
                .collect();
        }
    }
    // Only a last line without its newline may be a record still being appended.
    let unterminated = (!text.is_empty() && !text.ends_with('\n')).then(|| text.lines().count());
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .filter_map(|(i, l)| match serde_json::from_str(l) {
            Ok(v) => Some(decision(v).map_err(|m| line_error(i + 1, m))),
            Err(e) if Some(i + 1) == unterminated && e.is_eof() => None,
            Err(e) => Some(Err(line_error(i + 1, e.to_string()))),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn huge(path_bytes: usize) -> DecisionRecord {
        DecisionRecord {
            http_path: "/".repeat(path_bytes),
            reason: format!("no route maps GET {}", "/".repeat(path_bytes)),
            user_agent: Some("u".repeat(path_bytes)),
            ..DecisionRecord::begin("r".into(), "http", "native", true)
        }
    }

    /// Found by the security review: 8,192 queued records, each copying a client's whole path,
    /// could pin half a GiB. Client input is cut short and the queue is bounded in bytes.
    #[test]
    fn the_queue_is_bounded_in_bytes_and_client_input_is_cut() {
        let rec = huge(60 * 1024).bounded();
        assert!(rec.http_path.len() < redact::MAX_LOGGED_BYTES + 40);
        assert!(rec.reason.len() < redact::MAX_LOGGED_BYTES + 40);
        let mut line = Vec::new();
        line::write(&rec, &mut line).unwrap();
        assert!(line.len() < 4 * redact::MAX_LOGGED_BYTES);

        // A writer that does not keep up (here: never reads) fills the queue to its bound in bytes,
        // long before its bound in records; the rest is dropped and counted.
        let log = DecisionLog {
            queue: Some(Arc::new(Handle(Arc::new(Queue::default())))),
            ..DecisionLog::disabled()
        }
        .with_max_queued_bytes(64 * 1024);
        let weight = line.len() + 1;
        for _ in 0..1000 {
            log.record(huge(60 * 1024));
            assert!(log.queued_bytes() <= 64 * 1024);
        }
        let kept = (64 * 1024 / weight) as u64;
        assert_eq!(log.dropped(), 1000 - kept);
    }

    #[test]
    fn records_read_back_and_bad_lines_are_named() {
        let dir = std::env::temp_dir().join(format!("iamlet-dlog-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let good = dir.join("good.jsonl");
        std::fs::write(
            &good,
            "{\"eventTime\":\"2026-11-23T10:00:00.000001Z\",\"requestId\":\"r\",\"principal\":\"arn:aws:iam::111122223333:user/alice\",\"action\":\"s3:GetObject\",\"resource\":\"arn:aws:s3:::b/k\",\"region\":\"eu-west-1\",\"decision\":\"Allow\",\"allowed\":true}\n\n{\"eventTime\":\"2026-11-23T10:00:01Z\",\"decision\":\"Unauthenticated\"}\n",
        )
        .unwrap();
        let records = read(&good).unwrap();
        assert_eq!(records.len(), 2);
        assert_eq!(records[0].region.as_deref(), Some("eu-west-1"));
        assert!(records[0].is_decision() && !records[1].is_decision());
        let bad = dir.join("bad.jsonl");
        std::fs::write(
            &bad,
            "{\"eventTime\":\"2026-11-23T10:00:00Z\",\"decision\":\"Allow\"}\nnot json\n",
        )
        .unwrap();
        let err = read(&bad).unwrap_err().to_string();
        assert!(err.contains("bad.jsonl:2: not a decision record"), "{err}");

        // A live log: its last record half written, no newline yet. Skipped, not an error; the
        // same cut line followed by a newline (the sidecar never writes one) is an error.
        let whole = "{\"eventTime\":\"2026-11-23T10:00:00Z\",\"decision\":\"Allow\"}\n";
        let live = dir.join("live.jsonl");
        std::fs::write(&live, format!("{whole}{}", &whole[..30])).unwrap();
        assert_eq!(read(&live).unwrap().len(), 1);
        std::fs::write(&live, format!("{whole}{}\n", &whole[..30])).unwrap();
        let err = read(&live).unwrap_err().to_string();
        assert!(err.contains("live.jsonl:2: not a decision record"), "{err}");
        // Garbage at the end is not a record being written.
        std::fs::write(&live, format!("{whole}not json")).unwrap();
        assert!(read(&live).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
