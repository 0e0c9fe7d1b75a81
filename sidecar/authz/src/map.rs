//! Stage 2, map: which IAM action on which resource the request is — the route's
//! `context_extensions` (`iamlet.action`, `iamlet.resource`, `iamlet.resource_account`) when Envoy
//! sends them, else the route map (`iamlet_routes`), which normalizes the path and refuses what two
//! servers could read two ways.

use crate::input::CheckInput;
use iamlet_routes::{HttpParts, Mapped, Routes, Unmapped};

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
