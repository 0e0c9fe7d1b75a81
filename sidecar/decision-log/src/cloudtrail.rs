//! CloudTrail's record format: a decision written as CloudTrail writes an API call
//! (`[decision_log] format = "cloudtrail"`), so that tools reading CloudTrail (Athena tables,
//! CloudTrail Lake imports, SIEM parsers) read Iamlet's decisions; and CloudTrail records read back
//! as decisions, so `iamlet report` reads logs in either format (and CloudTrail's own exports).
//!
//! A decision becomes an `AwsApiCall` event: `eventSource` and `eventName` from the IAM action,
//! `userIdentity` from the principal, `errorCode` `AccessDenied` (or the signature's AWS error code)
//! and an AWS-style `errorMessage` for a denial, the decision's id as `eventID`. What CloudTrail has
//! no field for — the decision, the deciding statement, the reason, the engine, the trace context
//! — is kept under `additionalEventData.iamlet`.

use crate::{DecisionRecord, LoggedDecision};
use serde_json::{json, Map, Value};

/// CloudTrail's `eventVersion` of the records written.
pub const EVENT_VERSION: &str = "1.08";

/// The part of an ARN at `index` (`arn:partition:service:region:account:resource`).
fn arn_part(arn: &str, index: usize) -> Option<&str> {
    arn.splitn(6, ':').nth(index).filter(|s| !s.is_empty())
}

/// CloudTrail's `userIdentity.type` of a principal ARN.
fn identity_type(arn: &str) -> &'static str {
    let resource = arn_part(arn, 5).unwrap_or_default();
    match (arn_part(arn, 2), resource) {
        (Some("iam"), "root") => "Root",
        (Some("iam"), r) if r.starts_with("user/") => "IAMUser",
        (Some("iam"), r) if r.starts_with("role/") => "AssumedRole",
        (Some("sts"), r) if r.starts_with("assumed-role/") => "AssumedRole",
        (Some("sts"), r) if r.starts_with("federated-user/") => "FederatedUser",
        _ if arn.ends_with(".amazonaws.com") => "AWSService",
        _ => "Unknown",
    }
}

/// `principalId` as CloudTrail writes it: the unique id (`AIDA…`), the role's id and the session
/// name (`AROA…:name`), `account:name` for a federated user; the ARN when the id is unknown.
fn principal_id(arn: &str, unique: Option<&str>) -> String {
    let resource = arn_part(arn, 5).unwrap_or_default();
    let session = resource
        .strip_prefix("assumed-role/")
        .and_then(|r| r.split_once('/'))
        .map(|(_, s)| s);
    match (identity_type(arn), unique, session) {
        ("AssumedRole", Some(id), Some(s)) => format!("{id}:{s}"),
        ("FederatedUser", _, _) => format!(
            "{}:{}",
            arn_part(arn, 4).unwrap_or_default(),
            resource.trim_start_matches("federated-user/")
        ),
        (_, Some(id), _) => id.to_owned(),
        _ => arn.to_owned(),
    }
}

fn user_identity(rec: &DecisionRecord) -> Value {
    let Some(arn) = rec.principal.as_deref() else {
        return json!({ "type": "Unknown" });
    };
    let mut u = Map::new();
    u.insert("type".into(), identity_type(arn).into());
    u.insert(
        "principalId".into(),
        principal_id(arn, rec.principal_id.as_deref()).into(),
    );
    u.insert("arn".into(), arn.into());
    if let Some(a) = arn_part(arn, 4) {
        u.insert("accountId".into(), a.into());
    }
    if let Some(k) = &rec.access_key_id {
        u.insert("accessKeyId".into(), k.as_str().into());
    }
    if identity_type(arn) == "IAMUser" {
        if let Some(name) = arn_part(arn, 5).and_then(|r| r.rsplit('/').next()) {
            u.insert("userName".into(), name.into());
        }
    }
    if let Some(s) = &rec.session_context {
        let mut ctx = json!({
            "attributes": {
                "creationDate": s.creation_date,
                "mfaAuthenticated": if s.mfa_authenticated { "true" } else { "false" },
            }
        });
        if let Some(issuer) = &s.issuer {
            let kind = if issuer.contains(":role/") {
                "Role"
            } else {
                "IAMUser"
            };
            ctx["sessionIssuer"] = json!({
                "type": kind,
                "principalId": rec.principal_id.clone().unwrap_or_else(|| issuer.clone()),
                "arn": issuer,
                "accountId": arn_part(issuer, 4),
                "userName": arn_part(issuer, 5).and_then(|r| r.rsplit('/').next()),
            });
        }
        u.insert("sessionContext".into(), ctx);
    }
    Value::Object(u)
}

