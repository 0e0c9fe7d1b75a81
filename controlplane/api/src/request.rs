//! A call's parameters read into IAM's typed values: every violation is AWS's `ValidationError`
//! (or `MalformedPolicyDocument`) naming the parameter, before anything is authorized or changed.

use iamlet_engine::PolicyType;
use iamlet_iam_store::names::missing;
use iamlet_iam_store::{
    check_policy_arn, parse_tag_keys, IamError, IamPath, Name, NameKind, Page, PathPrefix,
    PolicyDocument, Tag,
};
use iamlet_query::Params;

/// A call's parameters.
#[derive(Debug)]
pub(crate) struct Req(pub(crate) Params);

fn invalid(param: &str, value: &str, rule: &str) -> IamError {
    IamError::validation(format!(
        "1 validation error detected: Value '{}' at '{}' failed to satisfy constraint: {rule}",
        value.chars().take(256).collect::<String>(),
        iamlet_query::lower_first(param)
    ))
}

impl Req {
    /// A parameter.
    pub(crate) fn get(&self, param: &str) -> Option<&str> {
        self.0.get(param)
    }

    /// A required parameter.
    pub(crate) fn required(&self, param: &str) -> Result<&str, IamError> {
        self.get(param).ok_or_else(|| missing(param))
    }

    /// A required name.
    pub(crate) fn name(&self, param: &str, kind: NameKind) -> Result<Name, IamError> {
        Name::parse(param, self.required(param)?, kind)
    }

    /// An optional name.
    pub(crate) fn opt_name(&self, param: &str, kind: NameKind) -> Result<Option<Name>, IamError> {
        self.get(param)
            .map(|v| Name::parse(param, v, kind))
            .transpose()
    }

    /// A path (`/` when absent).
    pub(crate) fn path(&self, param: &str) -> Result<IamPath, IamError> {
        IamPath::parse(param, self.get(param))
    }

    /// An optional path (`NewPath`).
    pub(crate) fn opt_path(&self, param: &str) -> Result<Option<IamPath>, IamError> {
        match self.get(param) {
            None => Ok(None),
            Some(v) => IamPath::parse(param, Some(v)).map(Some),
        }
    }

    /// `PathPrefix`.
    pub(crate) fn prefix(&self) -> Result<PathPrefix, IamError> {
        PathPrefix::parse("PathPrefix", self.get("PathPrefix"))
    }

    /// `Marker` and `MaxItems`.
    pub(crate) fn page(&self) -> Result<Page, IamError> {
        Page::parse(self.get("Marker"), self.get("MaxItems"))
    }

    /// `Tags.member.N.Key` / `.Value`.
    pub(crate) fn tags(&self) -> Result<Vec<Tag>, IamError> {
        let n = self.0.member_count("Tags");
        let keys = self.0.members("Tags", ".Key");
        if keys.len() != n {
            return Err(IamError::validation(
                "Tags.member.N must be numbered from 1 without gaps, each with a Key",
            ));
        }
        let pairs: Vec<(&str, &str)> = (1..=n)
            .map(|i| {
                let k = keys.get(i - 1).copied().unwrap_or_default();
                let v = self.get(&format!("Tags.member.{i}.Value")).unwrap_or("");
                (k, v)
            })
            .collect();
        Tag::parse_list(&pairs)
    }

    /// `TagKeys.member.N`.
    pub(crate) fn tag_keys(&self) -> Result<Vec<String>, IamError> {
        let keys = self.list("TagKeys")?;
        parse_tag_keys(&keys)
    }

    /// `Name.member.N`, numbered from 1 without gaps.
    pub(crate) fn list(&self, param: &str) -> Result<Vec<&str>, IamError> {
        let items = self.0.members(param, "");
        if items.len() != self.0.member_count(param) {
            return Err(IamError::validation(format!(
                "{param}.member.N must be numbered from 1 without gaps"
            )));
        }
        Ok(items)
    }

    /// `true` or `false`.
    pub(crate) fn bool(&self, param: &str) -> Result<Option<bool>, IamError> {
        match self.get(param) {
            None => Ok(None),
            Some(v) if v.eq_ignore_ascii_case("true") => Ok(Some(true)),
            Some(v) if v.eq_ignore_ascii_case("false") => Ok(Some(false)),
            Some(v) => Err(invalid(param, v, "Member must be true or false")),
        }
    }

    /// An integer within bounds.
    pub(crate) fn int(&self, param: &str, min: i64, max: i64) -> Result<Option<i64>, IamError> {
        match self.get(param) {
            None => Ok(None),
            Some(v) => match v.parse::<i64>() {
                Ok(n) if (min..=max).contains(&n) => Ok(Some(n)),
                _ => Err(invalid(
                    param,
                    v,
                    &format!("Member must have value between {min} and {max}"),
                )),
            },
        }
    }

    /// A required ARN (20 to 2048 characters, `arn:` first).
    pub(crate) fn arn(&self, param: &str) -> Result<String, IamError> {
        let v = self.required(param)?;
        if !(20..=2048).contains(&v.len()) || !v.starts_with("arn:") {
            return Err(invalid(
                param,
                v,
                "Member must have length between 20 and 2048 and be an ARN",
            ));
        }
        Ok(v.to_owned())
    }

    /// A required managed policy ARN (`PolicyArn`, `PermissionsBoundary`): `ValidationError` for a
    /// length out of bounds, `InvalidInput` (`ARN … is not valid.`) for what is no policy ARN.
    pub(crate) fn policy_arn(&self, param: &str) -> Result<String, IamError> {
        let arn = self.required(param)?;
        if !(20..=2048).contains(&arn.len()) {
            return Err(invalid(
                param,
                arn,
                "Member must have length between 20 and 2048",
            ));
        }
        check_policy_arn(arn)?;
        Ok(arn.to_owned())
    }

    /// An optional managed policy ARN.
    pub(crate) fn opt_policy_arn(&self, param: &str) -> Result<Option<String>, IamError> {
        match self.get(param) {
            None => Ok(None),
            Some(_) => self.policy_arn(param).map(Some),
        }
    }

    /// A required policy document, parsed by the engine as `policy_type` (the store checks its
    /// size against the quota of where it goes).
    pub(crate) fn policy_document(
        &self,
        param: &str,
        policy_type: PolicyType,
    ) -> Result<PolicyDocument, IamError> {
        PolicyDocument::parse(param, self.required(param)?, policy_type)
    }

    /// An optional description (roles, policies): up to 1000 characters.
    pub(crate) fn description(&self, param: &str) -> Result<Option<String>, IamError> {
        iamlet_iam_store::names::description(param, self.get(param))
    }
}
