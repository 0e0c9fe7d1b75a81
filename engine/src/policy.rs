//! Typed, pre-compiled policies: the JSON is parsed once into statements whose patterns and condition
//! values are ready to match; evaluation never looks at the JSON again.

mod parse;
pub(crate) mod principal;

use crate::arn::ArnPattern;
use crate::condition::{Condition, Miss};
use crate::context::Context;
use crate::error::{Location, PolicyErrors};
use crate::pattern::Pattern;
use crate::request::Request;
use crate::variables::Template;
use principal::{Grant, PrincipalSpec};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

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
    pub(crate) statements: Vec<Statement>,
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
    fn matches(&self, resource: &str, ctx: &Context<'_>) -> Result<bool, String> {
        match self {
            ResourcePattern::Static(p) => Ok(p.matches(resource)),
            ResourcePattern::Template(t) => {
                let tokens = t.tokens(ctx).map_err(|u| u.variable)?;
                Ok(ArnPattern::from_tokens(&tokens).matches(resource))
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
        req: &Request,
        ctx: &Context<'_>,
        has_boundary: bool,
    ) -> Result<Option<Grant>, StatementMiss> {
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
                match p.matches(&req.resource, ctx) {
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