/// The AWS-style message of a denial.
fn error_message(rec: &DecisionRecord) -> String {
    let who = rec.principal.as_deref().unwrap_or("anonymous");
    let action = rec.action.as_deref().unwrap_or("(unmapped)");
    let resource = rec.resource.as_deref().unwrap_or("*");
    match rec.decision.as_str() {
        "ExplicitDeny" => format!(
            "User: {who} is not authorized to perform: {action} on resource: {resource} with an explicit deny in {}",
            rec.deciding_policy.as_deref().unwrap_or("a policy")
        ),
        "ImplicitDeny" => format!(
            "User: {who} is not authorized to perform: {action} on resource: {resource} because no policy allows the {action} action"
        ),
        _ => rec.reason.clone(),
    }
}

/// A decision as a CloudTrail record. Records of AWS APIs served by Iamlet (the IAM API) keep
/// their own management-event fields.
pub fn record(rec: &DecisionRecord) -> Value {
    let (source, name) = match &rec.management {
        Some(m) => (m.event_source.to_owned(), m.event_name.clone()),
        None => match rec.action.as_deref().and_then(|a| a.split_once(':')) {
            Some((service, name)) => (format!("{service}.amazonaws.com"), name.to_owned()),
            None => ("iamlet".to_owned(), "Unmapped".to_owned()),
        },
    };
    let event_time = chrono::DateTime::parse_from_rfc3339(&rec.event_time)
        .map(|t| {
            t.with_timezone(&chrono::Utc)
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        })
        .unwrap_or_else(|_| rec.event_time.clone());
    let mut e = Map::new();
    e.insert("eventVersion".into(), EVENT_VERSION.into());
    e.insert(
        "userIdentity".into(),
        match &rec.management {
            Some(m) => m.user_identity.clone(),
            None => user_identity(rec),
        },
    );
    e.insert("eventTime".into(), event_time.into());
    e.insert("eventSource".into(), source.into());
    e.insert("eventName".into(), name.into());
    if let Some(r) = &rec.region {
        e.insert("awsRegion".into(), r.as_str().into());
    }
    if let Some(ip) = &rec.source_ip_address {
        e.insert("sourceIPAddress".into(), ip.as_str().into());
    }
    if let Some(ua) = &rec.user_agent {
        e.insert("userAgent".into(), ua.as_str().into());
    }
    match &rec.management {
        Some(m) => {
            if let Some(c) = &m.error_code {
                e.insert("errorCode".into(), c.as_str().into());
            }
            if let Some(msg) = &m.error_message {
                e.insert("errorMessage".into(), msg.as_str().into());
            }
            e.insert("requestParameters".into(), m.request_parameters.clone());
        }
        None if rec.decision != "Allow" => {
            let code = rec
                .error_code
                .as_deref()
                .unwrap_or(match rec.decision.as_str() {
                    "Error" => "InternalFailure",
                    "BadRequest" => "ValidationException",
                    _ => "AccessDenied",
                });
            e.insert("errorCode".into(), code.into());
            e.insert("errorMessage".into(), error_message(rec).into());
            e.insert("requestParameters".into(), Value::Null);
        }
        None => {
            e.insert("requestParameters".into(), Value::Null);
        }
    }
    e.insert("responseElements".into(), Value::Null);
    e.insert("requestID".into(), rec.request_id.as_str().into());
    e.insert("eventID".into(), rec.decision_id.as_str().into());
    let read_only = rec
        .management
        .as_ref()
        .map(|m| m.read_only)
        .or(rec.read_only);
    if let Some(r) = read_only {
        e.insert("readOnly".into(), r.into());
    }
    if let Some(resource) = &rec.resource {
        let mut r = json!({ "ARN": resource });
        if let Some(a) = &rec.resource_account {
            r["accountId"] = a.as_str().into();
        }
        e.insert("resources".into(), json!([r]));
    }
    e.insert("eventType".into(), "AwsApiCall".into());
    e.insert("managementEvent".into(), rec.management.is_some().into());
    let recipient = rec
        .management
        .as_ref()
        .map(|m| m.recipient_account_id.clone())
        .or_else(|| rec.resource_account.clone())
        .or_else(|| {
            rec.principal
                .as_deref()
                .and_then(|p| arn_part(p, 4))
                .map(str::to_owned)
        });
    if let Some(a) = recipient {
        e.insert("recipientAccountId".into(), a.into());
    }
    let mut iamlet = json!({
        "decision": rec.decision,
        "allowed": rec.allowed,
        "enforced": rec.enforced,
        "reason": rec.reason,
        "protocol": rec.protocol,
        "engine": rec.engine,
        "action": rec.action,
        "resource": rec.resource,
        "principal": rec.principal,
        "httpMethod": rec.http_method,
        "httpPath": rec.http_path,
        "latencyMicros": rec.latency_micros,
    });
    for (k, v) in [
        ("decidingPolicy", &rec.deciding_policy),
        ("decidingStatement", &rec.deciding_statement),
        ("traceparent", &rec.traceparent),
        ("tracestate", &rec.tracestate),
        ("shadowDecision", &rec.shadow_decision),
    ] {
        if let Some(v) = v {
            iamlet[k] = v.as_str().into();
        }
    }
    e.insert("additionalEventData".into(), json!({ "iamlet": iamlet }));
    Value::Object(e)
}

