//! The account as the search sees it: its users, groups, roles and managed policies, the changes an
//! escalation makes to them ([`Change`]), and each principal's policy set under a set of changes,
//! compiled once by [`iamlet_account`] and decided by the engine.

use super::classes::ADMIN_POLICY_ARN;
use super::filter::ActionFilter;
use super::EscalationError;
use iamlet_account::export::AccountDetails;
use iamlet_account::organization::Organization;
use iamlet_account::{prepare, Parts, PrincipalKey, Query, Resolved, Snapshot};
use iamlet_engine::{
    ContextMap, Decision, Policy, PolicySet, PolicyType, Reason, Request, StatementRef,
};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

/// The session name the search's role sessions carry.
const SESSION: &str = "iamlet-escalation";

/// A document granting everything: what an actor writes when it may write any policy.
const ALLOW_ALL: &str =
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;

/// An index into [`World::principals`].
pub(crate) type Pid = usize;

/// A principal: an IAM user or role.
#[derive(Debug)]
pub(crate) struct PrincipalInfo {
    /// The ARN as the export gives it (path included).
    pub(crate) arn: String,
    /// The ARN the requests it makes carry: the user's, or a session of the role.
    pub(crate) caller: String,
    pub(crate) account: String,
    pub(crate) is_role: bool,
    /// Group ARNs (users).
    pub(crate) groups: Vec<String>,
    /// Customer managed policies that apply: attached to it or its groups (ARNs).
    pub(crate) policies: Vec<String>,
    /// Its permissions boundary's ARN.
    pub(crate) boundary: Option<String>,
    pub(crate) tags: Vec<(String, String)>,
    /// A role's trust policy.
    pub(crate) trust: Option<Policy>,
    key: PrincipalKey,
}

/// A group.
#[derive(Debug)]
pub(crate) struct GroupInfo {
    pub(crate) arn: String,
    pub(crate) account: String,
    /// Its policies as the engine reads them (inline, then managed).
    policies: Vec<Policy>,
}

/// A customer managed policy's stored versions.
#[derive(Debug)]
pub(crate) struct ManagedInfo {
    /// Versions not in force: (version id, document).
    pub(crate) other_versions: Vec<(String, Policy)>,
}

/// A change an escalation makes to the account. Changes only add permissions.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Change {
    /// A policy of the actor's choosing on a user, group or role (by ARN).
    NewPolicy(String),
    /// A managed policy's new default version, of the actor's choosing.
    NewVersion(String),
    /// A managed policy's other stored version put in force: (policy ARN, version id).
    OtherVersion(String, String),
    /// A user (by index) joins a group (ARN).
    Join(Pid, String),
    /// A principal's boundary removed.
    NoBoundary(Pid),
    /// A role's trust policy rewritten to trust a principal: (role, trusted).
    Trusts(Pid, Pid),
}

/// The account, indexed, with compiled policy sets cached per principal and changes.
pub(crate) struct World<'a> {
    snapshot: Snapshot,
    org: Option<&'a Organization>,
    pub(crate) principals: Vec<PrincipalInfo>,
    pub(crate) by_arn: HashMap<String, Pid>,
    /// The users and the roles (users first).
    pub(crate) users: std::ops::Range<Pid>,
    pub(crate) roles: std::ops::Range<Pid>,
    /// Each principal's policies with no change made, compiled.
    base: Vec<Option<Compiled>>,
    /// Roles whose trust policy names a principal ARN (or everyone, under `*`).
    trust_names: HashMap<String, Vec<Pid>>,
    pub(crate) groups: BTreeMap<String, GroupInfo>,
    pub(crate) managed: HashMap<String, ManagedInfo>,
    allow_all: Policy,
    cache: HashMap<(Pid, Vec<Change>), Compiled>,
    trust_cache: HashMap<(Pid, &'static str), bool>,
}

/// A principal's policies under some changes: compiled, and at a glance.
#[derive(Clone)]
pub(crate) struct Compiled {
    pub(crate) resolved: Arc<Resolved>,
    pub(crate) filter: Arc<ActionFilter>,
}

/// What the engine said of one request: allowed (with the statements), or allowed only if
/// condition keys the account cannot know have these values.
#[derive(Clone, Debug)]
pub(crate) struct Allowed {
    pub(crate) statements: Vec<StatementRef>,
    /// "`aws:SourceIp` is `10.0.0.0/8`": what must hold for the allow.
    pub(crate) conditions: Vec<String>,
}

