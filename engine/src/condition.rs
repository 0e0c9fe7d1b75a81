//! The `Condition` element: operators, their typed values, and AWS's evaluation rules.
//!
//! Within a block, every operator and every key must hold (AND); the values listed for one key are
//! alternatives (OR), and for a negated operator none of them may match. A key absent from the
//! request makes a condition false, except for negated operators (true), `…IfExists` (true),
//! `ForAllValues:` (true) and `Null`. A request value the operator cannot read (a non-IP for
//! `IpAddress`) makes the condition false, whatever the operator.

mod arn;
mod binary;
mod bool;
mod date;
mod ip;
mod numeric;
pub(crate) mod operator;
mod string;

use crate::context::Context;
use chrono::{DateTime, Utc};
use ipnet::IpNet;
use operator::{Family, Operator, SetQualifier};

/// One operator applied to one key.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Condition {
    pub(crate) operator_name: String,
    pub(crate) op: Operator,
    pub(crate) key_name: String,
    /// Lower-cased: condition key names are case-insensitive.
    pub(crate) key: String,
    /// The policy's values as written, for explanations.
    pub(crate) raw_values: Vec<String>,
    values: Values,
}

#[derive(Clone, Debug, PartialEq)]
enum Values {
    Str(Vec<string::StrValue>),
    Numeric(Vec<f64>),
    Date(Vec<DateTime<Utc>>),
    Bool(Vec<bool>),
    Binary(Vec<Vec<u8>>),
    Ip(Vec<IpNet>),
    Arn(Vec<arn::ArnValue>),
    /// `true`: the key must be absent; `false`: present.
    Null(bool),
}

/// A problem with one value of a condition (index into the values) or with the whole condition.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ValueError {
    pub(crate) index: Option<usize>,
    pub(crate) message: String,
}

/// Why a condition is false.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Miss {
    /// The key is not in the request.
    Missing,
    /// The request's values do not satisfy the operator.
    NoMatch,
    /// A request value is not of the operator's type.
    Malformed {
        value: String,
        expected: &'static str,
    },
}

