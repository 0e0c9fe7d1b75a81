#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod access;
mod arn;
pub mod catalog;
pub(crate) mod condition;
mod context;
pub mod diff;
mod error;
mod eval;
mod explain;
pub mod ffi;
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;
pub mod lint;
pub mod password;
mod pattern;
mod policy;
mod probe;
mod reads;
mod request;
pub mod simulate;
mod variables;

pub use arn::Arn;
pub use context::{scalar_value_text, ContextMap, ContextValue, KnownKey};
pub use error::{Location, PolicyError, PolicyErrorKind, PolicyErrors, RequestError};
pub use eval::{Decision, PolicySet, Verdict};
pub use explain::{
    ConditionProblem, Explanation, Reason, StatementExplanation, StatementRef, Step, StepKind,
    StepOutcome,
};
pub use policy::{
    Effect, ParsePolicyTypeError, Policy, PolicyType, QuotaFinding, SizeCount, Version,
};
pub use reads::ContextReads;
pub use request::{resource_account, Principal, PrincipalKind, PrincipalName, Request};
