//! Condition operator names: `[ForAnyValue:|ForAllValues:]<Base>[IfExists]`, parsed once into an
//! [`Operator`] value so evaluation never looks at the name again.

use serde::Serialize;

/// An operator family: how a policy value is compared with a request value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Family {
    StringEquals,
    StringEqualsIgnoreCase,
    StringLike,
    Numeric(Cmp),
    Date(Cmp),
    Bool,
    Binary,
    Ip,
    Arn,
    Null,
}

/// A comparison of a request value (left) with a policy value (right).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Cmp {
    Eq,
    Lt,
    Le,
    Gt,
    Ge,
}

impl Cmp {
    pub(crate) fn holds(self, ord: std::cmp::Ordering) -> bool {
        use std::cmp::Ordering::*;
        match self {
            Cmp::Eq => ord == Equal,
            Cmp::Lt => ord == Less,
            Cmp::Le => ord != Greater,
            Cmp::Gt => ord == Greater,
            Cmp::Ge => ord != Less,
        }
    }
}

/// `ForAnyValue:` or `ForAllValues:`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum SetQualifier {
    ForAnyValue,
    ForAllValues,
}

/// A parsed condition operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) struct Operator {
    pub(crate) qualifier: Option<SetQualifier>,
    pub(crate) family: Family,
    /// `StringNotEquals`, `NotIpAddress`, `ArnNotLike`…: true when no policy value matches.
    pub(crate) negated: bool,
    pub(crate) if_exists: bool,
}

/// The registry: every base operator name AWS defines, with its family and negation.
/// Add new operators here.
const BASE_OPERATORS: &[(&str, Family, bool)] = &[
    ("StringEquals", Family::StringEquals, false),
    ("StringNotEquals", Family::StringEquals, true),
    (
        "StringEqualsIgnoreCase",
        Family::StringEqualsIgnoreCase,
        false,
    ),
    (
        "StringNotEqualsIgnoreCase",
        Family::StringEqualsIgnoreCase,
        true,
    ),
    ("StringLike", Family::StringLike, false),
    ("StringNotLike", Family::StringLike, true),
    ("NumericEquals", Family::Numeric(Cmp::Eq), false),
    ("NumericNotEquals", Family::Numeric(Cmp::Eq), true),
    ("NumericLessThan", Family::Numeric(Cmp::Lt), false),
    ("NumericLessThanEquals", Family::Numeric(Cmp::Le), false),
    ("NumericGreaterThan", Family::Numeric(Cmp::Gt), false),
    ("NumericGreaterThanEquals", Family::Numeric(Cmp::Ge), false),
    ("DateEquals", Family::Date(Cmp::Eq), false),
    ("DateNotEquals", Family::Date(Cmp::Eq), true),
    ("DateLessThan", Family::Date(Cmp::Lt), false),
    ("DateLessThanEquals", Family::Date(Cmp::Le), false),
    ("DateGreaterThan", Family::Date(Cmp::Gt), false),
    ("DateGreaterThanEquals", Family::Date(Cmp::Ge), false),
    ("Bool", Family::Bool, false),
    ("BinaryEquals", Family::Binary, false),
    ("IpAddress", Family::Ip, false),
    ("NotIpAddress", Family::Ip, true),
    ("ArnEquals", Family::Arn, false),
    ("ArnLike", Family::Arn, false),
    ("ArnNotEquals", Family::Arn, true),
    ("ArnNotLike", Family::Arn, true),
    ("Null", Family::Null, false),
];

/// Why an operator name is not valid.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct UnknownOperator {
    pub(crate) message: String,
}

impl Operator {
    pub(crate) fn parse(name: &str) -> Result<Operator, UnknownOperator> {
        let (qualifier, rest) = if let Some(r) = name.strip_prefix("ForAnyValue:") {
            (Some(SetQualifier::ForAnyValue), r)
        } else if let Some(r) = name.strip_prefix("ForAllValues:") {
            (Some(SetQualifier::ForAllValues), r)
        } else if let Some((q, _)) = name.split_once(':') {
            return Err(UnknownOperator {
                message: format!(
                    "unknown set operator `{q}:`; expected `ForAnyValue:` or `ForAllValues:`"
                ),
            });
        } else {
            (None, name)
        };
        let (base, if_exists) = match rest.strip_suffix("IfExists") {
            Some(b) => (b, true),
            None => (rest, false),
        };
        let Some(&(_, family, negated)) = BASE_OPERATORS.iter().find(|(n, _, _)| *n == base) else {
            let hint = BASE_OPERATORS
                .iter()
                .find(|(n, _, _)| n.eq_ignore_ascii_case(base))
                .map(|(n, _, _)| format!("; did you mean `{n}`?"))
                .unwrap_or_default();
            return Err(UnknownOperator {
                message: format!("unknown condition operator `{name}`{hint}"),
            });
        };
        // IAM Access Analyzer makes `NullIfExists` an error ("Null with if exists"), and a set
        // operator on `Null` only a suggestion ("Null with qualifier"): IAM accepts the latter.
        if family == Family::Null && if_exists {
            return Err(UnknownOperator {
                message: format!("`{name}`: the `Null` operator cannot take `IfExists`"),
            });
        }
        Ok(Operator {
            qualifier,
            family,
            negated,
            if_exists,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_names() {
        let op = Operator::parse("ForAllValues:StringNotLikeIfExists").unwrap();
        assert_eq!(op.qualifier, Some(SetQualifier::ForAllValues));
        assert_eq!(op.family, Family::StringLike);
        assert!(op.negated && op.if_exists);
        assert_eq!(
            Operator::parse("NumericLessThanEquals").unwrap().family,
            Family::Numeric(Cmp::Le)
        );
        let e = Operator::parse("stringequals").unwrap_err();
        assert!(e.message.contains("did you mean `StringEquals`"));
        assert!(Operator::parse("ForSomeValues:StringEquals").is_err());
        assert!(Operator::parse("NullIfExists").is_err());
        assert_eq!(
            Operator::parse("ForAllValues:Null").unwrap().qualifier,
            Some(SetQualifier::ForAllValues)
        );
        assert!(Operator::parse("StringMatches").is_err());
    }
}
