//! A simulation run by the engine and written as AWS's `EvaluationResults`: one result per action,
//! and when `ResourceArns` is given, one `ResourceSpecificResults` member per resource.

use crate::Answer;
use iamlet_engine::{
    Decision, Effect, Explanation, Policy, PolicySet, PolicyType, Principal, Request, StatementRef,
};
use iamlet_iam_store::IamError;
use iamlet_query::Xml;

/// Where a simulated policy comes from: AWS's `SourcePolicyType`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum SourceType {
    /// A user's inline policy.
    User,
    /// A group's inline policy.
    Group,
    /// A role's inline policy.
    Role,
    /// An AWS managed policy.
    AwsManaged,
    /// A customer managed policy.
    UserManaged,
    /// `ResourcePolicy`.
    Resource,
    /// `PolicyInputList` or `PermissionsBoundaryPolicyInputList`: AWS answers `IAM Policy`.
    Input,
    /// A service control policy of the account's organization.
    Scp,
}

impl SourceType {
    fn as_str(self) -> &'static str {
        match self {
            SourceType::User => "user",
            SourceType::Group => "group",
            SourceType::Role => "role",
            SourceType::AwsManaged => "aws-managed",
            SourceType::UserManaged => "user-managed",
            SourceType::Resource => "resource",
            SourceType::Input => "IAM Policy",
            SourceType::Scp => "none",
        }
    }
}

/// One simulated policy.
#[derive(Debug)]
pub(super) struct Source {
    /// `SourcePolicyId`: the policy's name, or `PolicyInputList.N`.
    id: String,
    kind: SourceType,
    policy: Policy,
    /// An SCP's organization level.
    level: Option<usize>,
}

impl Source {
    pub(super) fn new(id: String, kind: SourceType, policy: Policy) -> Source {
        Source {
            id,
            kind,
            policy,
            level: None,
        }
    }

    pub(super) fn at_level(mut self, level: usize) -> Source {
        self.level = Some(level);
        self
    }
}

/// What to simulate.
#[derive(Debug)]
pub(super) struct Simulation {
    pub(super) actions: Vec<String>,
    /// `ResourceArns`; empty means `*` with no resource-specific results.
    pub(super) resources: Vec<String>,
    pub(super) sources: Vec<Source>,
    /// The indexes in `sources` of each SCP level's policies, root first.
    pub(super) scp_levels: Vec<Vec<usize>>,
    pub(super) resource_policy: bool,
    /// `ResourceOwner`'s account.
    pub(super) resource_owner: Option<String>,
    /// `CallerArn`.
    pub(super) caller: Option<String>,
    /// Who the requests are made by.
    pub(super) principal: Principal,
    pub(super) context: iamlet_engine::ContextMap,
    /// The first action of the page (`Marker`).
    pub(super) start: usize,
    pub(super) max_items: usize,
}

impl Simulation {
    /// Whether `PermissionsBoundaryPolicyInputList` gives the boundary (it replaces the entity's).
    pub(super) fn boundary_given(&self) -> bool {
        self.sources
            .iter()
            .any(|s| s.policy.policy_type() == PolicyType::Boundary)
    }

    /// The engine's policy set: each policy named by its index in `sources`, so that what the
    /// engine reports leads back to its source.
    fn policy_set(&self) -> PolicySet {
        let mut set = PolicySet::new();
        for (i, s) in self.sources.iter().enumerate() {
            if s.level.is_none() {
                set.add(s.policy.clone().with_name(&i.to_string()));
            }
        }
        for level in &self.scp_levels {
            let policies = level
                .iter()
                .filter_map(|&i| {
                    self.sources
                        .get(i)
                        .map(|s| s.policy.clone().with_name(&i.to_string()))
                })
                .collect();
            set.add_scp_level(policies);
        }
        set
    }

    fn source_of(&self, r: &StatementRef) -> Option<&Source> {
        r.policy
            .parse::<usize>()
            .ok()
            .and_then(|i| self.sources.get(i))
    }
}

/// A statement that decided, as AWS writes it.
#[derive(Debug, PartialEq, Eq)]
struct Matched<'a> {
    id: &'a str,
    kind: SourceType,
    start: (usize, usize),
    end: (usize, usize),
}

/// The result on one resource.
#[derive(Debug)]
struct OnResource<'a> {
    resource: String,
    decision: Decision,
    matched: Vec<Matched<'a>>,
    missing: Vec<String>,
    /// `AllowedByOrganizations`, when SCPs take part.
    organizations: Option<bool>,
    /// `AllowedByPermissionsBoundary`, when there is a boundary.
    boundary: Option<bool>,
    /// `EvalDecisionDetails`: absent for `*` in one account, empty for a resource in one account.
    details: Option<Vec<(&'static str, Decision)>>,
}

