//! AWS account data as Iamlet reads it, with no I/O: the JSON of `aws iam
//! get-account-authorization-details` ([`export`]), the organization file of SCPs, RCPs and
//! resource-based policies ([`organization`]), and principal resolution: from a principal's ARN to
//! its compiled policy set ([`Snapshot`], [`Parts`], [`Resolved`]), and the resource's side of a
//! request ([`prepare`]: which resource-based policy applies, a role's trust policy for `sts:`
//! actions, another account's RCPs, the resource's organization keys).
//!
//! The sidecar's identity store (`iamlet_store`) reads these documents from files, URLs or the live
//! IAM API and caches what this crate resolves; a fuzz target feeds this crate arbitrary exports.
//!
//! ```
//! use iamlet_account::{export, PrincipalKey, Snapshot};
//!
//! let text = r#"{"UserDetailList": [{"UserName": "alice", "UserId": "AIDAEXAMPLE",
//!     "Arn": "arn:aws:iam::111122223333:user/alice",
//!     "UserPolicyList": [{"PolicyName": "read", "PolicyDocument": {"Version": "2012-10-17",
//!         "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}}]}]}"#;
//! let details = export::parse_export("account.json", text)?;
//! let snapshot = Snapshot::build(&[("account.json".into(), details)], "account.json")?;
//! let key = PrincipalKey::for_principal("arn:aws:iam::111122223333:user/alice", None)?;
//! let resolved = snapshot.parts(&key)?.assemble(None);
//! let request = resolved.request(
//!     "arn:aws:iam::111122223333:user/alice",
//!     "s3:GetObject",
//!     "arn:aws:s3:::bucket/key",
//!     Default::default(),
//! )?;
//! assert!(resolved.policy_set().evaluate(&request).is_allowed());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod error;
pub mod export;
pub mod organization;
mod prepare;
mod resolve;
pub mod saml;
mod snapshot;
pub mod xml;

pub use error::{EntityError, FetchError, LoadError, StoreError};
pub use prepare::{
    additions_with, prepare, resource_side, trusted_role, Prepared, Query, ResourceSide,
};
pub use resolve::{LevelSummary, Parts, PrincipalKey, Resolved, Summary};
pub use snapshot::Snapshot;
