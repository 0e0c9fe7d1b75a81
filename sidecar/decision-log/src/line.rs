//! A record as its line in Iamlet's format, written directly: the same bytes serde_json writes for
//! [`DecisionRecord`] (a test compares the two on generated records), at about half the cost, once
//! per check on the check's thread — field names are written as they are instead of being escaped
//! on every record, and a value with nothing to escape is copied in one go. A record
//! of an IAM API call (with CloudTrail's management fields) is left to serde.

use crate::{DecisionRecord, Federation, SessionContext};

/// Appends the record's JSON object (no newline).
pub(crate) fn write(rec: &DecisionRecord, out: &mut Vec<u8>) -> serde_json::Result<()> {
    if rec.management.is_some() {
        return serde_json::to_writer(out, rec);
    }
    let mut o = Object::new(out);
    o.string("eventTime", &rec.event_time);
    o.string("requestId", &rec.request_id);
    o.string("decisionId", &rec.decision_id);
    o.some("traceparent", rec.traceparent.as_deref());
    o.some("tracestate", rec.tracestate.as_deref());
    o.string("protocol", rec.protocol);
    o.nullable("principal", rec.principal.as_deref());
    o.some("principalId", rec.principal_id.as_deref());
    if let Some(s) = &rec.session_context {
        o.key("sessionContext");
        session_context(s, o.out);
    }
    o.some("accessKeyId", rec.access_key_id.as_deref());
    o.nullable("action", rec.action.as_deref());
    o.nullable("resource", rec.resource.as_deref());
    o.some("resourceAccount", rec.resource_account.as_deref());
    if let Some(r) = rec.read_only {
        o.bool("readOnly", r);
    }
    o.some("errorCode", rec.error_code.as_deref());
    o.some("region", rec.region.as_deref());
    o.string("decision", &rec.decision);
    o.bool("allowed", rec.allowed);
    o.bool("enforced", rec.enforced);
    o.nullable("decidingPolicy", rec.deciding_policy.as_deref());
    o.nullable("decidingStatement", rec.deciding_statement.as_deref());
    o.string("reason", &rec.reason);
    o.nullable("sourceIpAddress", rec.source_ip_address.as_deref());
    o.nullable("userAgent", rec.user_agent.as_deref());
    o.string("httpMethod", &rec.http_method);
    o.string("httpPath", &rec.http_path);
    o.key("latencyMicros");
    o.out
        .extend_from_slice(itoa::Buffer::new().format(rec.latency_micros).as_bytes());
    o.string("engine", rec.engine);
    o.some("shadowDecision", rec.shadow_decision.as_deref());
    if let Some(f) = &rec.federation {
        o.key("federation");
        federation(f, o.out);
    }
    o.end();
    Ok(())
}

fn session_context(s: &SessionContext, out: &mut Vec<u8>) {
    let mut o = Object::new(out);
    o.some("issuer", s.issuer.as_deref());
    o.string("creationDate", &s.creation_date);
    o.bool("mfaAuthenticated", s.mfa_authenticated);
    o.end();
}

fn federation(f: &Federation, out: &mut Vec<u8>) {
    let mut o = Object::new(out);
    o.string("provider", &f.provider);
    o.string("subject", &f.subject);
    o.end();
}

/// A JSON object being written; its keys are constants that need no escaping.
struct Object<'a> {
    out: &'a mut Vec<u8>,
    empty: bool,
}

impl<'a> Object<'a> {
    fn new(out: &'a mut Vec<u8>) -> Self {
        Object { out, empty: true }
    }

    fn key(&mut self, key: &str) {
        self.out.push(if self.empty { b'{' } else { b',' });
        self.empty = false;
        self.out.push(b'"');
        self.out.extend_from_slice(key.as_bytes());
        self.out.extend_from_slice(b"\":");
    }

    fn string(&mut self, key: &str, value: &str) {
        self.key(key);
        string(self.out, value);
    }

    /// `null` when absent (serde's `Option` without `skip_serializing_if`).
    fn nullable(&mut self, key: &str, value: Option<&str>) {
        self.key(key);
        match value {
            Some(v) => string(self.out, v),
            None => self.out.extend_from_slice(b"null"),
        }
    }

    /// Left out when absent (`skip_serializing_if = "Option::is_none"`).
    fn some(&mut self, key: &str, value: Option<&str>) {
        if let Some(v) = value {
            self.string(key, v);
        }
    }

