//! The Policy Simulator: `SimulatePrincipalPolicy` (a user's, group's or role's policies from the
//! database, plus any given) and `SimulateCustomPolicy` (only the given ones), each action decided
//! by the engine on each resource and answered in AWS's `EvaluationResults` shape.
//!
//! The request is read here (AWS's members and rules; every violation `InvalidInput`, the only
//! client error AWS lists for these calls besides `NoSuchEntity`); [`evaluate`] runs the engine and
//! writes the results.

mod evaluate;

use crate::ctx::Ctx;
use crate::Answer;
use evaluate::{Simulation, Source, SourceType};
use iamlet_engine::{ContextMap, ContextValue, Policy, PolicyType, Principal};
use iamlet_iam_store::export::{Details, PrincipalRef};
use iamlet_iam_store::{ErrorCode, IamError, Name, NameKind};

/// A policy document's largest size (`policyDocumentType`).
const MAX_DOCUMENT: usize = 131_072;

/// `SimulatePrincipalPolicy`: authorized as `iam:SimulatePrincipalPolicy` on `PolicySourceArn`
/// before the entity is looked up.
pub(crate) async fn principal(c: &mut Ctx<'_>) -> Answer {
    let source_arn = c.req.arn("PolicySourceArn")?;
    let source = SourceArn::parse(&source_arn)?;
    let mut sim = read(c)?;
    let account = c.iam.account_id().to_owned();
    if source.account != account {
        // Another account's entity: the caller may or may not learn that it is not here.
        c.allow(&source_arn, Vec::new()).await?;
        return Err(IamError::no_such_entity(format!(
            "The {} with name {} cannot be found.",
            source.kind.noun(),
            source.name
        )));
    }
    let (which, entity_arn) = match source.kind {
        Kind::User => (
            PrincipalRef::User(&source.name),
            c.target_user(&source.name, Vec::new()).await?.arn,
        ),
        Kind::Role => (
            PrincipalRef::Role(&source.name),
            c.target_role(&source.name, Vec::new()).await?.arn,
        ),
        Kind::Group => (
            PrincipalRef::Group(&source.name),
            c.target_group(&source.name).await?.arn,
        ),
    };
    let details = c
        .iam
        .principal_details(&mut c.tx, which)
        .await?
        .ok_or_else(|| {
            IamError::no_such_entity(format!(
                "The {} with name {} cannot be found.",
                source.kind.noun(),
                source.name
            ))
        })?;
    let stored = stored_sources(&details, sim.boundary_given())?;
    sim.sources.splice(0..0, stored);
    // The caller: `CallerArn`, else the user or role itself; a group has none of its own.
    sim.principal = match (&sim.caller, source.kind) {
        (Some(caller), _) => principal_of(caller)?,
        (None, Kind::User | Kind::Role) => principal_of(&entity_arn)?,
        (None, Kind::Group) => {
            if sim.resource_policy {
                return Err(IamError::invalid_input(
                    "CallerArn is required when a ResourcePolicy is given and PolicySourceArn is not a user",
                ));
            }
            unnamed(&account)?
        }
    };
    // The account's SCPs, level by level, as AWS's simulator includes them.
    if let Some(org) = c.api.store.organization() {
        if org.scps_enabled() {
            for (l, level) in org.levels(&account).iter().enumerate() {
                let mut members = Vec::new();
                for p in &level.scps {
                    members.push(sim.sources.len());
                    let source = Source::new(p.name().to_owned(), SourceType::Scp, p.clone());
                    sim.sources.push(source.at_level(l));
                }
                sim.scp_levels.push(members);
            }
        }
    }
    evaluate::answer(&sim, &account)
}

/// `SimulateCustomPolicy`: authorized as `iam:SimulateCustomPolicy` on `*`.
pub(crate) async fn custom(c: &mut Ctx<'_>) -> Answer {
    let mut sim = read(c)?;
    if c.req.0.member_count("PolicyInputList") == 0 {
        return Err(iamlet_iam_store::names::missing("PolicyInputList"));
    }
    c.allow("*", Vec::new()).await?;
    let account = c.iam.account_id().to_owned();
    sim.principal = match &sim.caller {
        Some(caller) => principal_of(caller)?,
        None if sim.resource_policy => {
            return Err(IamError::invalid_input(
                "CallerArn is required when a ResourcePolicy is given",
            ))
        }
        None => unnamed(&account)?,
    };
    evaluate::answer(&sim, &account)
}

