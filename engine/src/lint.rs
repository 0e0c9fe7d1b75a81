//! Policy validation findings in the spirit of IAM Access Analyzer's policy validation: errors (the
//! grammar, actions and condition keys the catalog does not know, operators that cannot work on a
//! key's type, a multivalued key without a set operator, resources and actions of a statement that
//! can never meet, an `Allow` in a resource control policy), security warnings (`iam:PassRole` on
//! `*`, `Allow` with `NotAction`/`NotResource`, wildcards granting permissions-management actions,
//! public principals without conditions), warnings (condition values of the wrong shape for their
//! operator, AWS's size quotas for the policy's type among them) and suggestions (missing `Version`,
//! empty arrays, redundant actions and statements). Each finding names its JSON path, its line:column and, where there is
//! one, a fix.

mod catalog_checks;
mod doc;
mod resources;
mod security;
mod suggestions;
mod values;

use crate::catalog::Catalog;
use crate::error::Location;
use crate::policy::{Policy, PolicyType};
use serde::Serialize;

/// How serious a finding is, most serious first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "wasm", derive(tsify::Tsify))]
pub enum Severity {
    /// The policy is invalid, or part of it can never take effect.
    Error,
    /// The policy grants more than it probably means to.
    SecurityWarning,
    /// The policy works, but not as it reads.
    Warning,
    /// The policy could be simpler or clearer.
    Suggestion,
}

impl Severity {
    /// How the severity reads in text output.
    pub fn label(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::SecurityWarning => "security warning",
            Severity::Warning => "warning",
            Severity::Suggestion => "suggestion",
        }
    }
}

/// One finding about a policy.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "wasm", derive(tsify::Tsify))]
pub struct Finding {
    /// How serious it is.
    pub severity: Severity,
    /// A stable identifier of the check (`unknown_action`, `pass_role_with_star`…).
    pub code: String,
    /// What is wrong, without path or position.
    pub message: String,
    /// The JSON path of the element (`Statement[1].Action[0]`; empty for the document).
    pub path: String,
    /// Where the element is in the text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "wasm", tsify(optional))]
    pub location: Option<Location>,
    /// How to fix it, when there is a clear way.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "wasm", tsify(optional))]
    pub fix: Option<String>,
}

impl std::fmt::Display for Finding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if let Some(loc) = self.location {
            write!(f, "{}:{}: ", loc.line, loc.column)?;
        }
        write!(f, "{} [{}]: ", self.severity.label(), self.code)?;
        if !self.path.is_empty() {
            write!(f, "{}: ", self.path)?;
        }
        write!(f, "{}", self.message)?;
        if let Some(fix) = &self.fix {
            write!(f, " (fix: {fix})")?;
        }
        Ok(())
    }
}

/// A finding at one element of the document, with a fix.
fn finding(
    severity: Severity,
    code: &str,
    at: &doc::Text,
    message: String,
    fix: String,
) -> Finding {
    Finding {
        severity,
        code: code.to_owned(),
        message,
        path: at.path.clone(),
        location: Some(at.location),
        fix: Some(fix),
    }
}

/// Lints a policy document of the given type with the embedded catalog. Findings are sorted by
/// position, then severity.
pub fn lint(text: &str, policy_type: PolicyType) -> Vec<Finding> {
    lint_with(text, policy_type, Catalog::embedded())
}

/// Lints with a given catalog (an empty catalog skips the action and condition-key checks).
pub fn lint_with(text: &str, policy_type: PolicyType, catalog: &Catalog) -> Vec<Finding> {
    let mut out = Vec::new();
    match Policy::parse(text, policy_type) {
        // AWS would refuse to store the policy as written (for a managed policy, or for the inline
        // policies of a user…: which quota binds depends on where it goes, so each is named).
        Ok(policy) => out.extend(policy.quota_findings().into_iter().map(|q| Finding {
            severity: Severity::Warning,
            code: "policy_size_quota".to_owned(),
            message: q.message,
            path: String::new(),
            location: None,
            fix: Some(
                "split the statements across several policies, or merge actions and resources with wildcards"
                    .to_owned(),
            ),
        })),
        Err(errors) => out.extend(errors.errors().iter().map(|e| {
            Finding {
                severity: Severity::Error,
                code: serde_json::to_value(e.kind())
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_else(|| "invalid".to_owned()),
                message: e.message().to_owned(),
                path: e.path().to_owned(),
                location: e.location(),
                fix: None,
            }
        })),
    }
    if let Some(doc) = doc::Doc::read(text) {
        if !catalog.is_empty() {
            catalog_checks::check(&doc, catalog, &mut out);
            resources::check(&doc, catalog, &mut out);
        }
        values::check(&doc, &mut out);
        if policy_type == PolicyType::Rcp {
            rcp_allows(&doc, &mut out);
        }
        security::check(&doc, catalog, policy_type, &mut out);
        suggestions::check(&doc, catalog, &mut out);
    }
    out.sort_by(|a, b| {
        let pos = |f: &Finding| f.location.map_or(0, |l| l.start);
        pos(a)
            .cmp(&pos(b))
            .then(a.severity.cmp(&b.severity))
            .then(a.code.cmp(&b.code))
    });
    out
}