/// Error codes CloudTrail records for calls refused by authorization (every other error code is
/// a call that was authorized and failed later).
fn denied(code: &str) -> bool {
    matches!(
        code,
        "AccessDenied"
            | "AccessDeniedException"
            | "UnauthorizedOperation"
            | "Client.UnauthorizedOperation"
            | "UnauthorizedAccess"
    )
}

/// A CloudTrail record (Iamlet's or AWS's) as a decision: Iamlet's own decision when it wrote one,
/// else `Allow` unless the error code is an authorization failure (`ImplicitDeny`: CloudTrail does
/// not say which kind). `None` when the object is no CloudTrail record.
pub fn decision_of(v: &Value) -> Option<Result<LoggedDecision, String>> {
    let o = v.as_object()?;
    if o.contains_key("decision") || !o.contains_key("eventSource") {
        return None;
    }
    let text = |k: &str| o.get(k).and_then(Value::as_str);
    let iamlet = v.pointer("/additionalEventData/iamlet");
    let iamlet_text = |k: &str| {
        iamlet
            .and_then(|i| i.get(k))
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    let Some(time) = text("eventTime") else {
        return Some(Err("a CloudTrail record without eventTime".into()));
    };
    let event_time = match chrono::DateTime::parse_from_rfc3339(time) {
        Ok(t) => t.with_timezone(&chrono::Utc),
        Err(e) => return Some(Err(format!("eventTime `{time}`: {e}"))),
    };
    let action = iamlet_text("action").or_else(|| {
        let source = text("eventSource")?;
        let service = source.strip_suffix(".amazonaws.com").unwrap_or(source);
        Some(format!("{service}:{}", text("eventName")?))
    });
    let resource = iamlet_text("resource").or_else(|| {
        v.pointer("/resources/0/ARN")
            .and_then(Value::as_str)
            .map(str::to_owned)
    });
    let decision = iamlet_text("decision").unwrap_or_else(|| match text("errorCode") {
        Some(c) if denied(c) => "ImplicitDeny".to_owned(),
        _ => "Allow".to_owned(),
    });
    Some(Ok(LoggedDecision {
        event_time,
        principal: v
            .pointer("/userIdentity/arn")
            .and_then(Value::as_str)
            .map(str::to_owned),
        access_key_id: v
            .pointer("/userIdentity/accessKeyId")
            .and_then(Value::as_str)
            .map(str::to_owned),
        action,
        resource,
        region: text("awsRegion").map(str::to_owned),
        decision,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SessionContext;

    fn decided(decision: &str) -> DecisionRecord {
        DecisionRecord {
            principal: Some("arn:aws:iam::111122223333:user/alice".into()),
            principal_id: Some("AIDAALICEEXAMPLE1111".into()),
            access_key_id: Some("AKIAEXAMPLE".into()),
            action: Some("s3:GetObject".into()),
            resource: Some("arn:aws:s3:::b/home/alice/k".into()),
            resource_account: Some("444455556666".into()),
            read_only: Some(true),
            region: Some("eu-west-1".into()),
            decision: decision.into(),
            allowed: decision == "Allow",
            deciding_policy: Some("user/alice:inline/s3-home".into()),
            deciding_statement: Some("Statement[0] (OwnHomeFolder)".into()),
            source_ip_address: Some("192.0.2.1".into()),
            user_agent: Some("aws-cli/2".into()),
            traceparent: Some("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01".into()),
            ..DecisionRecord::begin("req-1".into(), "grpc", "native", true)
        }
    }

    #[test]
    fn an_allow_is_an_api_call_with_iamlets_fields_aside() {
        let mut rec = decided("Allow");
        rec.decision_id = "dec-1".into();
        let e = record(&rec);
        assert_eq!(e["eventVersion"], "1.08");
        assert_eq!(e["eventSource"], "s3.amazonaws.com");
        assert_eq!(e["eventName"], "GetObject");
        assert_eq!(e["eventType"], "AwsApiCall");
        assert_eq!(e["awsRegion"], "eu-west-1");
        assert_eq!(e["sourceIPAddress"], "192.0.2.1");
        assert_eq!(e["userAgent"], "aws-cli/2");
        assert_eq!(e["requestID"], "req-1");
        assert_eq!(e["eventID"], "dec-1");
        assert_eq!(e["readOnly"], true);
        assert_eq!(e["recipientAccountId"], "444455556666");
        assert_eq!(e["resources"][0]["ARN"], "arn:aws:s3:::b/home/alice/k");
        let u = &e["userIdentity"];
        assert_eq!(u["type"], "IAMUser");
        assert_eq!(u["principalId"], "AIDAALICEEXAMPLE1111");
        assert_eq!(u["accountId"], "111122223333");
        assert_eq!(u["accessKeyId"], "AKIAEXAMPLE");
        assert_eq!(u["userName"], "alice");
        assert!(e.get("errorCode").is_none());
        let i = &e["additionalEventData"]["iamlet"];
        assert_eq!(i["decision"], "Allow");
        assert_eq!(i["decidingStatement"], "Statement[0] (OwnHomeFolder)");
        assert_eq!(
            i["traceparent"],
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
        );
        assert!(chrono::DateTime::parse_from_rfc3339(e["eventTime"].as_str().unwrap()).is_ok());
    }

    #[test]
    fn denials_carry_aws_error_codes_and_sessions_their_context() {
        let e = record(&decided("ImplicitDeny"));
        assert_eq!(e["errorCode"], "AccessDenied");
        assert!(e["errorMessage"]
            .as_str()
            .unwrap()
            .contains("is not authorized to perform: s3:GetObject"));
        let mut sig = decided("Unauthenticated");
        sig.error_code = Some("SignatureDoesNotMatch".into());
        assert_eq!(record(&sig)["errorCode"], "SignatureDoesNotMatch");
        let mut session = decided("Allow");
        session.principal = Some("arn:aws:sts::111122223333:assumed-role/ci/build-7".into());
        session.principal_id = Some("AROACIEXAMPLE".into());
        session.session_context = Some(SessionContext {
            issuer: Some("arn:aws:iam::111122223333:role/ci".into()),
            creation_date: "2026-01-01T00:00:00Z".into(),
            mfa_authenticated: true,
        });
        let u = record(&session)["userIdentity"].clone();
        assert_eq!(u["type"], "AssumedRole");
        assert_eq!(u["principalId"], "AROACIEXAMPLE:build-7");
        assert_eq!(u["sessionContext"]["sessionIssuer"]["type"], "Role");
        assert_eq!(u["sessionContext"]["sessionIssuer"]["userName"], "ci");
        assert_eq!(
            u["sessionContext"]["attributes"]["mfaAuthenticated"],
            "true"
        );
    }

    #[test]
    fn iam_api_calls_keep_their_management_fields() {
        let rec = DecisionRecord {
            principal: Some("arn:aws:iam::111122223333:root".into()),
            action: Some("iam:CreateUser".into()),
            decision: "Allow".into(),
            allowed: true,
            management: Some(crate::ManagementEvent {
                event_source: "iam.amazonaws.com",
                event_name: "CreateUser".into(),
                event_version: "1.08",
                event_type: "AwsApiCall",
                read_only: false,
                user_identity: json!({"type": "Root", "arn": "arn:aws:iam::111122223333:root"}),
                request_parameters: json!({"userName": "carol"}),
                error_code: None,
                error_message: None,
                recipient_account_id: "111122223333".into(),
            }),
            ..DecisionRecord::begin("req-2".into(), "iam", "native", true)
        };
        let e = record(&rec);
        assert_eq!(
            (e["eventSource"].as_str(), e["eventName"].as_str()),
            (Some("iam.amazonaws.com"), Some("CreateUser"))
        );
        assert_eq!(e["userIdentity"]["type"], "Root");
        assert_eq!(e["requestParameters"]["userName"], "carol");
        assert_eq!(e["readOnly"], false);
        assert_eq!(e["managementEvent"], true);
        let back = decision_of(&e).unwrap().unwrap();
        assert_eq!(back.action.as_deref(), Some("iam:CreateUser"));
        assert_eq!(back.decision, "Allow");
    }

    #[test]
    fn records_read_back_as_decisions() {
        let ours = decision_of(&record(&decided("ExplicitDeny")))
            .unwrap()
            .unwrap();
        assert_eq!(ours.decision, "ExplicitDeny");
        assert_eq!(ours.action.as_deref(), Some("s3:GetObject"));
        assert_eq!(
            ours.resource.as_deref(),
            Some("arn:aws:s3:::b/home/alice/k")
        );
        assert_eq!(
            ours.principal.as_deref(),
            Some("arn:aws:iam::111122223333:user/alice")
        );
        assert_eq!(ours.access_key_id.as_deref(), Some("AKIAEXAMPLE"));
        assert_eq!(ours.region.as_deref(), Some("eu-west-1"));
        // AWS's own records: an authorized call that failed is still an allow.
        let aws = json!({
            "eventVersion": "1.09", "eventTime": "2026-03-01T10:00:00Z",
            "eventSource": "ec2.amazonaws.com", "eventName": "DescribeInstances",
            "awsRegion": "us-east-1", "errorCode": "InvalidInstanceID.NotFound",
            "userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::111122223333:user/bob"}
        });
        let d = decision_of(&aws).unwrap().unwrap();
        assert_eq!(
            (d.decision.as_str(), d.action.as_deref()),
            ("Allow", Some("ec2:DescribeInstances"))
        );
        let refused = json!({"eventTime": "2026-03-01T10:00:00Z", "eventSource": "s3.amazonaws.com",
            "eventName": "GetObject", "errorCode": "AccessDenied"});
        assert_eq!(
            decision_of(&refused).unwrap().unwrap().decision,
            "ImplicitDeny"
        );
        // Iamlet's own format is not CloudTrail's.
        assert!(decision_of(&serde_json::to_value(decided("Allow")).unwrap()).is_none());
        assert!(decision_of(&json!({"eventSource": "s3.amazonaws.com"}))
            .unwrap()
            .is_err());
    }
}