fn parse(name: &str, text: &str, ty: PolicyType) -> Option<Policy> {
    Policy::parse_named(name, text, ty).ok()
}

impl<'a> World<'a> {
    /// Indexes exports (already checked by [`Snapshot::build`]).
    pub(crate) fn new(
        exports: &[(String, AccountDetails)],
        org: Option<&'a Organization>,
    ) -> Result<Self, EscalationError> {
        let snapshot = Snapshot::build(exports, "account")?;
        let allow_all =
            Policy::parse_named("escalation:new-policy", ALLOW_ALL, PolicyType::Identity)
                .map_err(|e| EscalationError::Internal(e.to_string()))?;
        let mut world = World {
            snapshot,
            org,
            principals: Vec::new(),
            by_arn: HashMap::new(),
            users: 0..0,
            roles: 0..0,
            base: Vec::new(),
            trust_names: HashMap::new(),
            groups: BTreeMap::new(),
            managed: HashMap::new(),
            allow_all,
            cache: HashMap::new(),
            trust_cache: HashMap::new(),
        };
        let mut default_docs: HashMap<String, Policy> = HashMap::new();
        let mut aws_managed: BTreeSet<String> = BTreeSet::new();
        for (_, d) in exports {
            for p in &d.policies {
                if p.arn.starts_with("arn:aws:iam::aws:") {
                    aws_managed.insert(p.arn.clone());
                }
                let mut others = Vec::new();
                for v in &p.policy_version_list {
                    let Some(doc) = &v.document else { continue };
                    let Some(policy) = parse(&p.arn, doc.text(), PolicyType::Identity) else {
                        continue;
                    };
                    if v.is_default_version {
                        default_docs.insert(p.arn.clone(), policy);
                    } else {
                        others.push((v.version_id.clone(), policy));
                    }
                }
                world.managed.insert(
                    p.arn.clone(),
                    ManagedInfo {
                        other_versions: others,
                    },
                );
            }
        }
        let customer = |arns: &[String]| -> Vec<String> {
            arns.iter()
                .filter(|a| !aws_managed.contains(*a))
                .cloned()
                .collect()
        };
        let account_of = |arn: &str| arn.split(':').nth(4).unwrap_or_default().to_owned();
        let mut group_attached: HashMap<(String, String), Vec<String>> = HashMap::new();
        for (_, d) in exports {
            for g in &d.group_detail_list {
                let account = account_of(&g.arn);
                let mut policies: Vec<Policy> = g
                    .group_policy_list
                    .iter()
                    .filter_map(|p| {
                        parse(
                            &format!("group/{}:inline/{}", g.group_name, p.policy_name),
                            p.policy_document.text(),
                            PolicyType::Identity,
                        )
                    })
                    .collect();
                let attached: Vec<String> = g
                    .attached_managed_policies
                    .iter()
                    .map(|a| a.policy_arn.clone())
                    .collect();
                policies.extend(attached.iter().filter_map(|a| default_docs.get(a).cloned()));
                group_attached.insert((account.clone(), g.group_name.clone()), attached);
                world.groups.insert(
                    g.arn.clone(),
                    GroupInfo {
                        arn: g.arn.clone(),
                        account,
                        policies,
                    },
                );
            }
        }
        let group_arn = |account: &str, name: &str| {
            world
                .groups
                .values()
                .find(|g| g.account == account && g.arn.rsplit('/').next() == Some(name))
                .map(|g| g.arn.clone())
        };
        let mut principals = Vec::new();
        for (_, d) in exports {
            for u in &d.user_detail_list {
                let account = account_of(&u.arn);
                let mut attached: Vec<String> = u
                    .attached_managed_policies
                    .iter()
                    .map(|a| a.policy_arn.clone())
                    .collect();
                let mut groups = Vec::new();
                for g in &u.group_list {
                    if let Some(arn) = group_arn(&account, g) {
                        groups.push(arn);
                    }
                    if let Some(list) = group_attached.get(&(account.clone(), g.clone())) {
                        attached.extend(list.iter().cloned());
                    }
                }
                attached.sort();
                attached.dedup();
                principals.push(PrincipalInfo {
                    key: PrincipalKey::for_principal(&u.arn, None)?,
                    caller: u.arn.clone(),
                    arn: u.arn.clone(),
                    account,
                    is_role: false,
                    groups,
                    policies: customer(&attached),
                    boundary: u
                        .permissions_boundary
                        .as_ref()
                        .map(|b| b.permissions_boundary_arn.clone()),
                    tags: u
                        .tags
                        .iter()
                        .map(|t| (t.key.clone(), t.value.clone()))
                        .collect(),
                    trust: None,
                });
            }
        }
        // Roles after every user: `users` and `roles` are then two ranges of indexes.
        for (_, d) in exports {
            for r in &d.role_detail_list {
                let account = account_of(&r.arn);
                let attached: Vec<String> = r
                    .attached_managed_policies
                    .iter()
                    .map(|a| a.policy_arn.clone())
                    .collect();
                let caller = format!(
                    "arn:aws:sts::{account}:assumed-role/{}/{SESSION}",
                    r.role_name
                );
                principals.push(PrincipalInfo {
                    key: PrincipalKey::for_principal(&caller, None)?,
                    caller,
                    arn: r.arn.clone(),
                    account,
                    is_role: true,
                    groups: Vec::new(),
                    policies: customer(&attached),
                    boundary: r
                        .permissions_boundary
                        .as_ref()
                        .map(|b| b.permissions_boundary_arn.clone()),
                    tags: r
                        .tags
                        .iter()
                        .map(|t| (t.key.clone(), t.value.clone()))
                        .collect(),
                    trust: r.assume_role_policy_document.as_ref().and_then(|doc| {
                        parse(
                            &format!("role/{}:trust", r.role_name),
                            doc.text(),
                            PolicyType::Trust,
                        )
                    }),
                });
            }
        }
        for (i, p) in principals.iter().enumerate() {
            world.by_arn.insert(p.arn.clone(), i);
            if p.is_role {
                for name in p.trust.iter().flat_map(|t| trusted_names(t.source())) {
                    world.trust_names.entry(name).or_default().push(i);
                }
            }
        }
        let users = principals.iter().take_while(|p| !p.is_role).count();
        world.users = 0..users;
        world.roles = users..principals.len();
        world.base = vec![None; principals.len()];
        world.principals = principals;
        Ok(world)
    }

