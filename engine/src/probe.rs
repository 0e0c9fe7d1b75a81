//! Requests worth deciding to learn what policies grant: built from what the policies mention, since
//! access outside what they name cannot differ between them. Shared by [`crate::diff`] (the same
//! probes under two versions) and [`crate::access`] (what one set grants).
//!
//! - **actions**: every catalog action that an `Action` pattern matches, and action names the catalog
//!   does not know as written; every action of the catalog when a policy uses `NotAction` or a
//!   pattern whose service is a wildcard;
//! - **resources**: each `Resource`/`NotResource` entry taken as a resource name (a pattern matches its
//!   own text: `arn:aws:s3:::b/*` stands for some object of `b`), with `${aws:username}`,
//!   `${aws:PrincipalAccount}` and `${aws:PrincipalArn}` filled in for the principal, plus `*`; an
//!   action is probed only on resources of its own service (or without one);
//! - **contexts**: no condition keys; each condition key set, one at a time, to each value a policy
//!   compares it with (and one above and below for numbers; an address for a CIDR; `true` and `false`
//!   for `Bool` and `Null`; a one-element set for `ForAnyValue:`/`ForAllValues:`); and every key at
//!   once at its first value.

use crate::catalog::Catalog;
use crate::condition::operator::Family;
use crate::context::{ContextMap, ContextValue};
use crate::error::RequestError;
use crate::policy::{Policy, Statement};
use crate::request::Request;
use std::collections::{BTreeMap, BTreeSet};

/// The probes for some policies and a principal.
pub(crate) struct Probes {
    principal: String,
    actions: BTreeSet<String>,
    resources: BTreeSet<String>,
    contexts: Vec<Probe>,
}

/// One probe's condition keys: as reported, and as the request carries them.
pub(crate) struct Probe {
    pub(crate) pairs: Vec<(String, String)>,
    pub(crate) map: ContextMap,
}

impl Probes {
    /// Probes built from `policies` for `principal`, every request carrying `base` (what is known
    /// of the principal, such as its tags) under the probe's own keys; fails when the principal is
    /// not one.
    pub(crate) fn new(
        policies: &[&Policy],
        principal: &str,
        base: &ContextMap,
        catalog: &Catalog,
    ) -> Result<Self, RequestError> {
        let probe_principal = Request::new(principal, "iam:GetUser", "*")?;
        let known = Known {
            principal: &probe_principal,
            base,
        };
        Ok(Probes {
            principal: principal.to_owned(),
            actions: actions(policies, catalog),
            resources: resources(policies, &known),
            contexts: contexts(policies, &known),
        })
    }

    /// Every probe: the action, the resource, the context's keys, and the request.
    pub(crate) fn each(
        &self,
        mut f: impl FnMut(&str, &str, &Probe, Request),
    ) -> Result<(), RequestError> {
        for action in &self.actions {
            let service = action.split_once(':').map_or("", |(s, _)| s);
            for resource in &self.resources {
                if !resource_fits(resource, service) {
                    continue;
                }
                for context in &self.contexts {
                    let request = Request::new(&self.principal, action, resource)?
                        .with_context(context.map.clone());
                    f(action, resource, context, request);
                }
            }
        }
        Ok(())
    }
}

pub(crate) fn statements<'a>(
    policies: &'a [&'a Policy],
) -> impl Iterator<Item = &'a Statement> + 'a {
    policies.iter().flat_map(|p| p.statements.iter())
}

fn actions(policies: &[&Policy], catalog: &Catalog) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut everything = false;
    for s in statements(policies) {
        everything |= s.action.negated;
        for raw in &s.action.raw {
            let service = raw.split_once(':').map_or(raw.as_str(), |(svc, _)| svc);
            everything |= service.contains(['*', '?']);
            let expanded = catalog.expand(raw);
            if expanded.is_empty() && !raw.contains(['*', '?']) {
                out.insert(raw.clone());
            }
            out.extend(expanded);
        }
    }
    if everything {
        for s in catalog.services() {
            out.extend(
                s.actions()
                    .iter()
                    .map(|a| format!("{}:{}", s.prefix(), a.name())),
            );
        }
    }
    out
}