/// AWS Organizations supports `Allow` in an RCP only in `RCPFullAWSAccess`, which it attaches to
/// every root, OU and account itself, and refuses it in the RCPs one writes.
fn rcp_allows(doc: &doc::Doc, out: &mut Vec<Finding>) {
    for s in doc
        .statements
        .iter()
        .filter(|s| s.effect.as_deref() == Some("Allow"))
    {
        out.push(Finding {
            severity: Severity::Error,
            code: "rcp_allow_not_supported".to_owned(),
            message: "AWS Organizations supports `Allow` in a resource control policy only in `RCPFullAWSAccess`, which AWS attaches everywhere: an RCP can only deny, and an `Allow` here neither grants nor withholds anything".to_owned(),
            path: format!("{}.Effect", s.path),
            location: s.effect_location.or(Some(s.location)),
            fix: Some("write the statement as a `Deny` of what must not happen (with a condition for the exceptions), or remove it".to_owned()),
        });
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// The codes found, in order.
    pub(crate) fn codes(text: &str, t: PolicyType) -> Vec<String> {
        lint(text, t).into_iter().map(|f| f.code).collect()
    }

    pub(crate) fn find(text: &str, t: PolicyType, code: &str) -> Option<Finding> {
        lint(text, t).into_iter().find(|f| f.code == code)
    }

    #[test]
    fn a_tight_policy_has_no_findings() {
        let text = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:GetObject","s3:ListBucket"],"Resource":"arn:aws:s3:::b/*","Condition":{"Bool":{"aws:SecureTransport":"true"}}}]}"#;
        assert_eq!(codes(text, PolicyType::Identity), Vec::<String>::new());
    }

    #[test]
    fn grammar_errors_are_findings_with_positions() {
        let text = "{\n \"Version\": \"2012-10-17\",\n \"Statement\": {\"Effect\": \"allow\", \"Action\": \"s3:GetObject\", \"Resource\": \"*\"}\n}";
        let f = lint(text, PolicyType::Identity);
        let first = f
            .first()
            .map(|f| (f.severity, f.code.as_str(), f.path.as_str()));
        assert_eq!(
            first,
            Some((Severity::Error, "invalid_value", "Statement.Effect"))
        );
        assert_eq!(f.first().and_then(|f| f.location).map(|l| l.line), Some(3));
        let syntax = codes("{\"Version\": ", PolicyType::Identity);
        assert_eq!(syntax, vec!["syntax"]);
    }

    #[test]
    fn size_quotas_are_warnings_naming_each_quota() {
        let statements: Vec<String> = (0..60)
            .map(|i| format!(r#"{{"Sid":"S{i}","Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::bucket-number-{i}/*"}}"#))
            .collect();
        let text = format!(
            r#"{{"Version":"2012-10-17","Statement":[{}]}}"#,
            statements.join(",")
        );
        let quota: Vec<Finding> = lint(&text, PolicyType::Identity)
            .into_iter()
            .filter(|f| f.code == "policy_size_quota")
            .collect();
        // Over the 2,048 of a user's inline policies and the 5,120 of a group's; under the others.
        assert_eq!(quota.len(), 2, "{quota:?}");
        assert!(quota.iter().all(|f| f.severity == Severity::Warning));
        assert!(
            quota[0].message.contains("AWS allows 2,048"),
            "{}",
            quota[0]
        );
        assert_eq!(
            codes(
                r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}]}"#,
                PolicyType::Identity
            ),
            Vec::<String>::new()
        );
    }

    #[test]
    fn rcps_can_only_deny() {
        let text = r#"{"Version":"2012-10-17","Statement":[
            {"Sid":"Full","Effect":"Allow","Principal":"*","Action":"*","Resource":"*"},
            {"Sid":"NoPublicBuckets","Effect":"Deny","Principal":"*","Action":"s3:PutBucketPolicy","Resource":"*"}]}"#;
        let f = find(text, PolicyType::Rcp, "rcp_allow_not_supported");
        assert_eq!(
            f.as_ref().map(|f| (f.severity, f.path.as_str())),
            Some((Severity::Error, "Statement[0].Effect"))
        );
        assert_eq!(f.and_then(|f| f.location).map(|l| l.line), Some(2));
        let findings = lint(text, PolicyType::Rcp);
        assert_eq!(
            findings
                .iter()
                .filter(|f| f.code == "rcp_allow_not_supported")
                .count(),
            1
        );
        // An SCP's Allow is its point.
        assert!(find(text, PolicyType::Scp, "rcp_allow_not_supported").is_none());
    }

    #[test]
    fn display_reads_as_one_line() {
        let f = find(
            r#"{"Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}}"#,
            PolicyType::Identity,
            "missing_version",
        );
        assert_eq!(
            f.map(|f| f.to_string()),
            Some("1:1: suggestion [missing_version]: the policy has no `Version`: policy variables are not substituted and AWS reads it as 2008-10-17 (fix: add \"Version\": \"2012-10-17\")".to_owned())
        );
    }
}
