//! The guest: glue between the WIT interface (`wasm-pkg/wit/engine.wit`) and `iamlet-engine`. It holds
//! no logic of its own; requests arrive as typed records and are never re-parsed from JSON.

#![deny(
    rust_2018_idioms,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::todo,
    clippy::unimplemented
)]

wit_bindgen::generate!({ path: "../wit", world: "engine" });

#[cfg(target_arch = "wasm32")]
#[global_allocator]
static ALLOCATOR: iamlet_wasm_alloc::SizeClasses = iamlet_wasm_alloc::SizeClasses::new();

use exports::iamlet::engine::evaluator as wit;
use iamlet_engine::ffi::{self, PolicyInput, PolicyProblem};
use iamlet_engine::{
    ContextMap, ContextValue, Decision, Effect, PolicyType, Request, StatementRef,
};

struct Component;

export!(Component);

/// A compiled policy set living in the guest.
struct Set(iamlet_engine::PolicySet);

/// The WIT enum and the engine's `PolicyType` name the same seven types
/// ([`PolicyType::as_str`] is the WIT case name): both directions come from this one list, and each
/// generated `match` is exhaustive, so a type added on either side fails to compile here.
macro_rules! policy_type_mapping {
    ($($t:ident),* $(,)?) => {
        fn policy_type(t: wit::PolicyType) -> PolicyType {
            match t {
                $(wit::PolicyType::$t => PolicyType::$t,)*
            }
        }

        fn wit_policy_type(t: PolicyType) -> wit::PolicyType {
            match t {
                $(PolicyType::$t => wit::PolicyType::$t,)*
            }
        }
    };
}

policy_type_mapping!(Identity, Resource, Trust, Boundary, Scp, Rcp, Session);

fn input(p: wit::PolicyInput) -> PolicyInput {
    PolicyInput {
        name: p.name,
        policy_type: policy_type(p.policy_type),
        document: serde_json::Value::String(p.document),
        level: p.level.map(|l| l as usize),
    }
}

fn to_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

fn problem(p: PolicyProblem) -> wit::PolicyProblem {
    wit::PolicyProblem {
        policy: p.policy,
        path: p.path,
        message: p.message,
        display: p.display,
        line: p.line.map(to_u32),
        column: p.column.map(to_u32),
    }
}

fn statement_ref(s: StatementRef) -> wit::StatementRef {
    wit::StatementRef {
        policy: s.policy,
        policy_type: wit_policy_type(s.policy_type),
        level: s.level.map(to_u32),
        statement: to_u32(s.statement),
        sid: s.sid,
        allow: s.effect == Effect::Allow,
    }
}

fn evaluation(
    decision: Decision,
    deciding: Vec<StatementRef>,
    explanation_json: Option<String>,
) -> wit::Evaluation {
    wit::Evaluation {
        decision: match decision {
            Decision::Allow => wit::Decision::Allow,
            Decision::ExplicitDeny => wit::Decision::ExplicitDeny,
            Decision::ImplicitDeny => wit::Decision::ImplicitDeny,
        },
        deciding: deciding.into_iter().map(statement_ref).collect(),
        explanation_json,
    }
}

fn request(r: wit::Request) -> Result<Request, String> {
    let mut ctx = ContextMap::new();
    for e in r.context {
        let v = match e.value {
            wit::ContextValue::Single(s) => ContextValue::single(s),
            wit::ContextValue::Multi(m) => ContextValue::multi(m),
        };
        ctx.insert_owned(e.key, v);
    }
    ffi::request_from_parts(
        &r.principal,
        &r.action,
        &r.resource,
        r.resource_account,
        r.session_issuer,
        ctx,
    )
}

impl wit::GuestPolicySet for Set {
    fn create(policies: Vec<wit::PolicyInput>) -> Result<wit::PolicySet, Vec<wit::PolicyProblem>> {
        let inputs: Vec<PolicyInput> = policies.into_iter().map(input).collect();
        ffi::compile_policy_set(&inputs)
            .map(|set| wit::PolicySet::new(Set(set)))
            .map_err(|ps| ps.into_iter().map(problem).collect())
    }

    fn evaluate(&self, req: wit::Request, explain: bool) -> Result<wit::Evaluation, String> {
        let req = request(req)?;
        let (decision, deciding, explanation_json) = if explain {
            let x = self.0.explain(&req);
            let json = serde_json::to_string(&x).map_err(|e| e.to_string())?;
            (x.decision, x.deciding, Some(json))
        } else {
            let v = self.0.decide(&req);
            (v.decision, v.deciding, None)
        };
        Ok(evaluation(decision, deciding, explanation_json))
    }

    fn evaluate_packed(&self, req: Vec<u8>) -> Result<wit::Evaluation, String> {
        let v = self.0.decide(&ffi::packed::unpack(&req)?);
        Ok(evaluation(v.decision, v.deciding, None))
    }

    fn statement_count(&self) -> u32 {
        to_u32(self.0.statement_count())
    }
}

impl wit::Guest for Component {
    type PolicySet = Set;

    fn validate(policy: wit::PolicyInput) -> Vec<wit::PolicyProblem> {
        ffi::validate(&input(policy))
            .into_iter()
            .map(problem)
            .collect()
    }

    fn simulate_json(cases: String) -> String {
        ffi::simulate_json(&cases)
    }

    fn version() -> String {
        ffi::version().to_owned()
    }
}
