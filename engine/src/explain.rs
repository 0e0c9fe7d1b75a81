//! Explanations: which statement of which policy decided, what each step of AWS's evaluation found,
//! and for every statement that did not apply, the first reason. Field names are stable: the CLI prints
//! them, and the npm package and the playground show them in camelCase ([`crate::ffi::js`]).

use crate::condition::Miss;
use crate::context::Context;
use crate::eval::{Decision, Slot};
use crate::policy::{Effect, Policy, PolicyType, Statement, StatementMiss};
use crate::request::Request;
use serde::Serialize;
use std::fmt;

/// A statement of a policy.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct StatementRef {
    /// The policy's name.
    pub policy: String,
    /// The policy's type.
    pub policy_type: PolicyType,
    /// For SCPs and RCPs, the organization level (0 = root).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub level: Option<usize>,
    /// The statement's index in the policy's `Statement` array.
    pub statement: usize,
    /// The statement's `Sid`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
    /// The statement's effect.
    pub effect: Effect,
    /// The line the statement starts on in the policy text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
}

impl StatementRef {
    pub(crate) fn new(slot: Slot, policy: &Policy, stmt: &Statement) -> Self {
        let level = match slot {
            Slot::Rcp(i) | Slot::Scp(i) => Some(i),
            _ => None,
        };
        StatementRef {
            policy: policy.name.clone(),
            policy_type: policy.policy_type,
            level,
            statement: stmt.index,
            sid: stmt.sid.clone(),
            effect: stmt.effect,
            line: stmt.location.map(|l| l.line),
        }
    }

    /// "statement `Sid` (Statement[1]) of identity-based policy `name`".
    pub fn describe(&self) -> String {
        let stmt = match &self.sid {
            Some(sid) if !sid.is_empty() => {
                format!("statement `{sid}` (Statement[{}])", self.statement)
            }
            _ => format!("Statement[{}]", self.statement),
        };
        let level = match self.level {
            Some(l) => format!(" at organization level {l}"),
            None => String::new(),
        };
        format!(
            "{stmt} of {} `{}`{level}",
            self.policy_type.label(),
            self.policy
        )
    }
}

/// Why a statement did not apply.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Reason {
    /// `Principal`/`NotPrincipal` does not cover the caller.
    PrincipalNotMatched {
        /// The caller.
        principal: String,
        /// The statement's principals as written (`AWS:…`, `Service:…`).
        policy_principals: Vec<String>,
        /// Whether the element is `NotPrincipal`.
        negated: bool,
    },
    /// `Action`/`NotAction` does not cover the action.
    ActionNotMatched {
        /// The requested action.
        action: String,
        /// The statement's action patterns.
        patterns: Vec<String>,
        /// Whether the element is `NotAction`.
        negated: bool,
    },
    /// `Resource`/`NotResource` does not cover the resource.
    ResourceNotMatched {
        /// The requested resource.
        resource: String,
        /// The statement's resource patterns.
        patterns: Vec<String>,
        /// Whether the element is `NotResource`.
        negated: bool,
        /// Policy variables that had no value in the request.
        #[serde(skip_serializing_if = "Vec::is_empty")]
        unresolved_variables: Vec<String>,
    },
    /// A condition is false.
    ConditionNotMet {
        /// The operator as written, e.g. `ForAnyValue:StringLike`.
        operator: String,
        /// The condition key as written.
        key: String,
        /// The policy's values.
        policy_values: Vec<String>,
        /// The request's values for the key, absent when the key is not in the request.
        #[serde(skip_serializing_if = "Option::is_none")]
        request_values: Option<Vec<String>>,
        /// `missing`, `no_match`, `malformed`, `invalid_policy_value` or `multivalued_key`.
        problem: ConditionProblem,
    },
}

/// How a condition failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "wasm", derive(tsify::Tsify))]
pub enum ConditionProblem {
    /// The key is not in the request.
    Missing,
    /// The values do not satisfy the operator.
    NoMatch,
    /// A request value is not of the operator's type.
    Malformed,
    /// A policy value is not of the operator's type: it matches nothing, and a negated operator
    /// cannot hold on it.
    InvalidPolicyValue,
    /// The request gives the key as a set of values, and the operator has no `ForAnyValue:` or
    /// `ForAllValues:`.
    MultivaluedKey,
}

/// What one statement did for this request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct StatementExplanation {
    /// The statement.
    #[serde(flatten)]
    pub statement: StatementRef,
    /// Whether it applies to the request.
    pub applies: bool,
    /// When it does not apply, the first reason.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<Reason>,
    /// The reason in words.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(skip)]
    pub(crate) order: usize,
}