    fn bool(&mut self, key: &str, value: bool) {
        self.key(key);
        self.out
            .extend_from_slice(if value { b"true" } else { b"false" });
    }

    fn end(self) {
        if self.empty {
            self.out.push(b'{');
        }
        self.out.push(b'}');
    }
}

/// A JSON string: copied as it is when nothing in it needs escaping (serde_json escapes `"`, `\`
/// and the control characters below U+0020, nothing else), else escaped by serde_json itself.
fn string(out: &mut Vec<u8>, s: &str) {
    // Without an early exit, so the check runs over whole vectors of bytes.
    let escapes = s.bytes().fold(false, |any, b| {
        any | (b < 0x20) | (b == b'"') | (b == b'\\')
    });
    if escapes {
        // Writing into a Vec cannot fail; a string always serializes.
        let _ = serde_json::to_writer(&mut *out, s);
    } else {
        out.reserve(s.len() + 2);
        out.push(b'"');
        out.extend_from_slice(s.as_bytes());
        out.push(b'"');
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ManagementEvent;
    use proptest::prelude::*;

    /// Text with what JSON escapes, what it does not (non-ASCII, DEL), and plain letters.
    fn text() -> impl Strategy<Value = String> {
        "[a-z \"\\\\/\\x00-\\x1f\\x7fé€😀]{0,12}"
    }

    fn maybe() -> impl Strategy<Value = Option<String>> {
        proptest::option::of(text())
    }

    prop_compose! {
        fn record()(
            strings in proptest::collection::vec(text(), 9),
            options in proptest::collection::vec(maybe(), 16),
            flags in proptest::collection::vec(any::<bool>(), 6),
            read_only in proptest::option::of(any::<bool>()),
            latency in any::<u64>(),
            session in proptest::option::of((maybe(), text(), any::<bool>())),
            federation in proptest::option::of((text(), text())),
        ) -> DecisionRecord {
            let mut r = DecisionRecord::begin(strings[0].clone(), "grpc", "component", flags[0]);
            r.event_time = strings[1].clone();
            r.decision_id = strings[2].clone();
            r.decision = strings[3].clone();
            r.reason = strings[4].clone();
            r.http_method = strings[5].clone();
            r.http_path = strings[6].clone();
            r.protocol = if flags[1] { "http" } else { "grpc" };
            r.engine = if flags[2] { "native" } else { "component" };
            let mut o = options.into_iter();
            let mut next = || o.next().flatten();
            r.traceparent = next();
            r.tracestate = next();
            r.principal = next();
            r.principal_id = next();
            r.access_key_id = next();
            r.action = next();
            r.resource = next();
            r.resource_account = next();
            r.error_code = next();
            r.region = next();
            r.deciding_policy = next();
            r.deciding_statement = next();
            r.source_ip_address = next();
            r.user_agent = next();
            r.shadow_decision = next();
            r.read_only = read_only;
            r.allowed = flags[3];
            r.latency_micros = latency;
            r.session_context = session.map(|(issuer, creation_date, mfa_authenticated)| SessionContext {
                issuer,
                creation_date,
                mfa_authenticated,
            });
            r.federation = federation.map(|(provider, subject)| Federation { provider, subject });
            r
        }
    }

    proptest! {
        #[test]
        fn a_line_is_serde_s_to_the_byte(rec in record()) {
            let mut ours = Vec::new();
            write(&rec, &mut ours).unwrap();
            prop_assert_eq!(
                String::from_utf8(ours).unwrap(),
                serde_json::to_string(&rec).unwrap()
            );
        }
    }

    #[test]
    fn an_iam_api_call_is_serde_s_own() {
        let mut rec = DecisionRecord::begin("r".into(), "http", "native", true);
        rec.management = Some(ManagementEvent {
            event_source: "iam.amazonaws.com",
            event_name: "CreateUser".into(),
            event_version: "1.08",
            event_type: "AwsApiCall",
            read_only: false,
            user_identity: serde_json::json!({ "type": "IAMUser" }),
            request_parameters: serde_json::json!({ "userName": "alice" }),
            error_code: None,
            error_message: None,
            recipient_account_id: "111122223333".into(),
        });
        let mut ours = Vec::new();
        write(&rec, &mut ours).unwrap();
        assert_eq!(ours, serde_json::to_vec(&rec).unwrap());
    }
}