/// Runs the page of the simulation and writes its result element.
pub(super) fn answer(sim: &Simulation, account: &str) -> Answer {
    let set = sim.policy_set();
    let end = sim
        .start
        .saturating_add(sim.max_items)
        .min(sim.actions.len());
    let mut x = Xml::default();
    x.open("EvaluationResults");
    for action in sim.actions.get(sim.start..end).unwrap_or_default() {
        let resources: Vec<&str> = if sim.resources.is_empty() {
            vec!["*"]
        } else {
            sim.resources.iter().map(String::as_str).collect()
        };
        let results = resources
            .iter()
            .map(|r| on_resource(sim, &set, action, r, account))
            .collect::<Result<Vec<_>, _>>()?;
        x.open("member");
        write_action(&mut x, sim, action, &results);
        x.close("member");
    }
    x.close("EvaluationResults");
    x.flag("IsTruncated", end < sim.actions.len());
    if end < sim.actions.len() {
        x.text("Marker", &end.to_string());
    }
    Ok(x.finish())
}

fn on_resource<'a>(
    sim: &'a Simulation,
    set: &PolicySet,
    action: &str,
    resource: &str,
    account: &str,
) -> Result<OnResource<'a>, IamError> {
    let mut req = Request::of(sim.principal.clone(), action, resource)
        .map_err(|e| IamError::invalid_input(e.to_string()))?
        .with_context(sim.context.clone());
    if let Some(owner) = &sim.resource_owner {
        req = req.with_resource_account(owner.clone());
    } else if sim.principal.account().is_none() {
        req = req.with_resource_account(account);
    }
    let exp = set.explain(&req);
    let missing = set.missing_context_keys(&req);
    let matched = matched(sim, &exp);
    let organizations = (!sim.scp_levels.is_empty()).then(|| allowed_by_organizations(sim, &exp));
    let boundary = sim
        .sources
        .iter()
        .any(|s| s.policy.policy_type() == PolicyType::Boundary)
        .then(|| allowed_by(&exp, |t| t == PolicyType::Boundary));
    let details = if req.is_cross_account() {
        Some(vec![
            ("IAM Policy", side(&exp, |t| t == PolicyType::Identity)),
            (
                "Resource Policy",
                side(&exp, |t| {
                    matches!(t, PolicyType::Resource | PolicyType::Trust)
                }),
            ),
        ])
    } else if resource != "*" {
        Some(Vec::new())
    } else {
        None
    };
    Ok(OnResource {
        resource: resource.to_owned(),
        decision: exp.decision,
        matched,
        missing,
        organizations,
        boundary,
        details,
    })
}

/// `MatchedStatements`: for an explicit deny, the denies that applied; otherwise the identity-based
/// and resource-based allows that applied (an allow a boundary or SCP cut short included: it is
/// what the caller's policies grant).
fn matched<'a>(sim: &'a Simulation, exp: &Explanation) -> Vec<Matched<'a>> {
    let refs: Vec<&StatementRef> = if exp.decision == Decision::ExplicitDeny {
        exp.deciding.iter().collect()
    } else {
        exp.statements
            .iter()
            .filter(|s| {
                s.applies
                    && s.statement.effect == Effect::Allow
                    && matches!(
                        s.statement.policy_type,
                        PolicyType::Identity | PolicyType::Resource | PolicyType::Trust
                    )
            })
            .map(|s| &s.statement)
            .collect()
    };
    let mut out: Vec<Matched<'a>> = Vec::new();
    for r in refs {
        let Some(source) = sim.source_of(r) else {
            continue;
        };
        let Some(loc) = source.policy.statement_location(r.statement) else {
            continue;
        };
        let m = Matched {
            id: &source.id,
            kind: source.kind,
            start: (loc.line, loc.column),
            end: position(source.policy.source(), loc.end),
        };
        if !out.contains(&m) {
            out.push(m);
        }
    }
    out
}

/// The 1-based line and column of a byte offset (columns in characters): a statement's
/// `EndPosition` is the place just past its closing brace.
fn position(text: &str, offset: usize) -> (usize, usize) {
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before.get(line_start..).map_or(0, |s| s.chars().count()) + 1;
    (line, column)
}

