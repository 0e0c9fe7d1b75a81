//! Policy documents as IAM takes them: 1 to 131,072 characters of tab, newlines and printable
//! Latin-1, parsed by the engine as the policy type they are used as (`MalformedPolicyDocument`
//! carries the engine's message with the JSON path of what is wrong), and measured as AWS measures
//! them against its size quotas (whitespace outside strings is free).

use crate::error::{ErrorCode, IamError};
use crate::names::constraint;
use iamlet_engine::{Policy, PolicyType};

/// A policy document that parsed as its type.
#[derive(Clone, Debug)]
pub struct PolicyDocument {
    text: String,
    policy: Policy,
}

impl PolicyDocument {
    /// Checks a document given as parameter `param`.
    pub fn parse(
        param: &str,
        text: &str,
        policy_type: PolicyType,
    ) -> Result<PolicyDocument, IamError> {
        let len = text.chars().count();
        if !(1..=131_072).contains(&len) {
            return Err(constraint(
                param,
                "…",
                "Member must have length between 1 and 131072",
            ));
        }
        if !text
            .chars()
            .all(|c| matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{ff}'))
        {
            return Err(constraint(
                param,
                "…",
                "Member must satisfy regular expression pattern: [\\u0009\\u000A\\u000D\\u0020-\\u00FF]+",
            ));
        }
        let policy = Policy::parse(text, policy_type).map_err(|e| {
            let details: Vec<String> = e.errors().iter().map(ToString::to_string).collect();
            IamError::new(
                ErrorCode::MalformedPolicyDocument,
                format!("The policy document is malformed: {}", details.join("; ")),
            )
        })?;
        Ok(PolicyDocument {
            text: text.to_owned(),
            policy,
        })
    }

    /// The text, as given (IAM returns documents as they were sent).
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The parsed policy.
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// The text and the parsed policy.
    pub fn into_parts(self) -> (String, Policy) {
        (self.text, self.policy)
    }

    /// Its size as AWS counts it.
    pub fn size(&self) -> usize {
        crate::quotas::document::size(&self.text)
    }

    /// `LimitExceeded` in AWS's words when the document is larger than a quota
    /// (`Cannot exceed quota for PolicySize: 6144`).
    pub fn within(&self, quota: &str, max: usize) -> Result<(), IamError> {
        if self.size() > max {
            return Err(IamError::limit_exceeded(format!(
                "Cannot exceed quota for {quota}: {max}"
            )));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_are_checked_parsed_and_measured() {
        let text = r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}"#;
        let d = PolicyDocument::parse("PolicyDocument", text, PolicyType::Identity).unwrap();
        assert_eq!(d.text(), text);
        assert!(d.within("PolicySize", 6144).is_ok());
        let e = d.within("PolicySize", 10).unwrap_err();
        assert_eq!(e.code, ErrorCode::LimitExceeded);
        assert_eq!(e.message, "Cannot exceed quota for PolicySize: 10");

        let e = PolicyDocument::parse("PolicyDocument", "{", PolicyType::Identity).unwrap_err();
        assert_eq!(e.code, ErrorCode::MalformedPolicyDocument);
        // A trust policy needs a principal.
        let e =
            PolicyDocument::parse("AssumeRolePolicyDocument", text, PolicyType::Trust).unwrap_err();
        assert_eq!(e.code, ErrorCode::MalformedPolicyDocument);
        let e = PolicyDocument::parse("PolicyDocument", "", PolicyType::Identity).unwrap_err();
        assert_eq!(e.code, ErrorCode::ValidationError);
        let e = PolicyDocument::parse(
            "PolicyDocument",
            "{\"a\":\"\u{2603}\"}",
            PolicyType::Identity,
        )
        .unwrap_err();
        assert_eq!(e.code, ErrorCode::ValidationError);
        assert!(e.message.contains("'policyDocument'"), "{e}");
    }
}
