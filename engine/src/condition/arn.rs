//! `ArnEquals`, `ArnLike`, `ArnNotEquals`, `ArnNotLike`: AWS documents `ArnEquals` and `ArnLike` alike,
//! each of the six ARN segments matched separately, with `*` and `?`, case-sensitively.

use crate::arn::ArnPattern;
use crate::context::Context;
use crate::variables::Template;

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum ArnValue {
    Static(ArnPattern),
    Template(Template),
}

pub(crate) fn parse(text: &str, variables: bool) -> ArnValue {
    if variables {
        if let Some(t) = Template::parse(text) {
            return ArnValue::Template(t);
        }
    }
    ArnValue::Static(ArnPattern::new(text))
}

/// `None` when a variable cannot be resolved.
pub(crate) fn matches(value: &ArnValue, request: &str, ctx: &Context<'_>) -> Option<bool> {
    Some(match value {
        ArnValue::Static(p) => p.matches(request),
        ArnValue::Template(t) => ArnPattern::from_tokens(&t.tokens(ctx).ok()?).matches(request),
    })
}