/// What the probes know beside the policies: the principal, and keys given for it.
struct Known<'a> {
    principal: &'a Request,
    base: &'a ContextMap,
}

impl Known<'_> {
    /// Fills the policy variables a probe can know: the principal's name, account and ARN, and the
    /// single-valued keys of `base` (`${aws:PrincipalTag/team}`).
    fn fill(&self, text: &str) -> String {
        if !text.contains("${") {
            return text.to_owned();
        }
        let p = self.principal.principal();
        let name = p.arn().rsplit('/').next().unwrap_or_default();
        let mut out = text
            .replace("${aws:username}", name)
            .replace("${aws:PrincipalAccount}", p.account().unwrap_or_default())
            .replace("${aws:PrincipalArn}", p.arn());
        for (k, v) in self.base.iter() {
            if let (false, [one]) = (v.is_multi(), v.values()) {
                out = out.replace(&format!("${{{k}}}"), one);
            }
        }
        out
    }
}

fn resources(policies: &[&Policy], known: &Known<'_>) -> BTreeSet<String> {
    let mut out = BTreeSet::from(["*".to_owned()]);
    for s in statements(policies) {
        for raw in s.resource.iter().flat_map(|r| r.raw.iter()) {
            out.insert(known.fill(raw));
        }
    }
    out
}

/// Whether probing an action of `service` on `resource` makes sense: the resource's service is the
/// action's, or the resource names no service (`*`, `arn:aws:*:…`).
fn resource_fits(resource: &str, service: &str) -> bool {
    match resource.split(':').nth(2) {
        None => true,
        Some(s) => s == service || s.contains(['*', '?']) || s.is_empty(),
    }
}

fn contexts(policies: &[&Policy], known: &Known<'_>) -> Vec<Probe> {
    // Lower-cased key -> (the key as first written, values to try, whether a set operator reads it).
    let mut keys: BTreeMap<String, (String, BTreeSet<String>, bool)> = BTreeMap::new();
    for s in statements(policies) {
        for c in &s.conditions {
            let entry = keys
                .entry(c.key.clone())
                .or_insert_with(|| (c.key_name.clone(), BTreeSet::new(), false));
            entry.2 |= c.op.qualifier.is_some();
            for v in &c.raw_values {
                entry.1.extend(samples(c.op.family, &known.fill(v)));
            }
        }
    }
    let probe = |pairs: Vec<(&str, &str, bool)>| {
        let mut map = known.base.clone();
        for &(k, v, set) in &pairs {
            if set {
                map.insert(k, ContextValue::multi(vec![v.to_owned()]));
            } else {
                map.insert(k, v);
            }
        }
        Probe {
            pairs: pairs
                .into_iter()
                .map(|(k, v, _)| (k.to_owned(), v.to_owned()))
                .collect(),
            map,
        }
    };
    let mut out = vec![probe(Vec::new())];
    let mut all = Vec::new();
    for (name, values, set) in keys.values() {
        for v in values {
            out.push(probe(vec![(name, v, *set)]));
        }
        if let Some(first) = values.iter().next() {
            all.push((name.as_str(), first.as_str(), *set));
        }
    }
    if all.len() > 1 {
        out.push(probe(all));
    }
    out
}

/// Values of a condition key worth probing for one value a policy compares it with.
fn samples(family: Family, value: &str) -> Vec<String> {
    match family {
        Family::Numeric(_) => match value.parse::<i64>() {
            Ok(n) => vec![(n - 1).to_string(), n.to_string(), (n + 1).to_string()],
            Err(_) => vec![value.to_owned()],
        },
        Family::Ip => vec![value.split('/').next().unwrap_or(value).to_owned()],
        Family::Bool | Family::Null => vec!["true".to_owned(), "false".to_owned()],
        _ => vec![value.to_owned()],
    }
}