/// The members both calls share: what to simulate, with which given policies and context.
fn read(c: &Ctx<'_>) -> Result<Simulation, IamError> {
    let actions = c.req.list("ActionNames")?;
    if actions.is_empty() {
        return Err(iamlet_iam_store::names::missing("ActionNames"));
    }
    for a in &actions {
        action_name(a)?;
    }
    let resources = c.req.list("ResourceArns")?;
    for r in &resources {
        if r.is_empty() || r.len() > 2048 {
            return Err(IamError::invalid_input(format!(
                "ResourceArns: `{}` must have between 1 and 2048 characters",
                r.chars().take(64).collect::<String>()
            )));
        }
    }
    let mut sources = Vec::new();
    for (i, text) in c.req.list("PolicyInputList")?.into_iter().enumerate() {
        let id = format!("PolicyInputList.{}", i + 1);
        let policy = given(&id, text, PolicyType::Identity)?;
        sources.push(Source::new(id, SourceType::Input, policy));
    }
    let boundaries = c.req.list("PermissionsBoundaryPolicyInputList")?;
    if boundaries.len() > 1 {
        return Err(IamError::invalid_input(
            "PermissionsBoundaryPolicyInputList: only one permissions boundary can be simulated",
        ));
    }
    for (i, text) in boundaries.into_iter().enumerate() {
        let id = format!("PermissionsBoundaryPolicyInputList.{}", i + 1);
        let policy = given(&id, text, PolicyType::Boundary)?;
        sources.push(Source::new(id, SourceType::Input, policy));
    }
    let resource_policy = match c.req.get("ResourcePolicy") {
        None => None,
        Some(text) => {
            // A document none of whose statements names a resource is a role's trust policy.
            let kind = iamlet_engine::simulate::policy_input(
                &serde_json::Value::String(text.to_owned()),
                "ResourcePolicy",
                PolicyType::Resource,
                None,
            )
            .policy_type;
            Some(given("ResourcePolicy", text, kind)?)
        }
    };
    let has_resource_policy = resource_policy.is_some();
    if let Some(p) = resource_policy {
        sources.push(Source::new(
            "ResourcePolicy".to_owned(),
            SourceType::Resource,
            p,
        ));
    }
    let owner = c.req.get("ResourceOwner").map(account_of).transpose()?;
    let caller = match c.req.get("CallerArn") {
        None => None,
        Some(arn) => Some(caller_arn(arn)?),
    };
    let context = context_entries(c)?;
    if let Some(option) = c.req.get("ResourceHandlingOption") {
        scenario(option, &resources)?;
    }
    let max_items = usize::try_from(c.req.int("MaxItems", 1, 1000)?.unwrap_or(100)).unwrap_or(100);
    let start = match c.req.get("Marker") {
        None => 0,
        Some(m) => m
            .parse::<usize>()
            .ok()
            .filter(|n| *n > 0 && *n < actions.len())
            .ok_or_else(|| {
                IamError::invalid_input(format!("Marker `{m}` is not one this call returned"))
            })?,
    };
    Ok(Simulation {
        actions: actions.into_iter().map(str::to_owned).collect(),
        resources: resources.into_iter().map(str::to_owned).collect(),
        sources,
        scp_levels: Vec::new(),
        resource_policy: has_resource_policy,
        resource_owner: owner,
        caller,
        principal: unnamed(c.iam.account_id())?,
        context,
        start,
        max_items,
    })
}

/// An action name: `service:Action`, 3 to 128 characters.
fn action_name(a: &str) -> Result<(), IamError> {
    let ok = (3..=128).contains(&a.len())
        && matches!(a.split_once(':'), Some((s, n)) if !s.is_empty() && !n.is_empty() && !n.contains(':'))
        && !a.contains(char::is_whitespace);
    if ok {
        Ok(())
    } else {
        Err(IamError::invalid_input(format!(
            "ActionNames: `{}` is not an action name (service:Action, 3 to 128 characters)",
            a.chars().take(128).collect::<String>()
        )))
    }
}