    /// The roles whose trust policy names `pid` itself (or everyone): those it may assume without an
    /// identity-based allow.
    pub(crate) fn named_in_trust(&self, pid: Pid) -> Vec<Pid> {
        let mut out: Vec<Pid> = ["*", self.principals[pid].arn.as_str()]
            .iter()
            .filter_map(|n| self.trust_names.get(*n))
            .flatten()
            .copied()
            .collect();
        out.sort_unstable();
        out.dedup();
        out
    }

    /// The changes that bear on `pid`'s own policies, sorted: the cache key.
    fn relevant(&self, pid: Pid, changes: &BTreeSet<Change>) -> Vec<Change> {
        let p = &self.principals[pid];
        changes
            .iter()
            .filter(|c| match c {
                Change::NewPolicy(arn) => {
                    *arn == p.arn
                        || p.groups.contains(arn)
                        || changes.contains(&Change::Join(pid, arn.clone()))
                }
                Change::NewVersion(arn) | Change::OtherVersion(arn, _) => {
                    p.policies.contains(arn) || p.boundary.as_ref() == Some(arn)
                }
                Change::Join(u, _) | Change::NoBoundary(u) => *u == pid,
                Change::Trusts(..) => false,
            })
            .cloned()
            .collect()
    }

    /// `pid`'s policies under `changes`, compiled (and cached).
    pub(crate) fn compiled(
        &mut self,
        pid: Pid,
        changes: &BTreeSet<Change>,
    ) -> Result<Compiled, EscalationError> {
        if changes.is_empty() {
            if let Some(Some(c)) = self.base.get(pid) {
                return Ok(c.clone());
            }
        }
        let relevant = self.relevant(pid, changes);
        if relevant.is_empty() {
            if let Some(Some(c)) = self.base.get(pid) {
                return Ok(c.clone());
            }
        } else if let Some(r) = self.cache.get(&(pid, relevant.clone())) {
            return Ok(r.clone());
        }
        let info = &self.principals[pid];
        let mut parts: Parts = self.snapshot.parts(&info.key)?;
        for c in &relevant {
            self.apply(&mut parts, pid, c);
        }
        let username = (!info.is_role).then(|| info.arn.rsplit('/').next().unwrap_or_default());
        let filter = Arc::new(ActionFilter::of(&parts.identity, username));
        let compiled = Compiled {
            resolved: Arc::new(parts.assemble(self.org)),
            filter,
        };
        if relevant.is_empty() {
            self.base[pid] = Some(compiled.clone());
        } else {
            self.cache.insert((pid, relevant), compiled.clone());
        }
        Ok(compiled)
    }