/// Whether the statements of the types `is` picks allow: one of them applies with `Allow` and none
/// with `Deny`.
fn allowed_by(exp: &Explanation, is: impl Fn(PolicyType) -> bool) -> bool {
    let mine = || {
        exp.statements
            .iter()
            .filter(|s| s.applies && is(s.statement.policy_type))
    };
    mine().any(|s| s.statement.effect == Effect::Allow)
        && !mine().any(|s| s.statement.effect == Effect::Deny)
}

/// Whether every SCP level allows and no SCP denies.
fn allowed_by_organizations(sim: &Simulation, exp: &Explanation) -> bool {
    let scp = |s: &&iamlet_engine::StatementExplanation| {
        s.applies && s.statement.policy_type == PolicyType::Scp
    };
    let denied = exp
        .statements
        .iter()
        .filter(scp)
        .any(|s| s.statement.effect == Effect::Deny);
    let every_level = (0..sim.scp_levels.len()).all(|l| {
        exp.statements
            .iter()
            .filter(scp)
            .any(|s| s.statement.level == Some(l) && s.statement.effect == Effect::Allow)
    });
    every_level && !denied
}

/// One side's decision across accounts: its denies, else its allows, else nothing.
fn side(exp: &Explanation, is: impl Fn(PolicyType) -> bool) -> Decision {
    let mine = || {
        exp.statements
            .iter()
            .filter(|s| s.applies && is(s.statement.policy_type))
    };
    if mine().any(|s| s.statement.effect == Effect::Deny) {
        Decision::ExplicitDeny
    } else if mine().any(|s| s.statement.effect == Effect::Allow) {
        Decision::Allow
    } else {
        Decision::ImplicitDeny
    }
}

/// AWS's name of a decision.
fn decision_name(d: Decision) -> &'static str {
    match d {
        Decision::Allow => "allowed",
        Decision::ExplicitDeny => "explicitDeny",
        Decision::ImplicitDeny => "implicitDeny",
    }
}

/// Several resources' decision: an explicit deny on one, else an implicit deny on one, else allowed.
fn worst(decisions: impl Iterator<Item = Decision>) -> Decision {
    decisions.fold(Decision::Allow, |w, d| match (w, d) {
        (Decision::ExplicitDeny, _) | (_, Decision::ExplicitDeny) => Decision::ExplicitDeny,
        (Decision::ImplicitDeny, _) | (_, Decision::ImplicitDeny) => Decision::ImplicitDeny,
        _ => Decision::Allow,
    })
}

/// The resource name of an action's result over several resources, as AWS's simulator writes it:
/// the ARN template of the action's resource type that every resource is of, else `*`.
fn template(action: &str, resources: &[&str]) -> String {
    let Some((prefix, name)) = action.split_once(':') else {
        return "*".into();
    };
    let catalog = iamlet_engine::catalog::Catalog::embedded();
    let Some(service) = catalog.service(&prefix.to_ascii_lowercase()) else {
        return "*".into();
    };
    let Some(a) = service.action(name) else {
        return "*".into();
    };
    a.resource_types()
        .iter()
        .filter_map(|i| service.resource_types().get(usize::from(*i)))
        .map(|t| t.arn().replace("${Partition}", "aws"))
        .find(|arn| resources.iter().all(|r| fits(arn, r)))
        .unwrap_or_else(|| "*".into())
}

/// Whether a resource is of the type of an ARN template (each `${…}` standing for any text).
fn fits(template: &str, resource: &str) -> bool {
    let mut parts: Vec<&str> = Vec::new();
    let mut rest = template;
    while let Some(open) = rest.find("${") {
        parts.push(&rest[..open]);
        rest = rest[open..]
            .find('}')
            .map_or("", |close| &rest[open + close + 1..]);
    }
    parts.push(rest);
    let Some((first, tail)) = parts.split_first() else {
        return false;
    };
    let Some(mut left) = resource.strip_prefix(first) else {
        return false;
    };
    let Some((last, middle)) = tail.split_last() else {
        return left.is_empty();
    };
    for p in middle {
        match left.find(p) {
            Some(i) => left = &left[i + p.len()..],
            None => return false,
        }
    }
    left.ends_with(last)
}