/// A given policy document, parsed by the engine: a document it refuses is `InvalidInput` with
/// its message (and the JSON path and position of what is wrong).
fn given(id: &str, text: &str, policy_type: PolicyType) -> Result<Policy, IamError> {
    if text.is_empty() || text.chars().count() > MAX_DOCUMENT {
        return Err(IamError::invalid_input(format!(
            "{id}: a policy document must have between 1 and {MAX_DOCUMENT} characters"
        )));
    }
    Policy::parse(text, policy_type).map_err(|e| {
        let details: Vec<String> = e.errors().iter().map(ToString::to_string).collect();
        IamError::invalid_input(format!(
            "{id} is not a valid {}: {}",
            policy_type.label(),
            details.join("; ")
        ))
    })
}

/// `ResourceOwner`: `arn:aws:iam::ACCOUNT:root` (or the bare account id).
fn account_of(text: &str) -> Result<String, IamError> {
    let id = text
        .strip_prefix("arn:aws:iam::")
        .and_then(|r| r.strip_suffix(":root"))
        .unwrap_or(text);
    if id.len() == 12 && id.bytes().all(|b| b.is_ascii_digit()) {
        Ok(id.to_owned())
    } else {
        Err(IamError::invalid_input(format!(
            "ResourceOwner `{}` is not an account's ARN (arn:aws:iam::ACCOUNT-ID:root)",
            text.chars().take(256).collect::<String>()
        )))
    }
}

/// `CallerArn`: an IAM user's ARN (AWS accepts no other kind of caller).
fn caller_arn(text: &str) -> Result<String, IamError> {
    match Principal::parse(text) {
        Ok(p) if p.kind() == iamlet_engine::PrincipalKind::User && text.starts_with("arn:") => {
            Ok(text.to_owned())
        }
        _ => Err(IamError::invalid_input(format!(
            "CallerArn `{}` is not the ARN of an IAM user",
            text.chars().take(256).collect::<String>()
        ))),
    }
}

fn principal_of(arn: &str) -> Result<Principal, IamError> {
    Principal::parse(arn).map_err(|e| IamError::invalid_input(e.to_string()))
}

fn unnamed(account: &str) -> Result<Principal, IamError> {
    Principal::unnamed_user(account).map_err(|e| IamError::service(e.to_string()))
}

/// `ContextEntries.member.N`: each key once, its values of its declared type.
fn context_entries(c: &Ctx<'_>) -> Result<ContextMap, IamError> {
    let n = c.req.0.member_count("ContextEntries");
    let mut map = ContextMap::new();
    for i in 1..=n {
        let at = format!("ContextEntries.member.{i}");
        let name = c.req.get(&format!("{at}.ContextKeyName")).ok_or_else(|| {
            IamError::invalid_input(format!(
                "{at}: ContextKeyName is required (entries are numbered from 1 without gaps)"
            ))
        })?;
        if !(5..=256).contains(&name.len()) {
            return Err(IamError::invalid_input(format!(
                "{at}.ContextKeyName `{name}` must have between 5 and 256 characters"
            )));
        }
        if map.contains(name) {
            return Err(IamError::invalid_input(format!(
                "the context key `{name}` is given more than once"
            )));
        }
        let values = c.req.list(&format!("{at}.ContextKeyValues"))?;
        let kind = c.req.get(&format!("{at}.ContextKeyType"));
        map.insert(name, context_value(name, kind, &values)?);
    }
    Ok(map)
}