fn list<S: AsRef<str>>(items: &[S]) -> String {
    let quoted: Vec<String> = items.iter().map(|s| format!("`{}`", s.as_ref())).collect();
    format!("[{}]", quoted.join(", "))
}

impl StatementExplanation {
    pub(crate) fn new(
        order: usize,
        statement: StatementRef,
        miss: Option<&StatementMiss>,
        stmt: &Statement,
        req: &Request,
        ctx: &Context<'_>,
    ) -> Self {
        let (reason, message) = match miss {
            None => (None, None),
            Some(m) => {
                let (r, msg) = reason(m, stmt, req, ctx);
                (Some(r), Some(msg))
            }
        };
        StatementExplanation {
            statement,
            applies: miss.is_none(),
            reason,
            message,
            order,
        }
    }
}

fn reason(
    m: &StatementMiss,
    stmt: &Statement,
    req: &Request,
    ctx: &Context<'_>,
) -> (Reason, String) {
    match m {
        StatementMiss::Principal => {
            let (raw, negated) = stmt
                .principal
                .as_ref()
                .map(|p| (p.raw.clone(), p.negated))
                .unwrap_or_default();
            let msg = if negated {
                format!(
                    "principal `{}` is excluded by NotPrincipal {}",
                    req.principal.arn,
                    list(&raw)
                )
            } else {
                format!(
                    "principal `{}` is not in Principal {}",
                    req.principal.arn,
                    list(&raw)
                )
            };
            (
                Reason::PrincipalNotMatched {
                    principal: req.principal.arn.clone(),
                    policy_principals: raw,
                    negated,
                },
                msg,
            )
        }
        StatementMiss::Action => {
            let a = &stmt.action;
            let msg = if a.negated {
                format!(
                    "action `{}` is excluded by NotAction {}",
                    req.action,
                    list(&a.raw)
                )
            } else {
                format!("action `{}` is not in Action {}", req.action, list(&a.raw))
            };
            (
                Reason::ActionNotMatched {
                    action: req.action.clone(),
                    patterns: a.raw.clone(),
                    negated: a.negated,
                },
                msg,
            )
        }
        StatementMiss::Resource { unresolved } => {
            let (raw, negated) = stmt
                .resource
                .as_ref()
                .map(|r| (r.raw.clone(), r.negated))
                .unwrap_or_default();
            let mut msg = if negated {
                format!(
                    "resource `{}` is excluded by NotResource {}",
                    req.resource,
                    list(&raw)
                )
            } else {
                format!(
                    "resource `{}` does not match Resource {}",
                    req.resource,
                    list(&raw)
                )
            };
            for v in unresolved {
                msg.push_str(&format!(
                    "; policy variable `${{{v}}}` has no single value in the request"
                ));
            }
            (
                Reason::ResourceNotMatched {
                    resource: req.resource.clone(),
                    patterns: raw,
                    negated,
                    unresolved_variables: unresolved.clone(),
                },
                msg,
            )
        }
        StatementMiss::Condition { index, miss } => {
            let Some(c) = stmt.conditions.get(*index) else {
                return (
                    Reason::ConditionNotMet {
                        operator: String::new(),
                        key: String::new(),
                        policy_values: Vec::new(),
                        request_values: None,
                        problem: ConditionProblem::NoMatch,
                    },
                    "a condition is false".into(),
                );
            };
            let request_values = ctx.get(&c.key).map(|v| v.values().to_vec());
            let head = format!(
                "condition `{}` on `{}` is false",
                c.operator_name, c.key_name
            );
            let (problem, msg) = match miss {
                Miss::Missing => {
                    let why = match &request_values {
                        Some(_) => "the key has no values in the request".to_owned(),
                        None => "the key is not in the request".to_owned(),
                    };
                    (ConditionProblem::Missing, format!("{head}: {why}"))
                }
                Miss::NoMatch => {
                    let got = match &request_values {
                        Some(v) => format!("the request has {}", list(v)),
                        None => "the key is not in the request".to_owned(),
                    };
                    let vars = c.variables();
                    let var_note = if vars.is_empty() {
                        String::new()
                    } else {
                        format!(
                            " (with policy variables {})",
                            list(&vars.iter().map(|v| format!("${{{v}}}")).collect::<Vec<_>>())
                        )
                    };
                    let invalid = c.invalid_values();
                    let invalid_note = match invalid.as_slice() {
                        [] => String::new(),
                        [one] => format!(
                            "; `{one}` is not {}, and matches nothing",
                            crate::condition::expected_shape(c.op.family)
                        ),
                        more => format!(
                            "; {} are not {}, and match nothing",
                            list(more),
                            crate::condition::expected_shape(c.op.family)
                        ),
                    };
                    (
                        ConditionProblem::NoMatch,
                        format!(
                            "{head}: {got}, the policy has {}{var_note}{invalid_note}",
                            list(&c.raw_values)
                        ),
                    )
                }
                Miss::Malformed { value, expected } => (
                    ConditionProblem::Malformed,
                    format!("{head}: the request value `{value}` is not {expected}"),
                ),
                Miss::InvalidPolicyValue { value, expected } => (
                    ConditionProblem::InvalidPolicyValue,
                    format!(
                        "{head}: the policy value `{value}` is not {expected}: it matches nothing, and the condition cannot hold on a request value it cannot be compared with"
                    ),
                ),
                Miss::Multivalued => (
                    ConditionProblem::MultivaluedKey,
                    format!(
                        "{head}: the request gives the key as a set of values ({}), and without `ForAnyValue:` or `ForAllValues:` an operator does not hold on a multivalued key",
                        list(request_values.as_deref().unwrap_or_default())
                    ),
                ),
            };
            (
                Reason::ConditionNotMet {
                    operator: c.operator_name.clone(),
                    key: c.key_name.clone(),
                    policy_values: c.raw_values.clone(),
                    request_values,
                    problem,
                },
                msg,
            )
        }
    }
}