impl Condition {
    /// Builds a condition from its operator name, key and values as written.
    /// `variables` is whether policy variables are substituted (`Version` 2012-10-17).
    pub(crate) fn build(
        operator_name: &str,
        key_name: &str,
        raw_values: Vec<String>,
        variables: bool,
    ) -> Result<Condition, Vec<ValueError>> {
        let op = Operator::parse(operator_name).map_err(|e| {
            vec![ValueError {
                index: None,
                message: e.message,
            }]
        })?;
        let mut errors = Vec::new();
        let mut typed = |expected: &str, ok: bool, i: usize, v: &str| {
            if !ok {
                errors.push(ValueError {
                    index: Some(i),
                    message: format!("`{v}` is not {expected}, as `{operator_name}` requires"),
                });
            }
        };
        let values = match op.family {
            Family::StringEquals | Family::StringEqualsIgnoreCase | Family::StringLike => {
                Values::Str(
                    raw_values
                        .iter()
                        .map(|v| string::parse(op.family, v, variables))
                        .collect(),
                )
            }
            Family::Numeric(_) => Values::Numeric(
                raw_values
                    .iter()
                    .enumerate()
                    .filter_map(|(i, v)| {
                        let n = numeric::parse(v);
                        typed("a number", n.is_some(), i, v);
                        n
                    })
                    .collect(),
            ),
            Family::Date(_) => Values::Date(
                raw_values
                    .iter()
                    .enumerate()
                    .filter_map(|(i, v)| {
                        let d = date::parse(v);
                        typed("a date (ISO 8601 or epoch seconds)", d.is_some(), i, v);
                        d
                    })
                    .collect(),
            ),
            Family::Bool => Values::Bool(
                raw_values
                    .iter()
                    .enumerate()
                    .filter_map(|(i, v)| {
                        let b = bool::parse(v);
                        typed("`true` or `false`", b.is_some(), i, v);
                        b
                    })
                    .collect(),
            ),
            Family::Binary => Values::Binary(
                raw_values
                    .iter()
                    .enumerate()
                    .filter_map(|(i, v)| {
                        let b = binary::parse(v);
                        typed("base64", b.is_some(), i, v);
                        b
                    })
                    .collect(),
            ),
            Family::Ip => Values::Ip(
                raw_values
                    .iter()
                    .enumerate()
                    .filter_map(|(i, v)| {
                        let n = ip::parse_net(v);
                        typed("an IP address or CIDR block", n.is_some(), i, v);
                        n
                    })
                    .collect(),
            ),
            Family::Arn => Values::Arn(
                raw_values
                    .iter()
                    .map(|v| arn::parse(v, variables))
                    .collect(),
            ),
            Family::Null => {
                let parsed: Vec<bool> = raw_values
                    .iter()
                    .enumerate()
                    .filter_map(|(i, v)| {
                        let b = bool::parse(v);
                        typed("`true` or `false`", b.is_some(), i, v);
                        b
                    })
                    .collect();
                match parsed.as_slice() {
                    [b] => Values::Null(*b),
                    [] if !errors.is_empty() => Values::Null(true),
                    _ => {
                        errors.push(ValueError {
                            index: None,
                            message: "`Null` takes exactly one value, `true` or `false`".into(),
                        });
                        Values::Null(true)
                    }
                }
            }
        };
        if raw_values.is_empty() && errors.is_empty() {
            errors.push(ValueError {
                index: None,
                message: format!("`{operator_name}` on `{key_name}` has no values"),
            });
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(Condition {
            operator_name: operator_name.to_owned(),
            op,
            key_name: key_name.to_owned(),
            key: key_name.to_lowercase(),
            raw_values,
            values,
        })
    }

    /// The policy variables the condition's values use.
    pub(crate) fn variables(&self) -> Vec<&str> {
        match &self.values {
            Values::Str(vs) => vs
                .iter()
                .filter_map(|v| match v {
                    string::StrValue::Template(t) => Some(t),
                    _ => None,
                })
                .flat_map(|t| t.variables())
                .collect(),
            Values::Arn(vs) => vs
                .iter()
                .filter_map(|v| match v {
                    arn::ArnValue::Template(t) => Some(t),
                    _ => None,
                })
                .flat_map(|t| t.variables())
                .collect(),
            _ => Vec::new(),
        }
    }

    /// Whether the condition holds for the request.
    pub(crate) fn evaluate(&self, ctx: &Context<'_>) -> Result<(), Miss> {
        let given = ctx.get(&self.key);
        let mut request: &[String] = given.map(|v| v.values()).unwrap_or(&[]);
        let op = self.op;
        // For the set operators, a key whose only value is an empty string is a null data set.
        if op.qualifier.is_some() && matches!(request, [only] if only.is_empty()) {
            request = &[];
        }
        if let Values::Null(want_absent) = self.values {
            let absent = request.is_empty();
            return if absent == want_absent {
                Ok(())
            } else if absent {
                Err(Miss::Missing)
            } else {
                Err(Miss::NoMatch)
            };
        }
        if request.is_empty() {
            let holds = match op.qualifier {
                None => op.if_exists || op.negated,
                Some(SetQualifier::ForAnyValue) => op.if_exists,
                Some(SetQualifier::ForAllValues) => true,
            };
            return if holds { Ok(()) } else { Err(Miss::Missing) };
        }
        // Every request value is read (a malformed one makes the condition false whatever the
        // others are), then the operator decides on whether some matched and some did not.
        let (mut some_match, mut some_miss) = (false, false);
        for v in request {
            if self.any_value_matches(v, ctx)? {
                some_match = true;
            } else {
                some_miss = true;
            }
        }
        let holds = match (op.qualifier, op.negated) {
            (None, false) | (Some(SetQualifier::ForAnyValue), false) => some_match,
            (None, true) => !some_match,
            (Some(SetQualifier::ForAnyValue), true) => some_miss,
            (Some(SetQualifier::ForAllValues), false) => !some_miss,
            (Some(SetQualifier::ForAllValues), true) => !some_match,
        };
        if holds {
            Ok(())
        } else {
            Err(Miss::NoMatch)
        }
    }

    /// Whether one request value matches any of the policy's values (before negation).
    fn any_value_matches(&self, v: &str, ctx: &Context<'_>) -> Result<bool, Miss> {
        let malformed = |expected| Miss::Malformed {
            value: v.to_owned(),
            expected,
        };
        Ok(match &self.values {
            Values::Str(vs) => vs
                .iter()
                .any(|p| string::matches(self.op.family, p, v, ctx) == Some(true)),
            Values::Numeric(ns) => {
                let Family::Numeric(cmp) = self.op.family else {
                    return Ok(false);
                };
                let r = numeric::parse(v).ok_or_else(|| malformed("a number"))?;
                ns.iter().any(|p| numeric::matches(cmp, *p, r))
            }
            Values::Date(ds) => {
                let Family::Date(cmp) = self.op.family else {
                    return Ok(false);
                };
                let r = date::parse(v).ok_or_else(|| malformed("a date"))?;
                ds.iter().any(|p| cmp.holds(r.cmp(p)))
            }
            Values::Bool(bs) => {
                let r = bool::parse(v).ok_or_else(|| malformed("`true` or `false`"))?;
                bs.contains(&r)
            }
            Values::Binary(bs) => {
                let r = binary::parse(v).ok_or_else(|| malformed("base64"))?;
                bs.contains(&r)
            }
            Values::Ip(nets) => {
                let r = ip::parse_addr(v).ok_or_else(|| malformed("an IP address"))?;
                nets.iter().any(|n| ip::contains(n, &r))
            }
            Values::Arn(ps) => ps.iter().any(|p| arn::matches(p, v, ctx) == Some(true)),
            Values::Null(_) => false,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::{ContextMap, ContextValue};

    fn cond(op: &str, key: &str, vals: &[&str]) -> Condition {
        Condition::build(op, key, vals.iter().map(|s| s.to_string()).collect(), true).unwrap()
    }

    fn eval(c: &Condition, ctx: &[(&str, ContextValue)]) -> bool {
        let mut m = ContextMap::new();
        for (k, v) in ctx {
            m.insert(k, v.clone());
        }
        c.evaluate(&Context::new(&m, &[])).is_ok()
    }

    #[test]
    fn string_family() {
        let c = cond("StringEquals", "aws:PrincipalTag/team", &["red", "blue"]);
        assert!(eval(&c, &[("aws:principaltag/TEAM", "blue".into())]));
        assert!(!eval(&c, &[("aws:PrincipalTag/team", "Blue".into())]));
        assert!(!eval(&c, &[]));
        let c = cond("StringNotEquals", "k", &["a", "b"]);
        assert!(eval(&c, &[("k", "c".into())]));
        assert!(!eval(&c, &[("k", "b".into())]));
        assert!(eval(&c, &[]), "negated operator with a missing key is true");
        let c = cond("StringEqualsIgnoreCase", "k", &["ABC"]);
        assert!(eval(&c, &[("k", "abc".into())]));
        let c = cond("StringLike", "s3:prefix", &["home/${aws:username}/*"]);
        assert!(eval(
            &c,
            &[
                ("s3:prefix", "home/bob/x".into()),
                ("aws:username", "bob".into())
            ]
        ));
        assert!(!eval(&c, &[("s3:prefix", "home/bob/x".into())]));
        let c = cond("StringEqualsIfExists", "k", &["a"]);
        assert!(eval(&c, &[]));
        assert!(!eval(&c, &[("k", "b".into())]));
    }

    #[test]
    fn set_operators() {
        let tags = |v: Vec<&str>| ContextValue::from(v);
        let all = cond("ForAllValues:StringEquals", "aws:TagKeys", &["a", "b"]);
        assert!(eval(&all, &[("aws:TagKeys", tags(vec!["a"]))]));
        assert!(!eval(&all, &[("aws:TagKeys", tags(vec!["a", "c"]))]));
        assert!(eval(&all, &[]), "ForAllValues with a missing key is true");
        assert!(eval(&all, &[("aws:TagKeys", tags(vec![]))]));
        assert!(
            eval(&all, &[("aws:TagKeys", "".into())]),
            "an empty string is a null data set"
        );
        let any = cond("ForAnyValue:StringEquals", "aws:TagKeys", &["a"]);
        assert!(eval(&any, &[("aws:TagKeys", tags(vec!["c", "a"]))]));
        assert!(!eval(&any, &[("aws:TagKeys", tags(vec!["c"]))]));
        assert!(!eval(&any, &[]));
        let any_not = cond("ForAnyValue:StringNotEquals", "aws:TagKeys", &["a"]);
        assert!(eval(&any_not, &[("aws:TagKeys", tags(vec!["a", "b"]))]));
        assert!(!eval(&any_not, &[("aws:TagKeys", tags(vec!["a"]))]));
        let all_not = cond("ForAllValues:StringNotLike", "aws:TagKeys", &["x*"]);
        assert!(eval(&all_not, &[("aws:TagKeys", tags(vec!["a", "b"]))]));
        assert!(!eval(&all_not, &[("aws:TagKeys", tags(vec!["a", "xb"]))]));
    }

    #[test]
    fn typed_families() {
        let c = cond("NumericLessThanEquals", "s3:max-keys", &["10"]);
        assert!(eval(&c, &[("s3:max-keys", "10".into())]));
        assert!(!eval(&c, &[("s3:max-keys", "11".into())]));
        assert!(!eval(&c, &[("s3:max-keys", "ten".into())]));
        let c = cond("DateLessThan", "aws:CurrentTime", &["2020-01-01T00:00:00Z"]);
        assert!(eval(
            &c,
            &[("aws:CurrentTime", "2019-12-31T23:59:59Z".into())]
        ));
        assert!(!eval(&c, &[("aws:CurrentTime", "1577836800".into())]));
        let c = cond("Bool", "aws:SecureTransport", &["true"]);
        assert!(eval(&c, &[("aws:SecureTransport", true.into())]));
        assert!(!eval(&c, &[("aws:SecureTransport", "false".into())]));
        let c = cond("BinaryEquals", "k", &["QmluYXJ5VmFsdWVJbkJhc2U2NA=="]);
        assert!(eval(&c, &[("k", "QmluYXJ5VmFsdWVJbkJhc2U2NA==".into())]));
        let c = cond(
            "NotIpAddress",
            "aws:SourceIp",
            &["203.0.113.0/24", "2001:db8::/32"],
        );
        assert!(eval(&c, &[("aws:SourceIp", "198.51.100.1".into())]));
        assert!(!eval(&c, &[("aws:SourceIp", "2001:db8::1".into())]));
        assert!(
            !eval(&c, &[("aws:SourceIp", "bogus".into())]),
            "malformed is false"
        );
        let c = cond(
            "ArnLike",
            "aws:SourceArn",
            &["arn:aws:sns:*:111122223333:*"],
        );
        assert!(eval(
            &c,
            &[(
                "aws:SourceArn",
                "arn:aws:sns:us-east-1:111122223333:t".into()
            )]
        ));
        let c = cond("Null", "aws:TokenIssueTime", &["true"]);
        assert!(eval(&c, &[]));
        assert!(!eval(&c, &[("aws:TokenIssueTime", "x".into())]));
    }

    #[test]
    fn bad_values_are_errors() {
        assert!(Condition::build("NumericEquals", "k", vec!["x".into()], true).is_err());
        assert!(Condition::build("IpAddress", "k", vec!["300.1.1.1".into()], true).is_err());
        assert!(Condition::build("DateEquals", "k", vec!["soon".into()], true).is_err());
        assert!(Condition::build("Bool", "k", vec!["yes".into()], true).is_err());
        assert!(Condition::build("Null", "k", vec!["true".into(), "false".into()], true).is_err());
        assert!(Condition::build("StringEquals", "k", vec![], true).is_err());
        assert!(Condition::build("Foo", "k", vec!["a".into()], true).is_err());
    }
}