/// One entry's values, checked against `ContextKeyType` (a scalar type takes exactly one value).
fn context_value(
    name: &str,
    kind: Option<&str>,
    values: &[&str],
) -> Result<ContextValue, IamError> {
    let kind = kind.unwrap_or(if values.len() == 1 {
        "string"
    } else {
        "stringList"
    });
    let (base, list) = match kind.strip_suffix("List") {
        Some(b) => (b, true),
        None => (kind, false),
    };
    let check: fn(&str) -> bool = match base {
        "string" => |_| true,
        "numeric" => |v| v.trim().parse::<f64>().is_ok_and(f64::is_finite),
        "boolean" => |v| v.eq_ignore_ascii_case("true") || v.eq_ignore_ascii_case("false"),
        "ip" => |v| {
            let addr = v.split_once('/').map_or(v, |(a, _)| a);
            addr.parse::<std::net::IpAddr>().is_ok()
        },
        "date" => |v| {
            chrono::DateTime::parse_from_rfc3339(v).is_ok()
                || chrono::NaiveDate::parse_from_str(v, "%Y-%m-%d").is_ok()
                || v.parse::<i64>().is_ok()
        },
        "binary" => |v| {
            !v.is_empty()
                && v.len() % 4 == 0
                && v.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'='))
        },
        _ => {
            return Err(IamError::invalid_input(format!(
                "ContextKeyType `{kind}` of `{name}` must be one of string, stringList, numeric, numericList, boolean, booleanList, ip, ipList, binary, binaryList, date, dateList"
            )))
        }
    };
    if !list && values.len() != 1 {
        return Err(IamError::invalid_input(format!(
            "the context key `{name}` of type {kind} takes exactly one value, not {}",
            values.len()
        )));
    }
    if let Some(bad) = values.iter().find(|v| !check(v)) {
        return Err(IamError::invalid_input(format!(
            "the value `{bad}` of the context key `{name}` is not of type {kind}"
        )));
    }
    let owned: Vec<String> = values.iter().map(|v| (*v).to_owned()).collect();
    Ok(if list {
        ContextValue::multi(owned)
    } else {
        ContextValue::single(owned.into_iter().next().unwrap_or_default())
    })
}

/// `ResourceHandlingOption`: one of AWS's EC2 scenarios, whose resources must all be in
/// `ResourceArns` (the simulator refuses a scenario without them).
fn scenario(name: &str, resources: &[&str]) -> Result<(), IamError> {
    const SG: &str = "security-group";
    const NI: &str = "network-interface";
    let needs: &[&str] = match name {
        "EC2-Classic-InstanceStore" => &["instance", "image", SG],
        "EC2-Classic-EBS" => &["instance", "image", SG, "volume"],
        "EC2-VPC-InstanceStore" => &["instance", "image", SG, NI],
        "EC2-VPC-InstanceStore-Subnet" => &["instance", "image", SG, NI, "subnet"],
        "EC2-VPC-EBS" => &["instance", "image", SG, NI, "volume"],
        "EC2-VPC-EBS-Subnet" => &["instance", "image", SG, NI, "subnet", "volume"],
        other => {
            return Err(IamError::invalid_input(format!(
                "ResourceHandlingOption `{}` is none of EC2-Classic-InstanceStore, EC2-Classic-EBS, EC2-VPC-InstanceStore, EC2-VPC-InstanceStore-Subnet, EC2-VPC-EBS, EC2-VPC-EBS-Subnet",
                other.chars().take(64).collect::<String>()
            )))
        }
    };
    // `arn:aws:ec2:REGION:ACCOUNT:TYPE/ID`.
    let kind_of = |arn: &str| -> Option<String> {
        let parts: Vec<&str> = arn.splitn(6, ':').collect();
        match parts.as_slice() {
            [_, _, "ec2", _, _, resource] => {
                Some(resource.split('/').next().unwrap_or_default().to_owned())
            }
            _ => None,
        }
    };
    let present: Vec<String> = resources.iter().filter_map(|r| kind_of(r)).collect();
    let lacking: Vec<&str> = needs
        .iter()
        .filter(|n| !present.iter().any(|p| p == *n))
        .copied()
        .collect();
    if lacking.is_empty() {
        Ok(())
    } else {
        Err(IamError::invalid_input(format!(
            "ResourceHandlingOption {name} needs ResourceArns of these EC2 resource types, which are missing: {}",
            lacking.join(", ")
        )))
    }
}

/// What a `PolicySourceArn` names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    User,
    Group,
    Role,
}

impl Kind {
    fn noun(self) -> &'static str {
        match self {
            Kind::User => "user",
            Kind::Group => "group",
            Kind::Role => "role",
        }
    }
}

