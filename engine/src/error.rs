//! Errors: policy documents that cannot be parsed, and requests that cannot be built.

use serde::Serialize;
use std::fmt;

/// A position in a policy document's text.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "wasm", derive(tsify::Tsify))]
pub struct Location {
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
    /// Byte offset of the start of the offending element.
    pub start: usize,
    /// Byte offset just past its end.
    pub end: usize,
}

/// What is wrong with a policy element.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum PolicyErrorKind {
    /// The text is not JSON.
    Syntax,
    /// The document is nested or sized beyond what a policy can be.
    Limit,
    /// An element AWS's policy grammar does not know.
    UnknownElement,
    /// The same element twice in one object.
    DuplicateElement,
    /// A required element is absent.
    MissingElement,
    /// Elements that cannot appear together, or an element this policy type forbids.
    ConflictingElements,
    /// A value of the wrong JSON type or an invalid value.
    InvalidValue,
    /// A condition operator AWS does not have.
    UnknownOperator,
}

/// One problem in a policy document, with the JSON path and position of the offending element.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, thiserror::Error)]
pub struct PolicyError {
    pub(crate) kind: PolicyErrorKind,
    pub(crate) path: String,
    pub(crate) message: String,
    pub(crate) location: Option<Location>,
}

impl PolicyError {
    /// The kind of problem.
    pub fn kind(&self) -> PolicyErrorKind {
        self.kind
    }
    /// The JSON path of the element, e.g. `Statement[2].Effect` (empty for the document itself).
    pub fn path(&self) -> &str {
        &self.path
    }
    /// The message, without path or position.
    pub fn message(&self) -> &str {
        &self.message
    }
    /// Where the element is in the text.
    pub fn location(&self) -> Option<Location> {
        self.location
    }
}

impl fmt::Display for PolicyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(loc) = self.location {
            write!(f, "{}:{}: ", loc.line, loc.column)?;
        }
        if self.path.is_empty() {
            write!(f, "{}", self.message)
        } else {
            write!(f, "{}: {}", self.path, self.message)
        }
    }
}

/// Every problem found in one policy document (at least one).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, thiserror::Error)]
pub struct PolicyErrors {
    pub(crate) policy: String,
    pub(crate) errors: Vec<PolicyError>,
}

impl PolicyErrors {
    /// The name of the policy the errors belong to.
    pub fn policy(&self) -> &str {
        &self.policy
    }
    /// The problems, in document order.
    pub fn errors(&self) -> &[PolicyError] {
        &self.errors
    }
    pub(crate) fn named(mut self, name: &str) -> Self {
        self.policy = name.to_owned();
        self
    }
}

impl fmt::Display for PolicyErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.errors.len();
        write!(
            f,
            "policy `{}` has {} error{}",
            self.policy,
            n,
            if n == 1 { "" } else { "s" }
        )?;
        for e in &self.errors {
            write!(f, "\n  {e}")?;
        }
        Ok(())
    }
}

/// A request that cannot be evaluated as given.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RequestError {
    /// The principal is not an ARN, account id or service principal the engine knows.
    #[error("principal `{0}` is not an IAM user, role, assumed-role session, federated user, account or service principal")]
    Principal(String),
    /// The action is not `service:Action`.
    #[error("action `{0}` is not of the form `service:Action`")]
    Action(String),
    /// The resource is empty.
    #[error("resource must not be empty")]
    Resource,
    /// A context value that is not a string, number, boolean or array of them.
    #[error("context key `{key}`: {message}")]
    Context {
        /// The condition key.
        key: String,
        /// What is wrong.
        message: String,
    },
}