    fn apply(&self, parts: &mut Parts, pid: Pid, change: &Change) {
        let info = &self.principals[pid];
        match change {
            Change::NewPolicy(_) => parts.identity.push(self.allow_all.clone()),
            Change::NewVersion(arn) => {
                replace(&mut parts.identity, arn, &self.allow_all);
                if info.boundary.as_ref() == Some(arn) {
                    parts.boundary = None;
                }
            }
            Change::OtherVersion(arn, version) => {
                let doc = self.managed.get(arn).and_then(|m| {
                    m.other_versions
                        .iter()
                        .find(|(v, _)| v == version)
                        .map(|(_, p)| p.clone())
                });
                if let Some(doc) = doc {
                    if info.boundary.as_ref() == Some(arn) {
                        parts.boundary = parse(arn, doc.source(), PolicyType::Boundary);
                    }
                    replace(&mut parts.identity, arn, &doc);
                }
            }
            Change::Join(_, group) => {
                if let Some(g) = self.groups.get(group) {
                    parts.identity.extend(g.policies.iter().cloned());
                    parts.groups.push(g.arn.clone());
                }
            }
            Change::NoBoundary(_) => parts.boundary = None,
            Change::Trusts(..) => {}
        }
    }

    /// Whether `service` may assume role `role` by its trust policy (whatever the service's
    /// request carries, such as `aws:SourceAccount`, is the service's to set).
    pub(crate) fn trusts_service(&mut self, role: Pid, service: &'static str) -> bool {
        if let Some(b) = self.trust_cache.get(&(role, service)) {
            return *b;
        }
        let info = &self.principals[role];
        let ok = match (
            &info.trust,
            Request::new(service, "sts:AssumeRole", &info.arn),
        ) {
            (Some(trust), Ok(req)) => {
                let mut set = PolicySet::new();
                set.add(trust.clone());
                decide(&set, req).is_some()
            }
            _ => false,
        };
        self.trust_cache.insert((role, service), ok);
        ok
    }

    /// Whether the actor may do `action` on `resource` with these condition keys, under `changes`.
    /// For `sts:` actions on a role, the role's trust policy (or the one a change gave it) decides
    /// too.
    pub(crate) fn allowed(
        &mut self,
        actor: Pid,
        changes: &BTreeSet<Change>,
        action: &str,
        resource: &str,
        context: ContextMap,
    ) -> Result<Option<Allowed>, EscalationError> {
        let resolved = self.compiled(actor, changes)?.resolved;
        let mut context = context;
        // The account knows the tags of its users and roles: `aws:ResourceTag/…` of requests on them.
        if let Some(&target) = self.by_arn.get(resource) {
            for (k, v) in &self.principals[target].tags {
                context.insert_owned(format!("aws:ResourceTag/{k}"), v.as_str());
            }
        }
        let trust = match self.by_arn.get(resource) {
            Some(&role)
                if action.to_ascii_lowercase().starts_with("sts:")
                    && self.principals[role].is_role =>
            {
                if changes.contains(&Change::Trusts(role, actor)) {
                    let doc = format!(
                        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"{}"}},"Action":"sts:AssumeRole"}}]}}"#,
                        self.principals[actor].arn
                    );
                    parse("escalation:new-trust", &doc, PolicyType::Trust)
                } else {
                    match &self.principals[role].trust {
                        Some(t) => Some(t.clone()),
                        // A role without a trust policy cannot be assumed.
                        None => return Ok(None),
                    }
                }
            }
            _ => None,
        };
        let query = Query {
            principal: self.principals[actor].caller.clone(),
            session_issuer: None,
            action: action.to_owned(),
            resource: resource.to_owned(),
            resource_account: None,
            context,
        };
        let prepared = prepare(resolved, query, self.org, trust)?;
        Ok(decide(prepared.policy_set(), prepared.request().clone()))
    }

    /// The ARN of AWS's `AdministratorAccess`.
    pub(crate) fn admin_policy(&self) -> &'static str {
        ADMIN_POLICY_ARN
    }
}

