//! Errors and warnings that need the catalog: actions and condition keys it does not know, and
//! condition operators that cannot work on a key's type.

use super::doc::{Doc, Text};
use super::{finding, Finding, Severity};
use crate::catalog::{Catalog, KeyType};
use crate::condition::operator::{Family, Operator, SetQualifier};

pub(super) fn check(doc: &Doc, catalog: &Catalog, out: &mut Vec<Finding>) {
    for s in &doc.statements {
        if let Some(actions) = &s.action {
            for a in &actions.items {
                action(a, catalog, out);
            }
        }
        for c in &s.conditions {
            condition(&c.operator, &c.key, catalog, out);
        }
    }
}

fn action(a: &Text, catalog: &Catalog, out: &mut Vec<Finding>) {
    if a.text == "*" {
        return;
    }
    let Some((prefix, name)) = a.text.split_once(':') else {
        return; // the grammar errors report it
    };
    if prefix.contains(['*', '?']) {
        return;
    }
    let Some(service) = catalog.service(prefix) else {
        out.push(finding(
            Severity::Error,
            "unknown_service",
            a,
            format!("the service prefix `{prefix}` is not an AWS service"),
            "use a service prefix from the Service Authorization Reference".to_owned(),
        ));
        return;
    };
    if catalog.expand(&a.text).is_empty() {
        let lower = name.to_ascii_lowercase();
        let near = service
            .actions()
            .iter()
            .find(|x| {
                let n = x.name().to_ascii_lowercase();
                n.starts_with(lower.trim_end_matches(['*', '?']))
                    || lower.starts_with(&n)
                    || n.contains(&lower)
            })
            .map(|x| format!("; did you mean `{}:{}`?", service.prefix(), x.name()))
            .unwrap_or_default();
        let what = if name.contains(['*', '?']) {
            "matches no action of"
        } else {
            "is not an action of"
        };
        out.push(finding(
            Severity::Error,
            "unknown_action",
            a,
            format!("`{}` {what} `{}`{near}", a.text, service.prefix()),
            format!(
                "use an action `{}` has (the statement never applies to this one)",
                service.prefix()
            ),
        ));
    }
}

fn condition(operator: &str, key: &Text, catalog: &Catalog, out: &mut Vec<Finding>) {
    let Ok(op) = Operator::parse(operator) else {
        return; // the grammar errors report it
    };
    let Some((prefix, _)) = key.text.split_once(':') else {
        return;
    };
    let known_prefix = prefix.eq_ignore_ascii_case("aws") || catalog.service(prefix).is_some();
    let Some(k) = catalog.condition_key(&key.text) else {
        if known_prefix {
            out.push(finding(
                Severity::Error,
                "unknown_condition_key",
                key,
                format!("`{}` is not a condition key of `{prefix}`", key.text),
                "use a key the service documents, or a global `aws:` key; an unknown key is absent from every request".to_owned(),
            ));
        }
        return;
    };
    let t = k.key_type();
    let fits = |ok: &[KeyType]| ok.contains(&t);
    use KeyType as T;
    let (compatible, hard) = match op.family {
        Family::StringEquals | Family::StringEqualsIgnoreCase | Family::StringLike => (
            fits(&[T::String, T::ArrayOfString, T::Arn, T::ArrayOfArn]),
            false,
        ),
        Family::Arn => (
            fits(&[T::Arn, T::ArrayOfArn, T::String, T::ArrayOfString]),
            true,
        ),
        Family::Numeric(_) => (fits(&[T::Numeric, T::DateOrNumeric]), true),
        Family::Date(_) => (fits(&[T::Date, T::DateOrNumeric]), true),
        Family::Bool => (fits(&[T::Bool, T::ArrayOfBool]), true),
        Family::Ip => (fits(&[T::IpAddress]), true),
        Family::Binary | Family::Null => (true, false),
    };
    if !compatible {
        let (severity, code) = if hard {
            (Severity::Error, "type_mismatch")
        } else {
            (Severity::Warning, "string_operator_on_typed_key")
        };
        out.push(finding(
            severity,
            code,
            key,
            format!(
                "`{operator}` on `{}`, a key of type {}",
                k.name(),
                t.label()
            ),
            format!("use an operator for {} values", t.label()),
        ));
    }
    if op.qualifier.is_none() && t.is_multivalued() && op.family != Family::Null {
        out.push(finding(
            Severity::Error,
            "missing_set_operator",
            key,
            format!(
                "`{operator}` on `{}`, a multivalued key: without `ForAnyValue:` or `ForAllValues:` the condition does not hold when the request carries the key",
                k.name()
            ),
            format!(
                "write `ForAnyValue:{operator}` (some value of the request matches) or `ForAllValues:{operator}` (every value does)"
            ),
        ));
    }
    if op.qualifier.is_some() && !t.is_multivalued() && op.family != Family::Null {
        let severity = if op.qualifier == Some(SetQualifier::ForAllValues) {
            Severity::SecurityWarning
        } else {
            Severity::Warning
        };
        out.push(finding(
            severity,
            "set_operator_on_single_valued_key",
            key,
            format!(
                "`{operator}` on `{}`, a single-valued key{}",
                k.name(),
                if severity == Severity::SecurityWarning {
                    ": `ForAllValues` is also true when the key is absent"
                } else {
                    ""
                }
            ),
            "drop the `ForAllValues:`/`ForAnyValue:` qualifier".to_owned(),
        ));
    }
}

