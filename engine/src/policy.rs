//! Typed, pre-compiled policies: the JSON is parsed once into statements whose patterns and condition
//! values are ready to match; evaluation never looks at the JSON again.

mod index;
pub(crate) mod parse;
pub(crate) mod principal;
mod quota;

use crate::arn::{ArnPattern, ResourceName};
use crate::condition::{Condition, Miss};
use crate::context::Context;
use crate::error::{Location, PolicyErrors};
use crate::pattern::Pattern;
use crate::request::Prepared;
use crate::variables::Template;
pub(crate) use index::{ActionIndex, Service};
use principal::{Grant, PrincipalSpec};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

pub use quota::{QuotaFinding, SizeCount};

/// Where a policy sits in AWS's evaluation: this decides which elements it may have and how its
/// statements combine with the others.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "wasm", derive(tsify::Tsify))]
pub enum PolicyType {
    /// An identity-based policy (inline or managed) of a user, group or role.
    Identity,
    /// A resource-based policy (bucket policy, queue policy, key policy…): needs `Principal`.
    Resource,
    /// A role trust policy (`AssumeRolePolicyDocument`): needs `Principal`, has no `Resource`.
    Trust,
    /// A permissions boundary.
    Boundary,
    /// An AWS Organizations service control policy.
    Scp,
    /// An AWS Organizations resource control policy (`Principal` must be `"*"`).
    Rcp,
    /// A session policy passed when a session was created.
    Session,
}

impl PolicyType {
    /// Every policy type.
    pub const ALL: [PolicyType; 7] = [
        PolicyType::Identity,
        PolicyType::Resource,
        PolicyType::Trust,
        PolicyType::Boundary,
        PolicyType::Scp,
        PolicyType::Rcp,
        PolicyType::Session,
    ];

    /// The type's name (`identity`, `resource`, `trust`, `boundary`, `scp`, `rcp`, `session`): its
    /// serde name, the command line's `--type` value, the WIT enum case, and the prefix of a binding
    /// input's default name (`identity[0]`). [`FromStr`](std::str::FromStr) reads it back.
    pub fn as_str(self) -> &'static str {
        match self {
            PolicyType::Identity => "identity",
            PolicyType::Resource => "resource",
            PolicyType::Trust => "trust",
            PolicyType::Boundary => "boundary",
            PolicyType::Scp => "scp",
            PolicyType::Rcp => "rcp",
            PolicyType::Session => "session",
        }
    }

    /// How the type reads in messages.
    pub fn label(self) -> &'static str {
        match self {
            PolicyType::Identity => "identity-based policy",
            PolicyType::Resource => "resource-based policy",
            PolicyType::Trust => "trust policy",
            PolicyType::Boundary => "permissions boundary",
            PolicyType::Scp => "service control policy",
            PolicyType::Rcp => "resource control policy",
            PolicyType::Session => "session policy",
        }
    }
}

impl std::fmt::Display for PolicyType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A name that is no policy type's [`PolicyType::as_str`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParsePolicyTypeError(String);

impl std::fmt::Display for ParsePolicyTypeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "unknown policy type `{}`: expected one of ", self.0)?;
        for (i, t) in PolicyType::ALL.into_iter().enumerate() {
            let sep = if i == 0 { "" } else { ", " };
            write!(f, "{sep}{t}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ParsePolicyTypeError {}

impl std::str::FromStr for PolicyType {
    type Err = ParsePolicyTypeError;

    /// A type by its name ([`PolicyType::as_str`]), in lower case as serde reads it.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        PolicyType::ALL
            .into_iter()
            .find(|t| t.as_str() == s)
            .ok_or_else(|| ParsePolicyTypeError(s.to_owned()))
    }
}

/// The policy language version.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Version {
    /// `2012-10-17`: policy variables are substituted.
    #[serde(rename = "2012-10-17")]
    V2012_10_17,
    /// `2008-10-17`: `${…}` is literal text.
    #[serde(rename = "2008-10-17")]
    V2008_10_17,
    /// No `Version` element: treated as 2008-10-17, as AWS does.
    #[serde(rename = "none")]
    Unspecified,
}

