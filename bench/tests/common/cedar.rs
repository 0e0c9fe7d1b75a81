//! The scenario's Cedar side: the policies, the entity store (users in their roles with their tags as
//! attributes, objects in their buckets with theirs), and each case's request. Shared by the agreement
//! test (`tests/agree.rs`) and the benchmark (`benches/cedar.rs`).

use cedar_policy::{
    Authorizer, Context, Decision as CedarDecision, Entities, Entity, EntityId, EntityTypeName,
    EntityUid, PolicyId, PolicySet, Request, Response, RestrictedExpression,
};
use iamlet_bench::{Case, Group, Resource, CEDAR_POLICIES, OBJECTS, USERS};
use iamlet_engine::Decision;
use std::collections::{HashMap, HashSet};
use std::error::Error;
use std::str::FromStr;

type Result<T> = std::result::Result<T, Box<dyn Error>>;

/// The entity type names, parsed once.
#[derive(Debug)]
pub struct Types {
    user: EntityTypeName,
    role: EntityTypeName,
    object: EntityTypeName,
    bucket: EntityTypeName,
    action: EntityTypeName,
}

impl Types {
    fn new() -> Result<Self> {
        Ok(Types {
            user: EntityTypeName::from_str("User")?,
            role: EntityTypeName::from_str("Role")?,
            object: EntityTypeName::from_str("Object")?,
            bucket: EntityTypeName::from_str("Bucket")?,
            action: EntityTypeName::from_str("Action")?,
        })
    }
}

fn uid(ty: &EntityTypeName, id: &str) -> EntityUid {
    EntityUid::from_type_name_and_id(ty.clone(), EntityId::new(id))
}

fn string(s: &str) -> RestrictedExpression {
    RestrictedExpression::new_string(s.to_owned())
}

/// Everything Cedar needs that does not change per request, built once.
#[derive(Debug)]
pub struct Cedar {
    /// The authorizer.
    pub authorizer: Authorizer,
    /// Every policy, each under the id its `@id` annotation gives (the IAM statement's `Sid`).
    pub policies: PolicySet,
    /// Users, roles, buckets and objects.
    pub entities: Entities,
    /// The entity type names.
    pub types: Types,
}

impl Cedar {
    /// Parses the policies and builds the entity store.
    pub fn new() -> Result<Self> {
        let parsed = PolicySet::from_str(CEDAR_POLICIES)?;
        let mut policies = PolicySet::new();
        for p in parsed.policies() {
            let id = p.annotation("id").ok_or("a Cedar policy without @id")?;
            policies.add(p.new_id(PolicyId::new(id)))?;
        }
        let types = Types::new()?;
        let mut entities = Vec::new();
        for group in [Group::Viewer, Group::Editor, Group::Admin] {
            entities.push(Entity::new_no_attrs(
                uid(&types.role, group.name()),
                HashSet::new(),
            ));
        }
        for user in USERS {
            let attrs = HashMap::from([
                ("team".to_owned(), string(user.team)),
                ("department".to_owned(), string(user.department)),
            ]);
            let parents = user.groups.iter().map(|g| uid(&types.role, g.name()));
            entities.push(Entity::new(
                uid(&types.user, user.name),
                attrs,
                parents.collect(),
            )?);
        }
        for bucket in ["docs-shared", "docs-public", "team-docs"] {
            entities.push(Entity::new_no_attrs(
                uid(&types.bucket, bucket),
                HashSet::new(),
            ));
        }
        for o in OBJECTS {
            let mut attrs = HashMap::from([("key".to_owned(), string(o.key))]);
            if let Some(team) = o.team {
                attrs.insert("team".to_owned(), string(team));
            }
            if let Some(department) = o.department {
                attrs.insert("department".to_owned(), string(department));
            }
            if let Some(owner) = o.owner {
                attrs.insert(
                    "owner".to_owned(),
                    RestrictedExpression::new_entity_uid(uid(&types.user, owner)),
                );
            }
            entities.push(Entity::new(
                uid(&types.object, &object_id(o.bucket, o.key)),
                attrs,
                HashSet::from([uid(&types.bucket, o.bucket)]),
            )?);
        }
        Ok(Cedar {
            authorizer: Authorizer::new(),
            policies,
            entities: Entities::from_entities(entities, None)?,
            types,
        })
    }

    /// The Cedar request of a case: the principal, action and resource ids (`resource_id` from
    /// [`resource_id`], what a caller has in hand before it asks), and a context with MFA and
    /// transport (tags are attributes of the entities in the store).
    pub fn request(&self, case: &Case, resource_id: &str) -> Result<Request> {
        let t = &self.types;
        let resource_type = match case.resource {
            Resource::Object(_) => &t.object,
            Resource::Bucket(_) => &t.bucket,
            Resource::User(_) => &t.user,
        };
        let context = Context::from_pairs([
            ("mfa".to_owned(), RestrictedExpression::new_bool(case.mfa)),
            (
                "secureTransport".to_owned(),
                RestrictedExpression::new_bool(case.secure_transport),
            ),
        ])?;
        Ok(Request::new(
            uid(&t.user, case.user.name),
            uid(&t.action, case.action),
            uid(resource_type, resource_id),
            context,
            None,
        )?)
    }

    /// Decides a request.
    pub fn decide(&self, request: &Request) -> Response {
        self.authorizer
            .is_authorized(request, &self.policies, &self.entities)
    }
}

fn object_id(bucket: &str, key: &str) -> String {
    format!("{bucket}/{key}")
}

/// The id of a case's resource entity.
pub fn resource_id(case: &Case) -> String {
    match case.resource {
        Resource::Object(o) => object_id(o.bucket, o.key),
        Resource::Bucket(b) => b.to_owned(),
        Resource::User(u) => u.to_owned(),
    }
}

/// Cedar's answer in IAM's terms: a deny with a satisfied `forbid` is explicit, one without is
/// implicit. With the ids of the policies that decided (sorted) and the evaluation errors.
pub fn outcome(response: &Response) -> (Decision, Vec<String>, Vec<String>) {
    let mut reason: Vec<String> = response
        .diagnostics()
        .reason()
        .map(ToString::to_string)
        .collect();
    reason.sort();
    let errors = response
        .diagnostics()
        .errors()
        .map(ToString::to_string)
        .collect();
    let decision = match response.decision() {
        CedarDecision::Allow => Decision::Allow,
        CedarDecision::Deny if reason.is_empty() => Decision::ImplicitDeny,
        CedarDecision::Deny => Decision::ExplicitDeny,
    };
    (decision, reason, errors)
}
