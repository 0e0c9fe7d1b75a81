//! Stage 2, map: which IAM action on which resource the request is — the route's
//! `context_extensions` (`iamlet.action`, `iamlet.resource`, `iamlet.resource_account`) when Envoy
//! sends them, else the route map (`iamlet_routes`), which normalizes the path and refuses what two
//! servers could read two ways.

use crate::input::CheckInput;
use iamlet_routes::{HttpParts, Mapped, Routes, Unmapped};
use std::collections::HashMap;

/// The request in IAM's terms.
pub(crate) fn map(routes: &Routes, input: &CheckInput) -> Result<Mapped, Unmapped> {
    let ext = &input.context_extensions;
    if let (Some(action), Some(resource)) = (ext.get("iamlet.action"), ext.get("iamlet.resource")) {
        return Ok(Mapped {
            action: action.clone(),
            resource: resource.clone(),
            resource_account: ext.get("iamlet.resource_account").cloned(),
            context: Vec::new(),
        });
    }
    let (path, query) = input.path.split_once('?').unwrap_or((&input.path, ""));
    let header = |n: &str| input.headers.get(n).cloned();
    routes.map(&HttpParts {
        method: &input.method,
        host: input.host_without_port(),
        path,
        query,
        header: &header,
    })
}

/// Whether each route's action only reads (the decision log's `readOnly`), looked up in the catalog
/// once per route rather than on every check; an action a route's `context_extensions` name is
/// looked up when it comes.
#[derive(Debug, Default)]
pub(crate) struct ReadOnly(HashMap<String, Option<bool>, foldhash::fast::RandomState>);

impl ReadOnly {
    /// The routes' actions, worked out.
    pub(crate) fn of(routes: &Routes) -> Self {
        ReadOnly(
            routes
                .actions()
                .map(|a| (a.to_owned(), read_only(a)))
                .collect(),
        )
    }

    /// Whether `action` only reads (`None` for an action the catalog does not know).
    pub(crate) fn get(&self, action: &str) -> Option<bool> {
        match self.0.get(action) {
            Some(known) => *known,
            None => read_only(action),
        }
    }
}

/// Whether an action only reads: its access level in the catalog is List or Read (`None` for an
/// action the catalog does not know).
fn read_only(action: &str) -> Option<bool> {
    use iamlet_engine::catalog::{AccessLevel, Catalog};
    let (service, name) = action.split_once(':')?;
    let level = Catalog::embedded().service(service)?.action(name)?.level();
    Some(matches!(level, AccessLevel::List | AccessLevel::Read))
}

#[cfg(test)]
mod tests {
    use super::*;
    use iamlet_routes::RouteSpec;

    #[test]
    fn the_routes_actions_are_looked_up_once_and_others_when_they_come() {
        let spec = |action: &str| RouteSpec {
            method: Some("GET".into()),
            host: None,
            path: format!("/{}", action.replace(':', "-")),
            action: action.into(),
            resource: "arn:aws:s3:::b".into(),
            resource_account: None,
            context: Default::default(),
            encoded_slashes: false,
        };
        let routes = Routes::compile(&[spec("s3:GetObject"), spec("s3:PutObject")]).unwrap();
        let r = ReadOnly::of(&routes);
        assert_eq!(r.0.len(), 2);
        assert_eq!(r.get("s3:GetObject"), Some(true));
        assert_eq!(r.get("s3:PutObject"), Some(false));
        // Not a route's: the catalog answers, case-insensitively as IAM reads actions.
        assert_eq!(r.get("s3:listbucket"), Some(true));
        assert_eq!(r.get("iam:CreateUser"), Some(false));
        assert_eq!(r.get("example:DoThing"), None);
        assert_eq!(r.get("no-colon"), None);
    }
}