/// `Allow` or `Deny`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "wasm", derive(tsify::Tsify))]
pub enum Effect {
    /// Grants the access the statement describes.
    Allow,
    /// Denies it, overriding any allow.
    Deny,
}

/// A parsed policy document.
#[derive(Clone, Debug)]
pub struct Policy {
    pub(crate) name: String,
    pub(crate) policy_type: PolicyType,
    pub(crate) version: Version,
    pub(crate) id: Option<String>,
    /// Shared: a policy set is cloned per request when a resource adds its policy, and cloning a
    /// policy must not copy its compiled statements.
    pub(crate) statements: Arc<[Statement]>,
    /// The statements by the service prefix of their actions.
    pub(crate) index: Arc<ActionIndex>,
    pub(crate) source: Arc<str>,
}

impl Policy {
    /// Parses a policy document of the given type. Every problem found is reported, each with its
    /// JSON path and line:column.
    pub fn parse(text: &str, policy_type: PolicyType) -> Result<Policy, PolicyErrors> {
        parse::parse_policy(text, policy_type)
    }

    /// Parses a policy and names it (the name appears in explanations and errors).
    pub fn parse_named(
        name: &str,
        text: &str,
        policy_type: PolicyType,
    ) -> Result<Policy, PolicyErrors> {
        Self::parse(text, policy_type)
            .map(|p| p.with_name(name))
            .map_err(|e| e.named(name))
    }

    /// Renames the policy.
    pub fn with_name(mut self, name: &str) -> Self {
        name.clone_into(&mut self.name);
        self
    }

    /// The policy's name.
    pub fn name(&self) -> &str {
        &self.name
    }
    /// The policy's type.
    pub fn policy_type(&self) -> PolicyType {
        self.policy_type
    }
    /// The `Version` element.
    pub fn version(&self) -> Version {
        self.version
    }
    /// The `Id` element.
    pub fn id(&self) -> Option<&str> {
        self.id.as_deref()
    }
    /// The number of statements.
    pub fn statement_count(&self) -> usize {
        self.statements.len()
    }
    /// The source text the policy was parsed from.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Where statement `index` (its place in the `Statement` array) is in [`Policy::source`]: the
    /// line and column of its opening brace and its byte range. `None` for an index the policy does
    /// not have.
    pub fn statement_location(&self, index: usize) -> Option<Location> {
        self.statements
            .iter()
            .find(|s| s.index == index)
            .and_then(|s| s.location)
    }
}

/// One statement, compiled.
#[derive(Clone, Debug)]
pub(crate) struct Statement {
    pub(crate) index: usize,
    pub(crate) sid: Option<String>,
    pub(crate) effect: Effect,
    pub(crate) principal: Option<PrincipalSpec>,
    pub(crate) action: ActionSpec,
    pub(crate) resource: Option<ResourceSpec>,
    pub(crate) conditions: Vec<Condition>,
    pub(crate) location: Option<Location>,
}

/// `Action` or `NotAction`, lower-cased (action names are case-insensitive).
#[derive(Clone, Debug)]
pub(crate) struct ActionSpec {
    pub(crate) negated: bool,
    pub(crate) patterns: Vec<Pattern>,
    pub(crate) raw: Vec<String>,
}

/// `Resource` or `NotResource`.
#[derive(Clone, Debug)]
pub(crate) struct ResourceSpec {
    pub(crate) negated: bool,
    pub(crate) patterns: Vec<ResourcePattern>,
    pub(crate) raw: Vec<String>,
}

#[derive(Clone, Debug)]
pub(crate) enum ResourcePattern {
    Static(ArnPattern),
    /// Holds policy variables: resolved per request.
    Template(Template),
}

