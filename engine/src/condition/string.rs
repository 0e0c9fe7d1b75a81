//! `StringEquals`, `StringNotEquals`, `StringEqualsIgnoreCase`, `StringNotEqualsIgnoreCase`,
//! `StringLike`, `StringNotLike`: case-sensitive unless the operator says otherwise; `Like` with `*`
//! and `?`. Values may hold policy variables.

use super::operator::Family;
use crate::context::Context;
use crate::pattern::Pattern;
use crate::variables::Template;

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum StrValue {
    Exact(String),
    /// Lower-cased for `…IgnoreCase`.
    Folded(String),
    Glob(Pattern),
    /// Has variables: resolved per request, then compared as the family says.
    Template(Template),
}

pub(crate) fn parse(family: Family, text: &str, variables: bool) -> StrValue {
    if variables {
        if let Some(t) = Template::parse(text) {
            return StrValue::Template(t);
        }
    }
    match family {
        Family::StringEqualsIgnoreCase => StrValue::Folded(text.to_lowercase()),
        Family::StringLike => StrValue::Glob(Pattern::new(text)),
        _ => StrValue::Exact(text.to_owned()),
    }
}

/// Whether the request value matches this policy value; `None` when a variable cannot be resolved.
pub(crate) fn matches(
    family: Family,
    value: &StrValue,
    request: &str,
    ctx: &Context<'_>,
) -> Option<bool> {
    Some(match value {
        StrValue::Exact(s) => s == request,
        StrValue::Folded(s) => *s == request.to_lowercase(),
        StrValue::Glob(p) => p.matches(request),
        StrValue::Template(t) => match family {
            Family::StringLike => Pattern::from_tokens(&t.tokens(ctx).ok()?).matches(request),
            Family::StringEqualsIgnoreCase => {
                t.render(ctx).ok()?.to_lowercase() == request.to_lowercase()
            }
            _ => t.render(ctx).ok()? == request,
        },
    })
}
