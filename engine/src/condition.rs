//! The `Condition` element: operators, their typed values, and AWS's evaluation rules.
//!
//! Within a block, every operator and every key must hold (AND); the values listed for one key are
//! alternatives (OR), and for a negated operator none of them may match (NOR). A key absent from the
//! request makes a condition false, except for negated operators (true), `…IfExists` (true),
//! `ForAllValues:` (true) and `Null`.
//!
//! Policy values are read once, when the policy is parsed, as their operator family reads them. A
//! value of the wrong shape (`eng` for `IpAddress`, `ten` for `NumericEquals`) does not make IAM
//! refuse the policy (IAM Access Analyzer reports it as a warning): it is kept as
//! [`Parsed::Invalid`], matches no request value, and is never "not matched" either, so a negated
//! operator cannot hold on a request value it would have to be compared with. A request value the
//! operator cannot read (a non-IP for `IpAddress`) makes the condition false, whatever the operator,
//! by the same rule. An operator without `ForAnyValue:`/`ForAllValues:` on a key the request gives
//! as a set of values (`aws:TagKeys`) does not hold either: AWS requires a set operator there.
//! `tests/conformance/README.md` cites the documentation behind each of these readings.

mod arn;
mod binary;
mod bool;
mod date;
mod ip;
mod numeric;
pub(crate) mod operator;
mod string;

use crate::context::Context;
use crate::variables::Template;
use chrono::{DateTime, Utc};
use ipnet::IpNet;
use operator::{Family, Operator, SetQualifier};

/// One policy value as its operator family reads it, parsed once with the policy.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Parsed<T> {
    Valid(T),
    /// Not of the family's shape. Its text is the condition's `raw_values` entry at the same index.
    Invalid,
}

/// A `Bool` value: `true`/`false`, or one holding policy variables (resolved per request).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum BoolValue {
    Static(bool),
    Template(Template),
}

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

/// The policy's values, in the order written (index-aligned with `raw_values`).
#[derive(Clone, Debug, PartialEq)]
enum Values {
    Str(Vec<string::StrValue>),
    Numeric(Vec<Parsed<f64>>),
    Date(Vec<Parsed<DateTime<Utc>>>),
    Bool(Vec<Parsed<BoolValue>>),
    Binary(Vec<Parsed<Vec<u8>>>),
    Ip(Vec<Parsed<IpNet>>),
    Arn(Vec<Parsed<arn::ArnValue>>),
    /// `true`: the key must be absent; `false`: present. Several values are alternatives.
    Null(Vec<Parsed<bool>>),
}

/// A problem with the whole condition (the operator's name, or no values at all).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ConditionError {
    pub(crate) message: String,
    /// Whether the operator's name is the problem.
    pub(crate) unknown_operator: bool,
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
    /// A policy value is not of the operator's type, and no other value decided: it matches
    /// nothing, and a negated operator cannot hold on it.
    InvalidPolicyValue {
        value: String,
        expected: &'static str,
    },
    /// The request gives the key as a set of values and the operator has no `ForAnyValue:` or
    /// `ForAllValues:`.
    Multivalued,
}

/// How one request value compares with the policy's values (before negation).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ValueMatch {
    /// A policy value matches it.
    Match,
    /// Every policy value was compared with it, and none matches.
    Miss,
    /// No valid policy value matches it, and a policy value of the wrong shape could not be compared.
    Unreadable,
}

/// What a policy value of a family must look like, for messages.
pub(crate) fn expected_shape(family: Family) -> &'static str {
    match family {
        Family::StringEquals | Family::StringEqualsIgnoreCase | Family::StringLike => "a string",
        Family::Numeric(_) => "a number (an integer or a decimal, such as `10` or `2.5`)",
        Family::Date(_) => {
            "a date (ISO 8601, such as `2026-01-31` or `2026-01-31T12:00:00Z`, or epoch seconds)"
        }
        Family::Bool | Family::Null => "`true` or `false`",
        Family::Binary => "base64-encoded bytes",
        Family::Ip => "an IP address or CIDR block (such as `203.0.113.0/24` or `2001:db8::/32`)",
        Family::Arn => {
            "an ARN (`arn:partition:service:region:account:resource`, wildcards allowed)"
        }
    }
}

/// The family's name in messages.
pub(crate) fn family_name(family: Family) -> &'static str {
    match family {
        Family::StringEquals | Family::StringEqualsIgnoreCase | Family::StringLike => "string",
        Family::Numeric(_) => "numeric",
        Family::Date(_) => "date",
        Family::Bool => "Boolean",
        Family::Binary => "binary",
        Family::Ip => "IP address",
        Family::Arn => "ARN",
        Family::Null => "Null",
    }
}