/// The `AWS` principals a trust policy's statements name (`*` for everyone).
fn trusted_names(text: &str) -> Vec<String> {
    let Ok(doc) = serde_json::from_str::<serde_json::Value>(text) else {
        return vec!["*".to_owned()];
    };
    let list = match doc.get("Statement") {
        Some(serde_json::Value::Array(a)) => a.clone(),
        Some(s) => vec![s.clone()],
        None => Vec::new(),
    };
    let mut out = Vec::new();
    for s in list {
        let aws = match s.get("Principal").or_else(|| s.get("NotPrincipal")) {
            Some(serde_json::Value::String(p)) => vec![serde_json::Value::String(p.clone())],
            Some(p) => match p.get("AWS") {
                Some(serde_json::Value::Array(a)) => a.clone(),
                Some(v) => vec![v.clone()],
                None => Vec::new(),
            },
            None => Vec::new(),
        };
        if s.get("NotPrincipal").is_some() {
            out.push("*".to_owned());
        }
        out.extend(aws.iter().filter_map(|v| v.as_str().map(str::to_owned)));
    }
    out
}

/// Replaces the managed policy named `arn` in `list` by `with` (renamed to it).
fn replace(list: &mut [Policy], arn: &str, with: &Policy) {
    for p in list.iter_mut().filter(|p| p.name() == arn) {
        *p = with.clone().with_name(arn);
    }
}

/// Keys whose value a request made by the attacker would carry that the account cannot know, with
/// the value most favourable to the attacker when no allowing statement names one.
const DEFAULTS: &[(&str, &str)] = &[
    ("aws:multifactorpresent", "true"),
    ("aws:multifactorauthage", "0"),
    ("aws:securetransport", "true"),
    ("aws:viaawsservice", "false"),
];

/// Decides `req`; when it is denied for want of condition keys the account cannot know (source IP,
/// MFA, VPC…), tries again with the values the allowing statements compare them with (and
/// favourable defaults), and reports those as conditions.
pub(crate) fn decide(set: &PolicySet, req: Request) -> Option<Allowed> {
    let verdict = set.decide(&req);
    if verdict.decision == Decision::Allow {
        return Some(Allowed {
            statements: verdict.deciding,
            conditions: Vec::new(),
        });
    }
    let mut req = req;
    let mut conditions: Vec<String> = Vec::new();
    // Each round fills the keys the explanation names first; a statement with several missing
    // keys needs a round per key.
    for _ in 0..4 {
        let missing = set.missing_context_keys(&req);
        if missing.is_empty() {
            return None;
        }
        let explanation = set.explain(&req);
        let mut filled = false;
        for s in &explanation.statements {
            if s.statement.effect != iamlet_engine::Effect::Allow {
                continue;
            }
            if let Some(Reason::ConditionNotMet {
                key,
                policy_values,
                operator,
                request_values: None,
                ..
            }) = &s.reason
            {
                if req.context().contains(key) {
                    continue;
                }
                let Some(first) = policy_values.first() else {
                    continue;
                };
                // A CIDR stands for an address in it.
                let value = if operator.contains("IpAddress") {
                    first.split('/').next().unwrap_or(first).to_owned()
                } else {
                    first.replace('*', "x")
                };
                req.context_mut().insert(key, value);
                conditions.push(format!("{key} {operator} {}", policy_values.join(" or ")));
                filled = true;
            }
        }
        for key in &missing {
            if req.context().contains(key) {
                continue;
            }
            if let Some((_, v)) = DEFAULTS.iter().find(|(k, _)| key.eq_ignore_ascii_case(k)) {
                req.context_mut().insert(key, *v);
                conditions.push(format!("{key} is {v}"));
                filled = true;
            }
        }
        if !filled {
            return None;
        }
        let verdict = set.decide(&req);
        if verdict.decision == Decision::Allow {
            conditions.sort();
            conditions.dedup();
            return Some(Allowed {
                statements: verdict.deciding,
                conditions,
            });
        }
    }
    None
}
