//! Warnings about condition values of the wrong shape for their operator (`eng` for `IpAddress`):
//! IAM accepts the policy (IAM Access Analyzer reports them as "Type mismatch" general warnings), and
//! the value matches no request value. And a suggestion for `Null` with a set operator, which makes
//! the condition constant (Access Analyzer's "Null with qualifier").

use super::doc::Doc;
use super::{finding, Finding, Severity};
use crate::condition::operator::{Family, Operator, SetQualifier};
use crate::condition::{expected_shape, family_name, value_fits};

pub(super) fn check(doc: &Doc, out: &mut Vec<Finding>) {
    let variables = doc.version.as_ref().is_some_and(|v| v.text == "2012-10-17");
    for s in &doc.statements {
        for c in &s.conditions {
            let Ok(op) = Operator::parse(&c.operator) else {
                continue; // the grammar errors report it
            };
            if op.family == Family::Null {
                if let Some(q) = op.qualifier {
                    let always = if q == SetQualifier::ForAllValues {
                        "always holds"
                    } else {
                        "never holds"
                    };
                    out.push(finding(
                        Severity::Suggestion,
                        "null_with_qualifier",
                        &c.key,
                        format!(
                            "`{}` {always}, whatever the request carries (`Null` tests whether the key is there, not its values)",
                            c.operator
                        ),
                        "use `Null` without `ForAllValues:`/`ForAnyValue:`".to_owned(),
                    ));
                }
            }
            if matches!(
                op.family,
                Family::StringEquals | Family::StringEqualsIgnoreCase | Family::StringLike
            ) {
                continue;
            }
            for v in c
                .values
                .iter()
                .filter(|v| !value_fits(op.family, &v.text, variables))
            {
                let effect = if op.negated {
                    format!(
                        ", and `{}` never holds while the key is in the request",
                        c.operator
                    )
                } else {
                    String::new()
                };
                out.push(finding(
                    Severity::Warning,
                    "invalid_condition_value",
                    v,
                    format!(
                        "`{}` is not {}, as the {} operator `{}` expects: IAM accepts the policy, but the value matches no request value{effect}",
                        v.text,
                        expected_shape(op.family),
                        family_name(op.family),
                        c.operator
                    ),
                    format!(
                        "write {}, or compare the key with a string operator",
                        expected_shape(op.family)
                    ),
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::tests::{codes, find};
    use crate::lint::Severity;
    use crate::PolicyType::Identity;

    fn with_condition(op: &str, key: &str, values: &str) -> String {
        format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*","Condition":{{"{op}":{{"{key}":{values}}}}}}}]}}"#
        )
    }

    #[test]
    fn values_of_the_wrong_shape_are_warnings_at_their_path() {
        let f = find(
            &with_condition("IpAddress", "aws:SourceIp", r#"["203.0.113.0/24","eng"]"#),
            Identity,
            "invalid_condition_value",
        );
        let f = f.map(|f| (f.severity, f.path, f.message));
        assert_eq!(
            f.as_ref().map(|f| (f.0, f.1.as_str())),
            Some((
                Severity::Warning,
                "Statement[0].Condition.IpAddress.aws:SourceIp[1]"
            ))
        );
        assert!(
            f.is_some_and(
                |f| f.2.starts_with("`eng` is not an IP address or CIDR block")
                    && f.2.contains("IP address operator `IpAddress`")
            ),
            "message"
        );
        for (op, key, value) in [
            ("NumericLessThan", "s3:max-keys", r#""ten""#),
            ("DateGreaterThan", "aws:CurrentTime", r#""soon""#),
            ("Bool", "aws:SecureTransport", r#""yes""#),
            ("ArnLike", "aws:SourceArn", r#""eng""#),
            ("BinaryEquals", "aws:SourceArn", r#""***""#),
            ("Null", "aws:TokenIssueTime", r#"["true","maybe"]"#),
        ] {
            let c = codes(&with_condition(op, key, value), Identity);
            assert!(
                c.contains(&"invalid_condition_value".to_owned()),
                "{op}: {c:?}"
            );
        }
        let not = find(
            &with_condition("NumericNotEquals", "s3:max-keys", r#""ten""#),
            Identity,
            "invalid_condition_value",
        );
        assert!(not.is_some_and(|f| f.message.contains("`NumericNotEquals` never holds")));
        let null = find(
            &with_condition("ForAllValues:Null", "aws:TagKeys", r#""false""#),
            Identity,
            "null_with_qualifier",
        );
        assert!(null.is_some_and(
            |f| f.severity == Severity::Suggestion && f.message.contains("always holds")
        ));
        // Values of the right shape, policy variables where the operator takes them, and every
        // string: no finding.
        for (op, key, value) in [
            (
                "IpAddress",
                "aws:SourceIp",
                r#"["203.0.113.5","2001:db8::/32"]"#,
            ),
            ("NumericLessThan", "s3:max-keys", "10"),
            ("DateLessThan", "aws:CurrentTime", r#""2026-01-01""#),
            ("Bool", "aws:SecureTransport", "true"),
            (
                "Bool",
                "aws:SecureTransport",
                r#""${aws:PrincipalTag/tls}""#,
            ),
            (
                "ArnLike",
                "aws:SourceArn",
                r#""arn:aws:sns:*:111122223333:*""#,
            ),
            ("ArnEquals", "aws:SourceArn", r#""${aws:PrincipalArn}""#),
            ("Null", "aws:TokenIssueTime", r#"["true","false"]"#),
            ("StringEquals", "aws:SourceIp", r#""eng""#),
        ] {
            let c = codes(&with_condition(op, key, value), Identity);
            assert!(
                !c.contains(&"invalid_condition_value".to_owned()),
                "{op} {value}: {c:?}"
            );
        }
    }
}
