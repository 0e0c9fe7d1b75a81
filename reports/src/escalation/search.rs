//! The search: breadth-first over states — who is acting, and what the account has been changed to
//! so far — from each principal, so paths come out shortest first; a state seen once is not seen
//! again, which handles cycles (A assumes B, B assumes A).

use super::classes::{Class, Gain, Object, On, CLASSES};
use super::world::{Allowed, Change, Pid, World};
use super::{EscalationError, Finding, Options, Step, Target};
use iamlet_engine::ContextMap;
use std::collections::{BTreeSet, HashMap, HashSet, VecDeque};

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct State {
    actor: Pid,
    changes: BTreeSet<Change>,
}

/// Admin probes: what only a principal allowed `*` on `*` (or nearly) is allowed. An action of a
/// service that does not exist is allowed only by `*` (or a `NotAction` that spares it); the rest
/// are the IAM and organization-wide powers that make an administrator.
const ADMIN_PROBES: &[&str] = &[
    "iamlet-probe:AnyAction",
    "iam:CreateUser",
    "iam:AttachRolePolicy",
    "iam:PutUserPolicy",
    "iam:CreateAccessKey",
    "s3:DeleteBucket",
    "ec2:TerminateInstances",
    "kms:ScheduleKeyDeletion",
];

/// Whether the state's actor holds the target; `Some(conditions)` when it does.
fn reaches(
    world: &mut World<'_>,
    state: &State,
    target: &Target,
) -> Result<Option<Vec<String>>, EscalationError> {
    let probes: Vec<(String, String)> = match target {
        Target::Admin => ADMIN_PROBES
            .iter()
            .map(|a| ((*a).to_owned(), "*".to_owned()))
            .collect(),
        Target::Actions(list) => list.clone(),
    };
    let mut conditions = Vec::new();
    for (action, resource) in probes {
        match world.allowed(
            state.actor,
            &state.changes,
            &action,
            &resource,
            ContextMap::new(),
        )? {
            Some(a) => conditions.extend(a.conditions),
            None => return Ok(None),
        }
    }
    conditions.sort();
    conditions.dedup();
    Ok(Some(conditions))
}

fn fill(text: &str, object: &str, version: &str, admin: &str, account: &str) -> String {
    text.replace("{object}", object)
        .replace("{version}", version)
        .replace("{admin}", admin)
        .replace("{account}", account)
}

/// The steps of `class` done by `actor` on `object`, when the engine allows each.
#[allow(clippy::too_many_arguments)]
fn try_class(
    world: &mut World<'_>,
    actor: Pid,
    changes: &BTreeSet<Change>,
    class: &Class,
    object: &str,
    version: &str,
    role: Option<Pid>,
) -> Result<Option<Vec<Step>>, EscalationError> {
    let compiled = world.compiled(actor, changes)?;
    let filter = compiled.filter;
    let actor_arn = world.principals[actor].arn.clone();
    let account = world.principals[actor].account.clone();
    let admin = world.admin_policy();
    let mut changes = changes.clone();
    let mut steps = Vec::new();
    for (i, act) in class.acts.iter().enumerate() {
        let assume = act.action == "sts:AssumeRole";
        if class.gain == Gain::TrustThenSession && assume {
            if let Some(r) = role {
                changes.insert(Change::Trusts(r, actor));
            }
        } else if assume {
            // A trust policy naming the caller (or everyone) allows it without an identity allow.
            let named = role
                .and_then(|r| world.principals[r].trust.as_ref())
                .is_some_and(|t| t.source().contains(&actor_arn) || t.source().contains("\"*\""));
            if !named && !filter.may_allow_on(act.action, object) {
                return Ok(None);
            }
        } else if !filter.may_allow(act.action)
            || (act.on == On::Object && !filter.may_allow_on(act.action, object))
        {
            return Ok(None);
        }
        let mut context = ContextMap::new();
        for (k, v) in act.context {
            let service = match class.object {
                Object::RoleTrusting(s) => s,
                _ => "",
            };
            let value = fill(v, object, version, admin, &account).replace("{service}", service);
            context.insert(k, value);
        }
        let candidates = match act.on {
            On::Object => vec![object.to_owned()],
            On::Created(tpl) => {
                let mut c = vec![fill(tpl, object, version, admin, &account)];
                c.extend(filter.resources_for(act.action));
                c
            }
        };
        let mut found: Option<(String, Allowed)> = None;
        for resource in candidates {
            if let Some(a) =
                world.allowed(actor, &changes, act.action, &resource, context.clone())?
            {
                found = Some((resource, a));
                break;
            }
        }
        let Some((resource, allowed)) = found else {
            return Ok(None);
        };
        let mut conditions = allowed.conditions;
        if i + 1 == class.acts.len() {
            if let Some(a) = class.assumes {
                conditions.push(fill(a, object, version, admin, &account));
            }
        }
        steps.push(Step {
            class: class.name,
            principal: actor_arn.clone(),
            action: act.action.to_owned(),
            resource,
            statement: allowed
                .statements
                .iter()
                .map(|s| s.describe())
                .collect::<Vec<_>>()
                .join("; "),
            gains: fill(act.gives, object, version, admin, &account).replace(
                "{service}",
                match class.object {
                    Object::RoleTrusting(s) => s,
                    _ => "",
                },
            ),
            conditions,
        });
    }
    Ok(Some(steps))
}

