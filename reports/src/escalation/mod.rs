//! Privilege escalation: for every principal of an account (or one), whether it can reach a target
//! — full administrator by default, or given actions — and how, as paths of steps. Each step is an
//! action the engine allows the acting principal on a specific resource (boundaries, SCPs, RCPs,
//! explicit denies and trust policies all count), with the statement that allows it and what it
//! gains: a new principal (a role's session, a user's credentials), a new policy, a group, no
//! boundary.
//!
//! The escalation classes are a table ([`classes`]); the search ([`search`]) is breadth-first over
//! states (who acts, and what the account has been changed to so far), so paths chain to any depth
//! — role A attaches a policy to role B, then assumes B — shortest first, and cycles end.
//!
//! Conditions the account cannot decide (source IP, MFA, VPC…) do not block a step: the step is
//! reported with them as "if …" (the values the allowing statement compares the key with).

mod classes;
mod filter;
mod search;
mod world;

use iamlet_account::export::AccountDetails;
use iamlet_account::organization::Organization;
use iamlet_account::{FetchError, LoadError, StoreError};
use serde::Serialize;
use std::fmt::Write as _;

/// What the paths lead to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// Full administrator: `*` on `*`.
    Admin,
    /// Every one of these actions, each on its resource (`*` when none was given).
    Actions(Vec<(String, String)>),
}

impl Target {
    /// `admin`, or actions each written `service:Action` or `service:Action=RESOURCE-ARN`.
    pub fn parse(items: &[String]) -> Result<Self, EscalationError> {
        if items.is_empty() || (items.len() == 1 && items[0].eq_ignore_ascii_case("admin")) {
            return Ok(Target::Admin);
        }
        items
            .iter()
            .map(|t| {
                let (action, resource) = t.split_once('=').unwrap_or((t, "*"));
                let (service, name) = action.split_once(':').unwrap_or_default();
                if service.is_empty() || name.is_empty() || resource.is_empty() {
                    return Err(EscalationError::Target(t.clone()));
                }
                Ok((action.to_owned(), resource.to_owned()))
            })
            .collect::<Result<_, _>>()
            .map(Target::Actions)
    }
}

/// How far to look.
#[derive(Clone, Debug)]
pub struct Options {
    /// Only this principal (a user or role ARN).
    pub principal: Option<String>,
    /// What the paths lead to.
    pub target: Target,
    /// Paths kept per principal (shortest first).
    pub max_paths: usize,
    /// States explored per principal before giving up on finding more paths.
    pub max_states: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            principal: None,
            target: Target::Admin,
            max_paths: 5,
            max_states: 5_000,
        }
    }
}

/// One step of a path.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Step {
    /// Who acts (a user or role ARN).
    pub principal: String,
    /// The action.
    pub action: String,
    /// The resource it is allowed on.
    pub resource: String,
    /// The statements that allow it (`statement `Sid` (Statement[0]) of identity-based policy …`).
    pub statement: String,
    /// What it gains.
    pub gains: String,
    /// The escalation class this step belongs to (`PutUserPolicy`, `PassRole to Lambda (invoke)`…).
    #[serde(skip)]
    pub class: &'static str,
    /// What must hold that the account cannot show (`aws:SourceIp IpAddress 10.0.0.0/8`).
    #[serde(rename = "if", skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<String>,
}

/// A principal that can reach the target.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// The principal's ARN.
    pub principal: String,
    /// Whether it holds the target already (then `paths` is empty).
    pub already: bool,
    /// Its paths, shortest first.
    pub paths: Vec<Vec<Step>>,
}

/// Why the analysis could not run.
#[derive(Debug, thiserror::Error)]
pub enum EscalationError {
    /// The export does not compile.
    #[error(transparent)]
    Load(#[from] LoadError),
    /// A principal of the export could not be resolved.
    #[error(transparent)]
    Fetch(#[from] FetchError),
    /// A request could not be built.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// `--principal` names no user or role of the export.
    #[error("principal `{0}` is not a user or role of the account export")]
    UnknownPrincipal(String),
    /// A target that is neither `admin` nor `service:Action[=RESOURCE]`.
    #[error("target `{0}`: expected `admin` or `service:Action`, optionally `=RESOURCE-ARN`")]
    Target(String),
    /// Something that cannot happen did.
    #[error("internal error: {0}")]
    Internal(String),
}

/// The principals that can reach the target, in ARN order: those that hold it already first
/// flagged `already`, the others with their paths.
pub fn analyze(
    exports: &[(String, AccountDetails)],
    org: Option<&Organization>,
    options: &Options,
) -> Result<Vec<Finding>, EscalationError> {
    let mut world = world::World::new(exports, org)?;
    let mut starts: Vec<(String, usize)> = world
        .principals
        .iter()
        .enumerate()
        .map(|(i, p)| (p.arn.clone(), i))
        .collect();
    starts.sort();
    if let Some(p) = &options.principal {
        let by_arn = world.by_arn.get(p).copied();
        let Some(i) = by_arn else {
            return Err(EscalationError::UnknownPrincipal(p.clone()));
        };
        starts = vec![(p.clone(), i)];
    }
    let mut out = Vec::new();
    for (_, i) in starts {
        if let Some(f) = search::from(&mut world, i, options)? {
            out.push(f);
        }
    }
    Ok(out)
}

/// Whether any principal that is not already at the target can escalate to it (CI fails then).
pub fn any_escalation(findings: &[Finding]) -> bool {
    findings.iter().any(|f| !f.already && !f.paths.is_empty())
}

/// The findings for people.
pub fn render_text(findings: &[Finding], target: &Target) -> String {
    let what = match target {
        Target::Admin => "administrator (* on *)".to_owned(),
        Target::Actions(a) => a
            .iter()
            .map(|(x, r)| format!("{x} on {r}"))
            .collect::<Vec<_>>()
            .join(", "),
    };
    let mut s = String::new();
    let already: Vec<&Finding> = findings.iter().filter(|f| f.already).collect();
    let escalating: Vec<&Finding> = findings.iter().filter(|f| !f.already).collect();
    if !already.is_empty() {
        let _ = writeln!(s, "Already {what}:");
        for f in &already {
            let _ = writeln!(s, "  {}", f.principal);
        }
        s.push('\n');
    }
    if escalating.is_empty() {
        let _ = writeln!(s, "No principal can escalate to {what}.");
        return s;
    }
    let _ = writeln!(s, "Can escalate to {what}:");
    for f in escalating {
        let _ = writeln!(s, "\n{}", f.principal);
        for (i, path) in f.paths.iter().enumerate() {
            let _ = writeln!(s, "  path {} ({} steps):", i + 1, path.len());
            for (j, step) in path.iter().enumerate() {
                let _ = writeln!(
                    s,
                    "    {}. {} → {} on {} [{}]",
                    j + 1,
                    step.principal,
                    step.action,
                    step.resource,
                    step.class
                );
                let _ = writeln!(s, "       allowed by {}", step.statement);
                let _ = writeln!(s, "       gains {}", step.gains);
                for c in &step.conditions {
                    let _ = writeln!(s, "       if {c}");
                }
            }
        }
    }
    s
}

#[cfg(test)]
mod tests;
