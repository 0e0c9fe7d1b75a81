//! AWS's Query protocol, as IAM (`2010-05-08`) and STS (`2011-06-15`) speak it: the parameters of a
//! form-encoded body or a query string (`Action=CreateUser&UserName=bob&Tags.member.1.Key=team`),
//! and XML answers: `<{Action}Response xmlns=…><{Action}Result>…` on success, `<ErrorResponse>` with
//! AWS's code on failure, which the AWS CLI and SDKs read as they read AWS's own.
//!
//! What this crate must not do: know any action. It reads and writes the protocol's shapes; the
//! services say what the parameters mean.

#![forbid(unsafe_code)]

mod params;
mod xml;

pub use params::{lower_first, DuplicateParameter, Params};
pub use xml::{element, error_document, escape, success_document, Fault, Xml};