/// Every state one step (one class) away.
fn expand(
    world: &mut World<'_>,
    state: &State,
) -> Result<Vec<(State, Vec<Step>)>, EscalationError> {
    let actor = state.actor;
    let mut out = Vec::new();
    let mut reachable: Vec<Pid> = Vec::new();
    let filter = world.compiled(actor, &state.changes)?.filter;
    for class in CLASSES {
        let becomes = matches!(
            class.gain,
            Gain::Credentials | Gain::Session | Gain::TrustThenSession
        );
        // Spare the engine the classes no statement of the actor's could allow. `sts:AssumeRole`
        // needs no identity allow when the trust policy names the caller (or, after a change,
        // trusts it).
        let possible = class
            .acts
            .iter()
            .all(|a| a.action == "sts:AssumeRole" || filter.may_allow(a.action));
        if !becomes || !possible {
            continue;
        }
        let candidates: Vec<Pid> = match class.object {
            Object::OtherUser => world.users.clone().collect(),
            Object::Role if class.gain == Gain::Session && !filter.may_allow("sts:AssumeRole") => {
                world.named_in_trust(actor)
            }
            _ => world.roles.clone().collect(),
        };
        for obj in candidates {
            if obj == actor {
                continue;
            }
            let fits = match class.object {
                Object::OtherUser => !world.principals[obj].is_role,
                Object::Role => world.principals[obj].is_role,
                Object::RoleTrusting(service) => {
                    world.principals[obj].is_role && world.trusts_service(obj, service)
                }
                _ => false,
            };
            if !fits || (class.gain == Gain::TrustThenSession && reachable.contains(&obj)) {
                continue;
            }
            let arn = world.principals[obj].arn.clone();
            let Some(steps) = try_class(world, actor, &state.changes, class, &arn, "", Some(obj))?
            else {
                continue;
            };
            let mut changes = state.changes.clone();
            if class.gain == Gain::TrustThenSession {
                changes.insert(Change::Trusts(obj, actor));
            }
            if !reachable.contains(&obj) {
                reachable.push(obj);
            }
            out.push((
                State {
                    actor: obj,
                    changes,
                },
                steps,
            ));
        }
    }
    // Changes: to the actor itself, and to whoever it can become next.
    let subjects: Vec<Pid> = std::iter::once(actor).chain(reachable).collect();
    let changing: Vec<&Class> = CLASSES
        .iter()
        .filter(|c| c.acts.iter().all(|a| filter.may_allow(a.action)))
        .collect();
    for subject in subjects {
        for class in &changing {
            for (object, version, change) in objects(world, state, subject, class) {
                if state.changes.contains(&change) {
                    continue;
                }
                let Some(steps) =
                    try_class(world, actor, &state.changes, class, &object, &version, None)?
                else {
                    continue;
                };
                let mut changes = state.changes.clone();
                changes.insert(change);
                out.push((State { actor, changes }, steps));
            }
        }
    }
    Ok(out)
}