/// A step of AWS's evaluation flow.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "wasm", derive(tsify::Tsify))]
pub enum StepKind {
    /// Looking for an applicable `Deny` in every policy.
    ExplicitDeny,
    /// Resource control policies.
    Rcp,
    /// Service control policies.
    Scp,
    /// Resource-based policies.
    ResourcePolicy,
    /// Identity-based policies.
    Identity,
    /// Permissions boundaries.
    Boundary,
    /// Session policies.
    Session,
}

/// What a step found.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "wasm", derive(tsify::Tsify))]
pub enum StepOutcome {
    /// The step lets evaluation go on.
    Pass,
    /// The step grants access.
    Allow,
    /// The step ends evaluation with a deny.
    Deny,
    /// Nothing of this kind applies.
    NotApplicable,
}

/// One step of the evaluation, in order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "wasm", derive(tsify::Tsify))]
pub struct Step {
    /// The step.
    pub step: StepKind,
    /// For SCPs, RCPs and boundaries, which level or which boundary.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub level: Option<usize>,
    /// What it found.
    pub outcome: StepOutcome,
    /// In words.
    pub detail: String,
}

impl Step {
    pub(crate) fn new(
        step: StepKind,
        level: Option<usize>,
        outcome: StepOutcome,
        detail: String,
    ) -> Self {
        Step {
            step,
            level,
            outcome,
            detail,
        }
    }
}

/// A decision with its reasons.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Explanation {
    /// The decision.
    pub decision: Decision,
    /// One sentence.
    pub summary: String,
    /// The statements that decided: the applicable denies for `ExplicitDeny`, the allows that
    /// granted access for `Allow`, none for `ImplicitDeny`.
    pub deciding: Vec<StatementRef>,
    /// The evaluation steps taken, in order.
    pub steps: Vec<Step>,
    /// Every statement evaluated, in evaluation order.
    pub statements: Vec<StatementExplanation>,
}

impl Explanation {
    pub(crate) fn build(
        decision: Decision,
        deciding: Vec<StatementRef>,
        steps: Vec<Step>,
        statements: Vec<StatementExplanation>,
        summary: String,
    ) -> Self {
        Explanation {
            decision,
            summary,
            deciding,
            steps,
            statements,
        }
    }
}

impl fmt::Display for Explanation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "Decision: {}", self.decision)?;
        writeln!(f, "  {}", self.summary)?;
        if !self.deciding.is_empty() {
            writeln!(f, "Deciding statements:")?;
            for d in &self.deciding {
                writeln!(f, "  - {}", d.describe())?;
            }
        }
        writeln!(f, "Evaluation:")?;
        for s in &self.steps {
            let mark = match s.outcome {
                StepOutcome::Pass => "·",
                StepOutcome::Allow => "✓",
                StepOutcome::Deny => "✗",
                StepOutcome::NotApplicable => "-",
            };
            writeln!(f, "  {mark} {}", s.detail)?;
        }
        writeln!(f, "Statements:")?;
        for s in &self.statements {
            let st = &s.statement;
            let sid = st
                .sid
                .as_deref()
                .map(|x| format!(" {x}"))
                .unwrap_or_default();
            let head = format!(
                "{} `{}` Statement[{}]{sid} ({:?})",
                st.policy_type.label(),
                st.policy,
                st.statement,
                st.effect
            );
            match &s.message {
                None => writeln!(f, "  {head}: applies")?,
                Some(m) => writeln!(f, "  {head}: does not apply: {m}")?,
            }
        }
        Ok(())
    }
}
