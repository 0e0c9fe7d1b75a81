//! The store's errors: sources that cannot be read, exports and organization files with broken
//! entities, principals the store does not know, and a store that cannot answer (fail closed).

use std::fmt;

/// One broken entity in an account export or organization file: where it is (its list, index and
/// name, e.g. `UserDetailList[2] (alice).UserPolicyList[0] (s3-home)`), the JSON path inside the
/// policy document when the problem is there (`Statement[1].Effect`), and what is wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EntityError {
    entity: String,
    path: String,
    message: String,
}

impl EntityError {
    /// A problem with the entity itself (no policy path).
    pub fn new(entity: impl Into<String>, message: impl Into<String>) -> Self {
        EntityError {
            entity: entity.into(),
            path: String::new(),
            message: message.into(),
        }
    }

    /// Every problem of a policy document, each as an entity error at its JSON path.
    pub fn from_policy(entity: &str, errors: &iamlet_engine::PolicyErrors) -> Vec<Self> {
        errors
            .errors()
            .iter()
            .map(|e| EntityError {
                entity: entity.to_owned(),
                path: e.path().to_owned(),
                message: e.message().to_owned(),
            })
            .collect()
    }

    /// The entity: list, index and name, e.g. `RoleDetailList[0] (ci-deploy).RolePolicyList[1] (x)`.
    pub fn entity(&self) -> &str {
        &self.entity
    }
    /// The JSON path inside the policy document (empty when the entity itself is wrong).
    pub fn path(&self) -> &str {
        &self.path
    }
    /// What is wrong.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for EntityError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            write!(f, "{}: {}", self.entity, self.message)
        } else {
            write!(f, "{}: {}: {}", self.entity, self.path, self.message)
        }
    }
}

impl std::error::Error for EntityError {}

/// Why a snapshot could not be loaded. A source that fails to reload keeps its last good snapshot
/// and reports this.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LoadError {
    /// The source could not be read (file system, network, IAM API).
    #[error("{source_name}: {message}")]
    Read {
        /// The file, URL or API the data came from.
        source_name: String,
        /// What went wrong.
        message: String,
    },
    /// The document is not JSON of the expected shape; `path` is where it went wrong.
    #[error("{source_name}: {path}{sep}{message}", sep = if path.is_empty() { "" } else { ": " })]
    Format {
        /// The file or URL.
        source_name: String,
        /// The JSON path of the offending value, e.g. `UserDetailList[2].Tags[0].Key`.
        path: String,
        /// What is wrong.
        message: String,
    },
    /// Entities with broken policies or references: every one found.
    #[error("{source_name}: {}", join(errors))]
    Invalid {
        /// The file or URL.
        source_name: String,
        /// The broken entities.
        errors: Vec<EntityError>,
    },
}

fn join(errors: &[EntityError]) -> String {
    match errors {
        [one] => one.to_string(),
        _ => {
            let mut s = format!("{} errors", errors.len());
            for e in errors {
                s.push_str("\n  ");
                s.push_str(&e.to_string());
            }
            s
        }
    }
}

/// What a source says when asked for one principal. Exhaustive on purpose: a cache must decide
/// what each answer means.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum FetchError {
    /// The source answered: no such principal (cached briefly as a negative entry).
    #[error("principal `{0}` is not in the identity store")]
    NotFound(String),
    /// The source could not answer (not loaded yet, network, throttling, a broken entity): the
    /// cache serves a stale entry if it has a recent enough one.
    #[error("{0}")]
    Failed(String),
}

/// Why the store cannot give the compiled policies of a principal. Callers map every variant to a
/// Deny: the store fails closed. Exhaustive on purpose: an authorizer must decide what each
/// failure answers.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// The principal, action or resource cannot make a request (not an ARN the engine knows…).
    #[error(transparent)]
    Request(#[from] iamlet_engine::RequestError),
    /// The store knows no such principal.
    #[error("principal `{0}` is not in the identity store")]
    UnknownPrincipal(String),
    /// A federated user session resolves through the IAM user that called `GetFederationToken`.
    #[error("federated user `{0}` needs the IAM user that issued it (its session issuer)")]
    MissingIssuer(String),
    /// The source failed and the cache holds no entry fresh enough to serve.
    #[error("the identity store cannot resolve `{principal}`: {reason}")]
    Unavailable {
        /// The principal.
        principal: String,
        /// The source's error.
        reason: String,
    },
}