/// What a changing class can be done to for `subject`: (object ARN, version, the change).
fn objects(
    world: &World<'_>,
    state: &State,
    subject: Pid,
    class: &Class,
) -> Vec<(String, String, Change)> {
    let info = &world.principals[subject];
    let none = String::new;
    match (class.object, class.gain) {
        (Object::SubjectUser, Gain::NewPolicy) if !info.is_role => {
            vec![(
                info.arn.clone(),
                none(),
                Change::NewPolicy(info.arn.clone()),
            )]
        }
        (Object::SubjectRole, Gain::NewPolicy) if info.is_role => {
            vec![(
                info.arn.clone(),
                none(),
                Change::NewPolicy(info.arn.clone()),
            )]
        }
        (Object::SubjectUser, Gain::NoBoundary) if !info.is_role && info.boundary.is_some() => {
            vec![(info.arn.clone(), none(), Change::NoBoundary(subject))]
        }
        (Object::SubjectRole, Gain::NoBoundary) if info.is_role && info.boundary.is_some() => {
            vec![(info.arn.clone(), none(), Change::NoBoundary(subject))]
        }
        (Object::SubjectGroup, Gain::NewPolicy) => {
            let joined = state.changes.iter().filter_map(|c| match c {
                Change::Join(u, g) if *u == subject => Some(g.clone()),
                _ => None,
            });
            info.groups
                .iter()
                .cloned()
                .chain(joined)
                .map(|g| (g.clone(), none(), Change::NewPolicy(g)))
                .collect()
        }
        (Object::AnyGroup, Gain::JoinGroup) if !info.is_role => world
            .groups
            .values()
            .filter(|g| g.account == info.account && !info.groups.contains(&g.arn))
            .map(|g| (g.arn.clone(), none(), Change::Join(subject, g.arn.clone())))
            .collect(),
        (Object::SubjectPolicy, Gain::NewPolicyVersion) => info
            .policies
            .iter()
            .chain(info.boundary.iter())
            .filter(|p| world.managed.contains_key(*p) && !p.starts_with("arn:aws:iam::aws:"))
            .map(|p| (p.clone(), none(), Change::NewVersion(p.clone())))
            .collect(),
        (Object::SubjectPolicy, Gain::OtherPolicyVersion) => info
            .policies
            .iter()
            .chain(info.boundary.iter())
            .filter(|p| !p.starts_with("arn:aws:iam::aws:"))
            .flat_map(|p| {
                world
                    .managed
                    .get(p)
                    .map(|m| {
                        m.other_versions
                            .iter()
                            .map(|(v, _)| v.clone())
                            .collect::<Vec<String>>()
                    })
                    .unwrap_or_default()
                    .into_iter()
                    .map(move |v| (p.clone(), v.clone(), Change::OtherVersion(p.clone(), v)))
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// How a state was reached: its parent's index and the steps from there.
type Parent = (usize, Vec<Step>);

/// The paths from one principal, shortest first.
pub(crate) fn from(
    world: &mut World<'_>,
    start: Pid,
    options: &Options,
) -> Result<Option<Finding>, EscalationError> {
    let first = State {
        actor: start,
        changes: BTreeSet::new(),
    };
    let principal = world.principals[start].arn.clone();
    if reaches(world, &first, &options.target)?.is_some() {
        return Ok(Some(Finding {
            principal,
            already: true,
            paths: Vec::new(),
        }));
    }
    // Each state with the step that reached it from its parent.
    let mut states: Vec<(State, Option<Parent>)> = vec![(first.clone(), None)];
    let mut seen: HashMap<State, usize> = HashMap::from([(first, 0)]);
    let mut queue = VecDeque::from([0usize]);
    let mut paths: Vec<Vec<Step>> = Vec::new();
    let mut distinct: HashSet<Vec<(String, String, String)>> = HashSet::new();
    while let Some(i) = queue.pop_front() {
        if paths.len() >= options.max_paths || states.len() >= options.max_states {
            break;
        }
        let state = states[i].0.clone();
        for (next, steps) in expand(world, &state)? {
            if seen.contains_key(&next) {
                continue;
            }
            let j = states.len();
            seen.insert(next.clone(), j);
            states.push((next.clone(), Some((i, steps))));
            if let Some(conditions) = reaches(world, &next, &options.target)? {
                let mut path = Vec::new();
                let mut k = j;
                while let Some((parent, steps)) = &states[k].1 {
                    path.splice(0..0, steps.iter().cloned());
                    k = *parent;
                }
                if let Some(last) = path.last_mut() {
                    for c in conditions {
                        if !last.conditions.contains(&c) {
                            last.conditions.push(c);
                        }
                    }
                }
                let key = path
                    .iter()
                    .map(|s| (s.principal.clone(), s.action.clone(), s.resource.clone()))
                    .collect();
                if distinct.insert(key) {
                    paths.push(path);
                }
                if paths.len() >= options.max_paths {
                    break;
                }
            } else {
                queue.push_back(j);
            }
        }
    }
    paths.sort_by_key(Vec::len);
    Ok((!paths.is_empty()).then_some(Finding {
        principal,
        already: false,
        paths,
    }))
}