struct SourceArn {
    account: String,
    kind: Kind,
    name: Name,
}

impl SourceArn {
    /// `arn:aws:iam::ACCOUNT:{user|group|role}/PATH/NAME`.
    fn parse(arn: &str) -> Result<SourceArn, IamError> {
        let bad = || {
            IamError::invalid_input(format!(
                "PolicySourceArn `{}` is not the ARN of a user, group or role",
                arn.chars().take(256).collect::<String>()
            ))
        };
        let parts: Vec<&str> = arn.splitn(6, ':').collect();
        let [_, _, service, _, account, resource] = parts.as_slice() else {
            return Err(bad());
        };
        if *service != "iam" {
            return Err(bad());
        }
        let (kind, rest) = resource.split_once('/').ok_or_else(bad)?;
        let (kind, name_kind) = match kind {
            "user" => (Kind::User, NameKind::User),
            "group" => (Kind::Group, NameKind::Group),
            "role" => (Kind::Role, NameKind::Role),
            _ => return Err(bad()),
        };
        let name = rest.rsplit('/').next().unwrap_or_default();
        let name = Name::parse("PolicySourceArn", name, name_kind).map_err(|_| bad())?;
        Ok(SourceArn {
            account: (*account).to_owned(),
            kind,
            name,
        })
    }
}

/// The entity's own policies from the database, in the order AWS lists them: its inline and managed
/// policies, then each group's; its permissions boundary unless one is given.
fn stored_sources(d: &Details, boundary_given: bool) -> Result<Vec<Source>, IamError> {
    let managed = |arn: &str| -> Result<(String, SourceType, String), IamError> {
        let p = d
            .policies
            .iter()
            .find(|p| p.policy.arn == arn)
            .ok_or_else(|| {
                IamError::new(
                    ErrorCode::PolicyEvaluation,
                    format!("the managed policy {arn} has no default version"),
                )
            })?;
        let doc = p
            .versions
            .iter()
            .find(|v| v.is_default)
            .map(|v| v.document.clone())
            .ok_or_else(|| {
                IamError::new(
                    ErrorCode::PolicyEvaluation,
                    format!("the managed policy {arn} has no default version"),
                )
            })?;
        let kind = if p.policy.aws_managed {
            SourceType::AwsManaged
        } else {
            SourceType::UserManaged
        };
        Ok((p.policy.name.as_str().to_owned(), kind, doc))
    };
    let mut out: Vec<(String, SourceType, String, PolicyType)> = Vec::new();
    let mut add_owned = |inline: &[iamlet_iam_store::export::Inline],
                         attached: &[iamlet_iam_store::export::Attached],
                         kind: SourceType|
     -> Result<(), IamError> {
        for i in inline {
            out.push((
                i.name.clone(),
                kind,
                i.document.clone(),
                PolicyType::Identity,
            ));
        }
        for a in attached {
            let (name, kind, doc) = managed(&a.arn)?;
            out.push((name, kind, doc, PolicyType::Identity));
        }
        Ok(())
    };
    let mut boundary = None;
    if let Some(u) = d.users.first() {
        add_owned(&u.inline, &u.attached, SourceType::User)?;
        for g in &d.groups {
            add_owned(&g.inline, &g.attached, SourceType::Group)?;
        }
        boundary = u.user.boundary.clone();
    } else if let Some(r) = d.roles.first() {
        add_owned(&r.inline, &r.attached, SourceType::Role)?;
        boundary = r.role.boundary.clone();
    } else if let Some(g) = d.groups.first() {
        add_owned(&g.inline, &g.attached, SourceType::Group)?;
    }
    if let (Some(arn), false) = (boundary, boundary_given) {
        let (name, kind, doc) = managed(&arn)?;
        out.push((name, kind, doc, PolicyType::Boundary));
    }
    out.into_iter()
        .map(|(id, kind, doc, policy_type)| {
            let policy = Policy::parse(&doc, policy_type).map_err(|e| {
                IamError::new(
                    ErrorCode::PolicyEvaluation,
                    format!("the stored policy {id} does not parse: {e}"),
                )
            })?;
            Ok(Source::new(id, kind, policy))
        })
        .collect()
}