impl ResourcePattern {
    /// `Err` with the variable's name when a variable cannot be resolved.
    fn matches(&self, resource: &ResourceName<'_>, ctx: &Context<'_>) -> Result<bool, String> {
        match self {
            ResourcePattern::Static(p) => Ok(p.matches_name(resource)),
            ResourcePattern::Template(t) => {
                let tokens = t.tokens(ctx).map_err(|u| u.variable)?;
                Ok(ArnPattern::from_tokens(&tokens).matches_name(resource))
            }
        }
    }
}

/// Why a statement does not apply to a request: the first element that failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum StatementMiss {
    Principal,
    Action,
    Resource { unresolved: Vec<String> },
    Condition { index: usize, miss: Miss },
}

impl Statement {
    /// Whether the statement applies. For statements with a `Principal`, how the principal matched.
    /// `has_boundary`: the principal has a permissions boundary (it changes how `NotPrincipal` reads).
    pub(crate) fn applies(
        &self,
        target: &Prepared<'_>,
        has_boundary: bool,
    ) -> Result<Option<Grant>, StatementMiss> {
        let req = target.req;
        let ctx = &target.ctx;
        let deny_with_boundary = has_boundary && self.effect == Effect::Deny;
        let grant = match &self.principal {
            Some(spec) => Some(
                spec.grant(&req.principal, deny_with_boundary)
                    .ok_or(StatementMiss::Principal)?,
            ),
            None => None,
        };
        let action_hit = self
            .action
            .patterns
            .iter()
            .any(|p| p.matches(&req.action_lower));
        if action_hit == self.action.negated {
            return Err(StatementMiss::Action);
        }
        if let Some(res) = &self.resource {
            let mut unresolved = Vec::new();
            let mut hit = false;
            for p in &res.patterns {
                match p.matches(&target.resource, ctx) {
                    Ok(true) => {
                        hit = true;
                        break;
                    }
                    Ok(false) => {}
                    Err(var) => unresolved.push(var),
                }
            }
            if hit == res.negated {
                return Err(StatementMiss::Resource { unresolved });
            }
        }
        for (index, c) in self.conditions.iter().enumerate() {
            c.evaluate(ctx)
                .map_err(|miss| StatementMiss::Condition { index, miss })?;
        }
        Ok(grant)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::ContextMap;
    use crate::eval::{Decision, PolicySet};
    use crate::pattern::work;
    use crate::request::Request;

    #[test]
    fn statement_locations_point_at_their_braces() {
        let text = "{\"Version\":\"2012-10-17\",\"Statement\":[\n  {\"Effect\":\"Allow\",\"Action\":\"s3:*\",\"Resource\":\"*\"},\n  {\"Effect\":\"Deny\",\"Action\":\"s3:Put*\",\"Resource\":\"*\"}]}";
        let p = Policy::parse(text, PolicyType::Identity).unwrap();
        let second = p.statement_location(1).unwrap();
        assert_eq!((second.line, second.column), (3, 3));
        assert!(text[second.start..second.end].starts_with("{\"Effect\":\"Deny\""));
        assert!(text[second.start..second.end].ends_with('}'));
        assert_eq!(p.statement_location(0).map(|l| l.line), Some(2));
        assert!(p.statement_location(2).is_none());
    }

    #[test]
    fn policy_type_names_read_back_and_match_serde() {
        for t in PolicyType::ALL {
            assert_eq!(t.as_str().parse::<PolicyType>(), Ok(t));
            assert_eq!(t.to_string(), t.as_str());
            assert_eq!(serde_json::to_value(t).unwrap(), t.as_str());
        }
        let e = "Identity".parse::<PolicyType>().unwrap_err();
        assert_eq!(
            e.to_string(),
            "unknown policy type `Identity`: expected one of identity, resource, trust, boundary, scp, rcp, session"
        );
    }

    /// The matcher's bound for one pattern (see `pattern.rs`).
    fn bound(pattern: &str, input: &str) -> u64 {
        work::bound(pattern, input, 8)
    }

    #[test]
    fn adversarial_patterns_in_a_policy_take_bounded_work() {
        // Every element holds patterns built to make a backtracking matcher explode, each followed
        // by one that matches, so that evaluation tries them all; the last condition fails.
        let stars = format!("{}b", "a*".repeat(500));
        let run = format!("*{}b*", "a?".repeat(16));
        let questions = format!("{}x", "*?".repeat(200));
        let long = "a".repeat(50_000);
        let arn = format!("arn:aws:s3:::{long}");
        let text = format!(
            r#"{{"Version":"2012-10-17","Statement":{{"Effect":"Allow",
              "Action":["s3:{stars}","s3:{run}","s3:{questions}","s3:a*"],
              "Resource":["arn:aws:s3:::{stars}","arn:aws:s3:::{run}","arn:aws:s3:::{questions}","arn:aws:s3:::*"],
              "Condition":{{
                "ArnLike":{{"aws:SourceArn":["arn:aws:s3:::{stars}","arn:aws:s3:::{run}","arn:aws:s3:::*"]}},
                "StringLike":{{"aws:PrincipalTag/team":["{stars}","{run}","{questions}"]}}}}}}}}"#
        );
        let mut set = PolicySet::new();
        set.add(Policy::parse(&text, PolicyType::Identity).unwrap());
        let mut ctx = ContextMap::new();
        ctx.insert("aws:SourceArn", arn.as_str());
        ctx.insert("aws:PrincipalTag/team", long.as_str());
        let req = Request::new(
            "arn:aws:iam::111122223333:user/alice",
            &format!("s3:{long}"),
            &arn,
        )
        .unwrap()
        .with_context(ctx);

        work::take();
        assert_eq!(set.evaluate(&req), Decision::ImplicitDeny);
        let steps = work::take();
        // Four elements, up to four patterns each, every one against about `long`.
        let most: u64 = [&stars, &run, &questions]
            .iter()
            .map(|p| 4 * bound(&format!("arn:aws:s3:::{p}"), &arn))
            .sum();
        assert!(steps <= most, "{steps} steps; the bound is {most}");
        // The work was counted: the run pattern alone is tried at every position.
        assert!(steps >= 3 * 50_000, "{steps} steps");
    }

    #[test]
    fn huge_arrays_are_linear() {
        // 20,000 actions and resources (about 200 KB of policy): parsed once, and one evaluation
        // tries each pattern once.
        let n = 20_000;
        let actions: Vec<String> = (0..n).map(|i| format!("\"s3:A{i}*\"")).collect();
        let text = format!(
            r#"{{"Statement":{{"Effect":"Allow","Action":[{}],"Resource":"arn:aws:s3:::b/*"}}}}"#,
            actions.join(",")
        );
        assert!(text.len() <= parse::MAX_POLICY_BYTES);
        let mut set = PolicySet::new();
        set.add(Policy::parse(&text, PolicyType::Identity).unwrap());
        let req = Request::new(
            "arn:aws:iam::111122223333:user/alice",
            "s3:B",
            "arn:aws:s3:::b/k",
        )
        .unwrap();
        work::take();
        assert_eq!(set.evaluate(&req), Decision::ImplicitDeny);
        let steps = work::take();
        // Each prefix pattern is compared once with the action: its length, plus one.
        let most: usize = actions.iter().map(|a| a.len() - 2 + 1).sum();
        assert!(
            steps <= most as u64,
            "{steps} steps for {n} patterns; the bound is {most}"
        );
        let req = Request::new(
            "arn:aws:iam::111122223333:user/alice",
            &format!("s3:A{}x", n - 1),
            "arn:aws:s3:::b/k",
        )
        .unwrap();
        assert_eq!(set.evaluate(&req), Decision::Allow);
    }
}
