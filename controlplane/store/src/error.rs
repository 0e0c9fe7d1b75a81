//! IAM's errors, with AWS's codes and HTTP statuses: the API answers them as `ErrorResponse`
//! documents, which the AWS CLI and SDKs raise as they raise AWS's own.

use std::fmt;

/// AWS's IAM error codes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    /// A name (or key) is already taken.
    EntityAlreadyExists,
    /// No such user, group, role, policy, key, profile or device.
    NoSuchEntity,
    /// The entity still has what must go first (a user's keys, a policy's attachments…).
    DeleteConflict,
    /// A quota is reached.
    LimitExceeded,
    /// A parameter breaks its constraint.
    ValidationError,
    /// A parameter's value is not accepted.
    InvalidInput,
    /// A policy document does not parse.
    MalformedPolicyDocument,
    /// A password breaks the account's password policy.
    PasswordPolicyViolation,
    /// A service-linked role or AWS managed policy cannot be changed this way.
    UnmodifiableEntity,
    /// The MFA codes given do not enable the device.
    InvalidAuthenticationCode,
    /// The credential report has not been generated.
    CredentialReportNotPresent,
    /// The last credential report is more than four hours old.
    CredentialReportExpired,
    /// The call is not for this kind of user (`ChangePassword` by the root user).
    InvalidUserType,
    /// The caller may not.
    AccessDenied,
    /// The Policy Simulator could not evaluate a stored policy.
    PolicyEvaluation,
    /// The service failed.
    ServiceFailure,
    /// The request names no action this API has, or the wrong version.
    InvalidAction,
    /// The request carries no signature.
    MissingAuthenticationToken,
    /// The access key is unknown or inactive.
    InvalidClientTokenId,
    /// The session's credentials have expired.
    ExpiredToken,
    /// The signature does not match.
    SignatureDoesNotMatch,
    /// The request's time is too far from the server's.
    RequestExpired,
    /// The signature lacks a part.
    IncompleteSignature,
}

impl ErrorCode {
    /// The code as AWS spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::EntityAlreadyExists => "EntityAlreadyExists",
            ErrorCode::NoSuchEntity => "NoSuchEntity",
            ErrorCode::DeleteConflict => "DeleteConflict",
            ErrorCode::LimitExceeded => "LimitExceeded",
            ErrorCode::ValidationError => "ValidationError",
            ErrorCode::InvalidInput => "InvalidInput",
            ErrorCode::MalformedPolicyDocument => "MalformedPolicyDocument",
            ErrorCode::PasswordPolicyViolation => "PasswordPolicyViolation",
            ErrorCode::UnmodifiableEntity => "UnmodifiableEntity",
            ErrorCode::InvalidAuthenticationCode => "InvalidAuthenticationCode",
            ErrorCode::CredentialReportNotPresent => "ReportNotPresent",
            ErrorCode::CredentialReportExpired => "ReportExpired",
            ErrorCode::InvalidUserType => "InvalidUserType",
            ErrorCode::AccessDenied => "AccessDenied",
            ErrorCode::PolicyEvaluation => "PolicyEvaluation",
            ErrorCode::ServiceFailure => "ServiceFailure",
            ErrorCode::InvalidAction => "InvalidAction",
            ErrorCode::MissingAuthenticationToken => "MissingAuthenticationToken",
            ErrorCode::InvalidClientTokenId => "InvalidClientTokenId",
            ErrorCode::ExpiredToken => "ExpiredToken",
            ErrorCode::SignatureDoesNotMatch => "SignatureDoesNotMatch",
            ErrorCode::RequestExpired => "RequestExpired",
            ErrorCode::IncompleteSignature => "IncompleteSignature",
        }
    }

    /// The HTTP status AWS answers it with.
    pub fn status(self) -> u16 {
        match self {
            ErrorCode::NoSuchEntity => 404,
            ErrorCode::CredentialReportNotPresent | ErrorCode::CredentialReportExpired => 410,
            ErrorCode::EntityAlreadyExists
            | ErrorCode::DeleteConflict
            | ErrorCode::LimitExceeded => 409,
            ErrorCode::AccessDenied
            | ErrorCode::InvalidAuthenticationCode
            | ErrorCode::MissingAuthenticationToken
            | ErrorCode::InvalidClientTokenId
            | ErrorCode::ExpiredToken
            | ErrorCode::SignatureDoesNotMatch
            | ErrorCode::RequestExpired => 403,
            ErrorCode::ServiceFailure | ErrorCode::PolicyEvaluation => 500,
            _ => 400,
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An IAM error: AWS's code and a message for the caller (never a secret).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct IamError {
    /// AWS's code.
    pub code: ErrorCode,
    /// What went wrong.
    pub message: String,
}

impl IamError {
    /// An error with a code.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        IamError {
            code,
            message: message.into(),
        }
    }

    /// `EntityAlreadyExists`.
    pub fn already_exists(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::EntityAlreadyExists, message)
    }

    /// `NoSuchEntity`.
    pub fn no_such_entity(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::NoSuchEntity, message)
    }

    /// `DeleteConflict`.
    pub fn delete_conflict(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::DeleteConflict, message)
    }

    /// `LimitExceeded`.
    pub fn limit_exceeded(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::LimitExceeded, message)
    }

    /// `ValidationError`.
    pub fn validation(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::ValidationError, message)
    }

    /// `InvalidInput`.
    pub fn invalid_input(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidInput, message)
    }

    /// `ServiceFailure`.
    pub fn service(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::ServiceFailure, message)
    }
}
