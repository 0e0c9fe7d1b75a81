//! The CloudTrail management event of a call: `eventSource: iam.amazonaws.com`, `eventName`,
//! `userIdentity`, `requestParameters` (secrets replaced as CloudTrail replaces them) and the error.

use crate::action::Action;
use crate::ctx::Authenticated;
use crate::IamApi;
use iamlet_auth::Caller;
use iamlet_decision_log::ManagementEvent;
use iamlet_iam_store::IamError;
use iamlet_query::{lower_first, Params};
use serde_json::{json, Map, Value};

/// Parameters whose values never reach the log.
const SECRET_PARAMETERS: &[&str] = &[
    "Password",
    "OldPassword",
    "NewPassword",
    "AuthenticationCode1",
    "AuthenticationCode2",
];

/// What CloudTrail writes in their place.
const HIDDEN: &str = "HIDDEN_DUE_TO_SECURITY_REASONS";

/// The event, filled in as the call goes.
#[derive(Debug)]
pub(crate) struct Audit {
    pub(crate) action: Option<Action>,
    account: String,
    parameters: Value,
    identity: Value,
}

impl Audit {
    pub(crate) fn new(account: &str) -> Audit {
        Audit {
            action: None,
            account: account.to_owned(),
            parameters: Value::Null,
            identity: json!({}),
        }
    }

    /// The call's parameters as CloudTrail writes them: camelCase names, `X.member.N` as lists,
    /// secrets hidden; `Action` and `Version` are the event's own fields.
    pub(crate) fn parameters(&mut self, params: &Params) {
        let mut root = Map::new();
        let mut pairs: Vec<(&str, &str)> = params
            .iter()
            .filter(|(k, _)| !matches!(*k, "Action" | "Version"))
            .collect();
        pairs.sort_unstable();
        for (k, v) in pairs {
            let hidden = SECRET_PARAMETERS.iter().any(|s| s.eq_ignore_ascii_case(k));
            let value = Value::String(if hidden {
                HIDDEN.to_owned()
            } else {
                v.to_owned()
            });
            insert(&mut root, &k.split('.').collect::<Vec<_>>(), value);
        }
        self.parameters = if root.is_empty() {
            Value::Null
        } else {
            Value::Object(root)
        };
    }

    /// Who called, as CloudTrail's `userIdentity` says it.
    pub(crate) async fn user_identity(&mut self, api: &IamApi, who: &Authenticated) {
        let arn = &who.identity.principal;
        let principal_id = api.store.resolve(arn, None).await.ok().and_then(|r| {
            r.principal_context(arn).ok().and_then(|c| {
                c.get("aws:userid")
                    .and_then(|v| v.values().first().cloned())
            })
        });
        let (kind, name) = match &who.caller {
            Caller::User(a) if a.ends_with(":root") => ("Root", None),
            Caller::User(a) => ("IAMUser", a.rsplit('/').next().map(str::to_owned)),
            Caller::Session(s) if s.session.role_arn.is_some() => ("AssumedRole", None),
            Caller::Session(s) => (
                "IAMUser",
                s.session
                    .user_arn
                    .as_deref()
                    .and_then(|a| a.rsplit('/').next())
                    .map(str::to_owned),
            ),
        };
        let mut v = json!({
            "type": kind,
            "arn": arn,
            "accountId": self.account,
            "accessKeyId": who.access_key_id,
        });
        // The root user's principal id is the account's id, as CloudTrail writes it.
        if let Some(id) = principal_id.or_else(|| (kind == "Root").then(|| self.account.clone())) {
            v["principalId"] = Value::String(id);
        }
        if let Some(n) = name {
            v["userName"] = Value::String(n);
        }
        self.identity = v;
    }

    /// The finished event.
    pub(crate) fn event(self, error: Option<&IamError>) -> ManagementEvent {
        ManagementEvent {
            event_source: "iam.amazonaws.com",
            event_name: self
                .action
                .map_or_else(String::new, |a| a.as_str().to_owned()),
            event_version: "1.08",
            event_type: "AwsApiCall",
            read_only: self.action.is_some_and(Action::read_only),
            user_identity: self.identity,
            request_parameters: self.parameters,
            error_code: error.map(|e| e.code.as_str().to_owned()),
            error_message: error.map(|e| e.message.clone()),
            recipient_account_id: self.account,
        }
    }
}

/// Puts a value at a parameter's path: `Tags.member.2.Key` → `tags[1].key`.
fn insert(map: &mut Map<String, Value>, path: &[&str], value: Value) {
    let Some((first, rest)) = path.split_first() else {
        return;
    };
    let key = lower_first(first);
    if rest.is_empty() {
        map.insert(key, value);
        return;
    }
    if let (Some(&"member"), Some(index)) = (rest.first(), rest.get(1)) {
        let Ok(i) = index.parse::<usize>() else {
            return;
        };
        let Some(i) = i.checked_sub(1).filter(|i| *i < 1000) else {
            return;
        };
        let list = map.entry(key).or_insert_with(|| Value::Array(Vec::new()));
        let Value::Array(items) = list else { return };
        while items.len() <= i {
            items.push(Value::Null);
        }
        let tail = rest.get(2..).unwrap_or_default();
        if tail.is_empty() {
            items[i] = value;
        } else {
            if !items[i].is_object() {
                items[i] = Value::Object(Map::new());
            }
            if let Value::Object(m) = &mut items[i] {
                insert(m, tail, value);
            }
        }
        return;
    }
    let entry = map.entry(key).or_insert_with(|| Value::Object(Map::new()));
    if let Value::Object(m) = entry {
        insert(m, rest, value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_as_cloudtrail_writes_them() {
        let p = Params::parse(
            "",
            b"Action=CreateLoginProfile&Version=2010-05-08&UserName=bob&Password=hunter2%21X\
              &Tags.member.1.Key=team&Tags.member.1.Value=a&Tags.member.2.Key=cost&Tags.member.2.Value=b",
        );
        let mut a = Audit::new("111122223333");
        a.parameters(&p);
        assert_eq!(
            a.parameters,
            json!({
                "userName": "bob",
                "password": HIDDEN,
                "tags": [{"key": "team", "value": "a"}, {"key": "cost", "value": "b"}],
            })
        );
        assert!(!a.parameters.to_string().contains("hunter2"));
    }
}