/// A value as a family's reader read it: `None` (the wrong shape) is kept as [`Parsed::Invalid`].
fn parsed<T>(value: Option<T>) -> Parsed<T> {
    match value {
        Some(v) => Parsed::Valid(v),
        None => Parsed::Invalid,
    }
}

fn read_bool(text: &str, variables: bool) -> Parsed<BoolValue> {
    if variables {
        if let Some(t) = Template::parse(text) {
            return Parsed::Valid(BoolValue::Template(t));
        }
    }
    parsed(bool::parse(text).map(BoolValue::Static))
}

fn read_arn(text: &str, variables: bool) -> Parsed<arn::ArnValue> {
    match arn::parse(text, variables) {
        arn::ArnValue::Static(_) if !crate::arn::ArnPattern::is_valid_text(text) => Parsed::Invalid,
        v => Parsed::Valid(v),
    }
}

/// Whether a policy value has the shape its operator family reads (a string always has).
pub(crate) fn value_fits(family: Family, text: &str, variables: bool) -> bool {
    match family {
        Family::StringEquals | Family::StringEqualsIgnoreCase | Family::StringLike => true,
        Family::Numeric(_) => numeric::parse(text).is_some(),
        Family::Date(_) => date::parse(text).is_some(),
        Family::Bool => matches!(read_bool(text, variables), Parsed::Valid(_)),
        Family::Null => bool::parse(text).is_some(),
        Family::Binary => binary::parse(text).is_some(),
        Family::Ip => ip::parse_net(text).is_some(),
        Family::Arn => matches!(read_arn(text, variables), Parsed::Valid(_)),
    }
}

/// Whether any valid value satisfies `f`; `invalid` is set when an invalid value was passed over.
fn any_valid<T>(values: &[Parsed<T>], invalid: &mut bool, mut f: impl FnMut(&T) -> bool) -> bool {
    for v in values {
        match v {
            Parsed::Valid(t) => {
                if f(t) {
                    return true;
                }
            }
            Parsed::Invalid => *invalid = true,
        }
    }
    false
}