fn write_action(x: &mut Xml, sim: &Simulation, action: &str, results: &[OnResource<'_>]) {
    let per_resource = !sim.resources.is_empty();
    let resources: Vec<&str> = results.iter().map(|r| r.resource.as_str()).collect();
    x.text("EvalActionName", action);
    match results {
        [one] => {
            x.text("EvalResourceName", &one.resource)
                .text("EvalDecision", decision_name(one.decision));
            write_matched(x, &one.matched);
            // With ResourceArns, missing keys are reported per resource.
            let none = Vec::new();
            write_missing(x, if per_resource { &none } else { &one.missing });
            write_org(x, one.organizations);
            write_boundary(x, one.boundary);
            write_details(x, one.details.as_deref());
        }
        many => {
            x.text("EvalResourceName", &template(action, &resources))
                .text(
                    "EvalDecision",
                    decision_name(worst(many.iter().map(|r| r.decision))),
                );
            write_matched(x, &[]);
            write_missing(x, &[]);
            let all = |f: fn(&OnResource<'_>) -> Option<bool>| {
                let v: Option<Vec<bool>> = many.iter().map(f).collect();
                v.map(|v| v.into_iter().all(|b| b))
            };
            write_org(x, all(|r| r.organizations));
            write_boundary(x, all(|r| r.boundary));
            if many
                .iter()
                .all(|r| r.details.as_ref().is_some_and(Vec::is_empty))
            {
                write_details(x, Some(&[][..]));
            }
        }
    }
    if per_resource {
        x.list("ResourceSpecificResults", results, |x, r| {
            x.text("EvalResourceName", &r.resource)
                .text("EvalResourceDecision", decision_name(r.decision));
            write_matched(x, &r.matched);
            write_missing(x, &r.missing);
            write_details(x, r.details.as_deref());
            write_boundary(x, r.boundary);
        });
    }
}

fn write_matched(x: &mut Xml, matched: &[Matched<'_>]) {
    x.list("MatchedStatements", matched, |x, m| {
        x.text("SourcePolicyId", m.id)
            .text("SourcePolicyType", m.kind.as_str())
            .open("StartPosition")
            .number("Line", m.start.0)
            .number("Column", m.start.1)
            .close("StartPosition")
            .open("EndPosition")
            .number("Line", m.end.0)
            .number("Column", m.end.1)
            .close("EndPosition");
    });
}

fn write_missing(x: &mut Xml, keys: &[String]) {
    x.list("MissingContextValues", keys, |x, k| {
        x.raw(&iamlet_query::escape(k));
    });
}

fn write_org(x: &mut Xml, allowed: Option<bool>) {
    if let Some(a) = allowed {
        x.open("OrganizationsDecisionDetail")
            .flag("AllowedByOrganizations", a)
            .close("OrganizationsDecisionDetail");
    }
}

fn write_boundary(x: &mut Xml, allowed: Option<bool>) {
    if let Some(a) = allowed {
        x.open("PermissionsBoundaryDecisionDetail")
            .flag("AllowedByPermissionsBoundary", a)
            .close("PermissionsBoundaryDecisionDetail");
    }
}

fn write_details(x: &mut Xml, details: Option<&[(&'static str, Decision)]>) {
    if let Some(d) = details {
        x.open("EvalDecisionDetails");
        for (k, v) in d {
            x.open("entry")
                .text("key", k)
                .text("value", decision_name(*v))
                .close("entry");
        }
        x.close("EvalDecisionDetails");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_count_lines_and_characters() {
        let text = "{\n  \"é\": {\"a\": 1}\n}";
        let brace = text.rfind('}').unwrap();
        assert_eq!(position(text, 0), (1, 1));
        assert_eq!(position(text, text.find("{\"a").unwrap()), (2, 8));
        assert_eq!(position(text, brace + 1), (3, 2));
    }

    #[test]
    fn several_resources_decide_by_the_worst() {
        use Decision::*;
        assert_eq!(worst([Allow, Allow].into_iter()), Allow);
        assert_eq!(worst([Allow, ImplicitDeny].into_iter()), ImplicitDeny);
        assert_eq!(
            worst([ImplicitDeny, ExplicitDeny, Allow].into_iter()),
            ExplicitDeny
        );
        let objects = ["arn:aws:s3:::b/k", "arn:aws:s3:::c/d/e"];
        assert_eq!(
            template("s3:GetObject", &objects),
            "arn:aws:s3:::${BucketName}/${ObjectName}"
        );
        assert_eq!(template("s3:GetObject", &["arn:aws:s3:::b/k", "*"]), "*");
        assert_eq!(template("s3:ListAllMyBuckets", &objects), "*");
        assert!(fits(
            "arn:aws:iam::${Account}:user/${UserName}",
            "arn:aws:iam::1:user/a/b"
        ));
        assert!(!fits(
            "arn:aws:iam::${Account}:user/${UserName}",
            "arn:aws:iam::1:role/a"
        ));
    }
}