#[cfg(all(test, feature = "catalog"))]
mod tests {
    use crate::lint::tests::{codes, find};
    use crate::lint::Severity;
    use crate::PolicyType::Identity;

    fn with_action(a: &str) -> String {
        format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"{a}","Resource":"arn:aws:s3:::b/*"}}]}}"#
        )
    }
    fn with_condition(op: &str, key: &str, value: &str) -> String {
        format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*","Condition":{{"{op}":{{"{key}":"{value}"}}}}}}]}}"#
        )
    }

    #[test]
    fn unknown_actions_and_services() {
        let f = find(&with_action("s3:GetObjekt"), Identity, "unknown_action");
        assert_eq!(
            f.as_ref().map(|f| f.path.as_str()),
            Some("Statement[0].Action")
        );
        assert!(
            f.is_some_and(|f| f.message.contains("is not an action of `s3`")),
            "message"
        );
        assert_eq!(
            codes(&with_action("s3:getobject"), Identity),
            Vec::<String>::new()
        );
        assert_eq!(
            codes(&with_action("s3:Get*"), Identity),
            Vec::<String>::new()
        );
        assert_eq!(
            codes(&with_action("s3:Frob*"), Identity),
            vec!["unknown_action"]
        );
        assert_eq!(
            codes(&with_action("s4:GetObject"), Identity),
            vec!["unknown_service"]
        );
        assert_eq!(
            codes(&with_action("GetObject"), Identity),
            vec!["invalid_value"]
        );
    }

    #[test]
    fn unknown_condition_keys() {
        let ok = with_condition("StringEquals", "s3:x-amz-acl", "private");
        assert_eq!(codes(&ok, Identity), Vec::<String>::new());
        let tag = with_condition("StringEquals", "aws:PrincipalTag/team", "red");
        assert_eq!(codes(&tag, Identity), Vec::<String>::new());
        let bad = with_condition("StringEquals", "s3:x-amz-acll", "private");
        assert_eq!(codes(&bad, Identity), vec!["unknown_condition_key"]);
        let global = with_condition("StringEquals", "aws:SourceIpp", "x");
        assert_eq!(codes(&global, Identity), vec!["unknown_condition_key"]);
        // Keys of identity providers (`saml:`, `accounts.google.com:`) are not checked.
        let idp = with_condition("StringEquals", "saml:aud", "x");
        assert_eq!(codes(&idp, Identity), Vec::<String>::new());
    }

    #[test]
    fn operator_and_key_types() {
        let ip = with_condition("NumericLessThan", "aws:SourceIp", "3");
        let f = find(&ip, Identity, "type_mismatch");
        assert_eq!(f.as_ref().map(|f| f.severity), Some(Severity::Error));
        assert_eq!(
            f.map(|f| f.path),
            Some("Statement[0].Condition.NumericLessThan.aws:SourceIp".to_owned())
        );
        let s = with_condition("StringEquals", "aws:SecureTransport", "true");
        assert_eq!(codes(&s, Identity), vec!["string_operator_on_typed_key"]);
        let epoch = with_condition("NumericGreaterThan", "aws:EpochTime", "1");
        assert_eq!(codes(&epoch, Identity), Vec::<String>::new());
        let set = with_condition(
            "ForAllValues:StringEquals",
            "aws:RequestedRegion",
            "eu-west-1",
        );
        let f = find(&set, Identity, "set_operator_on_single_valued_key");
        assert_eq!(f.map(|f| f.severity), Some(Severity::SecurityWarning));
        let multi = with_condition("ForAllValues:StringEquals", "aws:TagKeys", "team");
        assert_eq!(codes(&multi, Identity), Vec::<String>::new());
        let plain = with_condition("StringEquals", "aws:TagKeys", "team");
        let f = find(&plain, Identity, "missing_set_operator");
        assert_eq!(f.as_ref().map(|f| f.severity), Some(Severity::Error));
        assert_eq!(
            f.map(|f| f.path),
            Some("Statement[0].Condition.StringEquals.aws:TagKeys".to_owned())
        );
        let null = with_condition("Null", "aws:TagKeys", "false");
        assert_eq!(codes(&null, Identity), Vec::<String>::new());
    }
}