impl Condition {
    /// Builds a condition from its operator name, key and values as written.
    /// `variables` is whether policy variables are substituted (`Version` 2012-10-17).
    ///
    /// Values of the wrong shape for the operator are no error: IAM accepts such policies.
    pub(crate) fn build(
        operator_name: &str,
        key_name: &str,
        raw_values: Vec<String>,
        variables: bool,
    ) -> Result<Condition, ConditionError> {
        let op = Operator::parse(operator_name).map_err(|e| ConditionError {
            message: e.message,
            unknown_operator: true,
        })?;
        if raw_values.is_empty() {
            return Err(ConditionError {
                message: format!("`{operator_name}` on `{key_name}` has no values"),
                unknown_operator: false,
            });
        }
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
                    .map(|v| parsed(numeric::parse(v)))
                    .collect(),
            ),
            Family::Date(_) => {
                Values::Date(raw_values.iter().map(|v| parsed(date::parse(v))).collect())
            }
            Family::Bool => {
                Values::Bool(raw_values.iter().map(|v| read_bool(v, variables)).collect())
            }
            Family::Binary => Values::Binary(
                raw_values
                    .iter()
                    .map(|v| parsed(binary::parse(v)))
                    .collect(),
            ),
            Family::Ip => Values::Ip(
                raw_values
                    .iter()
                    .map(|v| parsed(ip::parse_net(v)))
                    .collect(),
            ),
            Family::Arn => Values::Arn(raw_values.iter().map(|v| read_arn(v, variables)).collect()),
            Family::Null => {
                Values::Null(raw_values.iter().map(|v| parsed(bool::parse(v))).collect())
            }
        };
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
                    Parsed::Valid(arn::ArnValue::Template(t)) => Some(t),
                    _ => None,
                })
                .flat_map(|t| t.variables())
                .collect(),
            Values::Bool(vs) => vs
                .iter()
                .filter_map(|v| match v {
                    Parsed::Valid(BoolValue::Template(t)) => Some(t),
                    _ => None,
                })
                .flat_map(|t| t.variables())
                .collect(),
            _ => Vec::new(),
        }
    }

    /// The policy values of the wrong shape for the operator, as written.
    pub(crate) fn invalid_values(&self) -> Vec<&str> {
        fn invalid<'a, T>(vs: &[Parsed<T>], raw: &'a [String]) -> Vec<&'a str> {
            vs.iter()
                .zip(raw)
                .filter(|(v, _)| matches!(v, Parsed::Invalid))
                .map(|(_, r)| r.as_str())
                .collect()
        }
        let raw = &self.raw_values;
        match &self.values {
            Values::Str(_) => Vec::new(),
            Values::Numeric(vs) => invalid(vs, raw),
            Values::Date(vs) => invalid(vs, raw),
            Values::Bool(vs) => invalid(vs, raw),
            Values::Binary(vs) => invalid(vs, raw),
            Values::Ip(vs) => invalid(vs, raw),
            Values::Arn(vs) => invalid(vs, raw),
            Values::Null(vs) => invalid(vs, raw),
        }
    }

    /// The first invalid value, as a miss.
    fn invalid_miss(&self) -> Miss {
        Miss::InvalidPolicyValue {
            value: self
                .invalid_values()
                .first()
                .map(|v| (*v).to_owned())
                .unwrap_or_default(),
            expected: expected_shape(self.op.family),
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
        if let Values::Null(wanted) = &self.values {
            // IAM Access Analyzer, "Null with qualifier": with `ForAllValues` the condition always
            // returns true, with `ForAnyValue` always false.
            match op.qualifier {
                Some(SetQualifier::ForAllValues) => return Ok(()),
                Some(SetQualifier::ForAnyValue) => return Err(Miss::NoMatch),
                None => {}
            }
            let absent = request.is_empty();
            let mut invalid = false;
            return if any_valid(wanted, &mut invalid, |want_absent| *want_absent == absent) {
                Ok(())
            } else if wanted.iter().all(|w| matches!(w, Parsed::Invalid)) {
                Err(self.invalid_miss())
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
        // A multivalued key needs a set operator: without one, the condition does not hold.
        if op.qualifier.is_none() && given.is_some_and(|g| g.is_multi()) {
            return Err(Miss::Multivalued);
        }
        // Every request value is read (a malformed one makes the condition false whatever the
        // others are), then the operator decides on which matched, which missed every policy value,
        // and which met a policy value of the wrong shape instead.
        let (mut matched, mut missed, mut unmatched, mut unreadable) = (false, false, false, false);
        for v in request {
            match self.compare(v, ctx)? {
                ValueMatch::Match => matched = true,
                ValueMatch::Miss => {
                    missed = true;
                    unmatched = true;
                }
                ValueMatch::Unreadable => {
                    unreadable = true;
                    unmatched = true;
                }
            }
        }
        // A negated operator holds on a request value only when every policy value was compared
        // with it and none matched.
        let holds = match (op.qualifier, op.negated) {
            (None | Some(SetQualifier::ForAnyValue), false) => matched,
            (Some(SetQualifier::ForAllValues), false) => !unmatched,
            (Some(SetQualifier::ForAnyValue), true) => missed,
            (None | Some(SetQualifier::ForAllValues), true) => !matched && !unreadable,
        };
        if holds {
            Ok(())
        } else if op.negated && unreadable && !matched {
            Err(self.invalid_miss())
        } else {
            Err(Miss::NoMatch)
        }
    }

    /// How one request value compares with the policy's values (before negation).
    fn compare(&self, v: &str, ctx: &Context<'_>) -> Result<ValueMatch, Miss> {
        let malformed = |expected| Miss::Malformed {
            value: v.to_owned(),
            expected,
        };
        let mut invalid = false;
        let hit = match &self.values {
            Values::Str(vs) => vs
                .iter()
                .any(|p| string::matches(self.op.family, p, v, ctx) == Some(true)),
            Values::Numeric(ns) => {
                let Family::Numeric(cmp) = self.op.family else {
                    return Ok(ValueMatch::Miss);
                };
                let r = numeric::parse(v).ok_or_else(|| malformed("a number"))?;
                any_valid(ns, &mut invalid, |p| numeric::matches(cmp, *p, r))
            }
            Values::Date(ds) => {
                let Family::Date(cmp) = self.op.family else {
                    return Ok(ValueMatch::Miss);
                };
                let r = date::parse(v).ok_or_else(|| malformed("a date"))?;
                any_valid(ds, &mut invalid, |p| cmp.holds(r.cmp(p)))
            }
            Values::Bool(bs) => {
                let r = bool::parse(v).ok_or_else(|| malformed("`true` or `false`"))?;
                any_valid(bs, &mut invalid, |p| match p {
                    BoolValue::Static(b) => *b == r,
                    BoolValue::Template(t) => t
                        .render(ctx)
                        .ok()
                        .and_then(|s| bool::parse(&s))
                        .is_some_and(|b| b == r),
                })
            }
            Values::Binary(bs) => {
                let r = binary::parse(v).ok_or_else(|| malformed("base64"))?;
                any_valid(bs, &mut invalid, |p| *p == r)
            }
            Values::Ip(nets) => {
                let r = ip::parse_addr(v).ok_or_else(|| malformed("an IP address"))?;
                any_valid(nets, &mut invalid, |n| ip::contains(n, &r))
            }
            Values::Arn(ps) => {
                any_valid(ps, &mut invalid, |p| arn::matches(p, v, ctx) == Some(true))
            }
            Values::Null(_) => false,
        };
        Ok(if hit {
            ValueMatch::Match
        } else if invalid {
            ValueMatch::Unreadable
        } else {
            ValueMatch::Miss
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
    fn only_operators_and_empty_value_lists_are_errors() {
        let e = Condition::build("Foo", "k", vec!["a".into()], true).unwrap_err();
        assert!(e.unknown_operator);
        let e = Condition::build("StringEquals", "k", vec![], true).unwrap_err();
        assert!(!e.unknown_operator && e.message.contains("no values"));
        for (op, v) in [
            ("NumericEquals", "x"),
            ("IpAddress", "300.1.1.1"),
            ("DateEquals", "soon"),
            ("Bool", "yes"),
            ("BinaryEquals", "***"),
            ("ArnEquals", "eng"),
            ("Null", "maybe"),
        ] {
            let c = Condition::build(op, "k", vec![v.into()], true).unwrap();
            assert_eq!(c.invalid_values(), [v], "{op}");
        }
    }

    /// A policy value of the wrong shape matches nothing, and a negated operator cannot hold on it;
    /// the other values work as usual.
    #[test]
    fn values_of_the_wrong_shape_match_nothing() {
        let ip = cond("IpAddress", "aws:PrincipalTag/team", &["eng"]);
        assert!(!eval(&ip, &[("aws:PrincipalTag/team", "eng".into())]));
        assert!(!eval(&ip, &[("aws:PrincipalTag/team", "10.0.0.1".into())]));
        let ips = cond("IpAddress", "aws:SourceIp", &["eng", "203.0.113.0/24"]);
        assert!(eval(&ips, &[("aws:SourceIp", "203.0.113.9".into())]));
        assert!(!eval(&ips, &[("aws:SourceIp", "198.51.100.1".into())]));

        let not_ip = cond("NotIpAddress", "aws:SourceIp", &["eng"]);
        assert!(!eval(&not_ip, &[("aws:SourceIp", "198.51.100.1".into())]));
        assert!(
            eval(&not_ip, &[]),
            "a missing key still makes a negated operator true"
        );
        let not_ips = cond("NotIpAddress", "aws:SourceIp", &["203.0.113.0/24", "eng"]);
        assert!(!eval(&not_ips, &[("aws:SourceIp", "203.0.113.9".into())]));
        let c = Condition::build("NotIpAddress", "aws:SourceIp", vec!["eng".into()], true).unwrap();
        let mut m = ContextMap::new();
        m.insert("aws:SourceIp", "198.51.100.1");
        assert!(matches!(
            c.evaluate(&Context::new(&m, &[])),
            Err(Miss::InvalidPolicyValue { ref value, .. }) if value == "eng"
        ));

        let n = cond("NumericNotEquals", "s3:max-keys", &["ten"]);
        assert!(!eval(&n, &[("s3:max-keys", "5".into())]));
        let n = cond("NumericLessThanIfExists", "s3:max-keys", &["ten"]);
        assert!(eval(&n, &[]), "IfExists with the key absent is true");
        assert!(!eval(&n, &[("s3:max-keys", "5".into())]));
        let d = cond("DateGreaterThan", "aws:CurrentTime", &["soon"]);
        assert!(!eval(
            &d,
            &[("aws:CurrentTime", "2026-01-01T00:00:00Z".into())]
        ));
        let d = cond("DateNotEquals", "aws:CurrentTime", &["soon"]);
        assert!(!eval(
            &d,
            &[("aws:CurrentTime", "2026-01-01T00:00:00Z".into())]
        ));
        let b = cond("Bool", "aws:SecureTransport", &["yes", "true"]);
        assert!(eval(&b, &[("aws:SecureTransport", "true".into())]));
        assert!(!eval(&b, &[("aws:SecureTransport", "false".into())]));
        let a = cond("ArnLike", "aws:SourceArn", &["eng"]);
        assert!(!eval(&a, &[("aws:SourceArn", "eng".into())]));
        let a = cond("ArnNotLike", "aws:SourceArn", &["eng"]);
        assert!(!eval(
            &a,
            &[(
                "aws:SourceArn",
                "arn:aws:sns:us-east-1:111122223333:t".into()
            )]
        ));

        // With set operators: ForAnyValue: with a negated operator holds on a request value every
        // policy value was compared with; ForAllValues: on every request value.
        let any_not = cond("ForAnyValue:NotIpAddress", "k", &["10.0.0.0/8", "eng"]);
        assert!(!eval(&any_not, &[("k", vec!["192.0.2.1"].into())]));
        let all = cond("ForAllValues:NumericLessThan", "k", &["10", "x"]);
        assert!(eval(&all, &[("k", vec!["1", "2"].into())]));
        assert!(!eval(&all, &[("k", vec!["1", "20"].into())]));
    }

    #[test]
    fn null_takes_several_values_as_alternatives() {
        let both = cond("Null", "aws:MultiFactorAuthAge", &["true", "false"]);
        assert!(eval(&both, &[]));
        assert!(eval(&both, &[("aws:MultiFactorAuthAge", "300".into())]));
        let odd = cond("Null", "aws:MultiFactorAuthAge", &["maybe"]);
        assert!(!eval(&odd, &[]));
        assert!(!eval(&odd, &[("aws:MultiFactorAuthAge", "300".into())]));
        let mixed = cond("Null", "aws:MultiFactorAuthAge", &["maybe", "true"]);
        assert!(eval(&mixed, &[]));
        assert!(!eval(&mixed, &[("aws:MultiFactorAuthAge", "300".into())]));
    }

    #[test]
    fn null_with_a_set_operator_is_constant() {
        let all = cond("ForAllValues:Null", "aws:TagKeys", &["true"]);
        let any = cond("ForAnyValue:Null", "aws:TagKeys", &["false"]);
        for ctx in [
            vec![],
            vec![("aws:TagKeys", ContextValue::from(vec!["team"]))],
        ] {
            assert!(eval(&all, &ctx));
            assert!(!eval(&any, &ctx));
        }
    }

    #[test]
    fn bool_values_may_hold_policy_variables() {
        let b = cond("Bool", "aws:SecureTransport", &["${aws:PrincipalTag/tls}"]);
        assert!(eval(
            &b,
            &[
                ("aws:SecureTransport", "true".into()),
                ("aws:PrincipalTag/tls", "TRUE".into())
            ]
        ));
        assert!(!eval(&b, &[("aws:SecureTransport", "true".into())]));
        assert_eq!(b.variables(), ["aws:PrincipalTag/tls"]);
    }

    /// Without `ForAnyValue:`/`ForAllValues:`, an operator does not hold on a key the request gives
    /// as a set, whatever its values; an empty set is an absent key.
    #[test]
    fn operators_without_a_set_operator_do_not_hold_on_a_multivalued_key() {
        let tags = |v: Vec<&str>| ContextValue::from(v);
        for op in ["StringEquals", "StringLike", "StringEqualsIfExists"] {
            let c = cond(op, "aws:TagKeys", &["team"]);
            assert!(!eval(&c, &[("aws:TagKeys", tags(vec!["team"]))]), "{op}");
            assert!(
                !eval(&c, &[("aws:TagKeys", tags(vec!["team", "cost"]))]),
                "{op}"
            );
        }
        let not = cond("StringNotEquals", "aws:TagKeys", &["team"]);
        assert!(!eval(&not, &[("aws:TagKeys", tags(vec!["cost"]))]));
        assert!(eval(&not, &[("aws:TagKeys", tags(vec![]))]));
        assert!(eval(&not, &[]));
        let c = Condition::build("StringEquals", "aws:TagKeys", vec!["team".into()], true).unwrap();
        let mut m = ContextMap::new();
        m.insert("aws:TagKeys", tags(vec!["team"]));
        assert_eq!(c.evaluate(&Context::new(&m, &[])), Err(Miss::Multivalued));
        // The same value given as a single value is compared as usual.
        assert!(eval(&c, &[("aws:TagKeys", "team".into())]));
        // Null asks only whether the key is there.
        let null = cond("Null", "aws:TagKeys", &["false"]);
        assert!(eval(&null, &[("aws:TagKeys", tags(vec!["team"]))]));
    }
}
