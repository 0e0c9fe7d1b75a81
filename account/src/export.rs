//! The account export: the JSON that `aws iam get-account-authorization-details` prints (and that the
//! `GetAccountAuthorizationDetails` API returns, page by page). Only what evaluation needs is typed;
//! every other field (`CreateDate`, `RoleLastUsed`, `InstanceProfileList`…) is accepted and ignored.
//!
//! Policy documents come either as JSON objects (what the AWS CLI prints) or as strings: URL-encoded,
//! as the API returns them, or plain JSON text.

use crate::error::LoadError;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// One account's users, groups, roles and managed policies.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct AccountDetails {
    /// IAM users.
    #[serde(default)]
    pub user_detail_list: Vec<UserDetail>,
    /// IAM groups.
    #[serde(default)]
    pub group_detail_list: Vec<GroupDetail>,
    /// IAM roles.
    #[serde(default)]
    pub role_detail_list: Vec<RoleDetail>,
    /// Managed policies, AWS-managed and customer managed, with their versions.
    #[serde(default)]
    pub policies: Vec<ManagedPolicyDetail>,
    /// OpenID Connect identity providers (`AssumeRoleWithWebIdentity`). Iamlet's addition to the
    /// export's shape (AWS's `GetAccountAuthorizationDetails` has no providers): each as
    /// `GetOpenIDConnectProvider` describes it, with its ARN.
    #[serde(
        default,
        rename = "OpenIDConnectProviderList",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub oidc_providers: Vec<OidcProviderDetail>,
    /// SAML 2.0 identity providers (`AssumeRoleWithSAML`), Iamlet's addition as for OpenID Connect:
    /// each with its ARN and the metadata document `CreateSAMLProvider` took.
    #[serde(
        default,
        rename = "SAMLProviderList",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub saml_providers: Vec<SamlProviderDetail>,
}

/// A SAML 2.0 identity provider: the IdP whose signed assertions `AssumeRoleWithSAML` accepts for
/// roles that trust `Federated: ARN`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
pub struct SamlProviderDetail {
    /// `arn:aws:iam::ACCOUNT:saml-provider/NAME`.
    #[serde(rename = "Arn")]
    pub arn: String,
    /// The IdP's metadata document (its `entityID` and signing certificates), as IAM stores it.
    #[serde(rename = "SAMLMetadataDocument")]
    pub saml_metadata_document: String,
}

impl SamlProviderDetail {
    /// The metadata, read; or why the entry is not a provider (its ARN must be
    /// `arn:PARTITION:iam::ACCOUNT:saml-provider/NAME`, its document SAML metadata with a signing
    /// certificate).
    pub fn check(&self) -> Result<crate::saml::SamlMetadata, String> {
        if crate::saml::parse_saml_arn(&self.arn).is_none() {
            return Err(format!("`{}` is not a SAML provider ARN", self.arn));
        }
        crate::saml::SamlMetadata::parse(&self.saml_metadata_document).map_err(|e| e.to_string())
    }

    /// The provider's name: the ARN's last part.
    pub fn name(&self) -> &str {
        crate::saml::parse_saml_arn(&self.arn).map_or("", |a| a.name)
    }
}

/// An OpenID Connect identity provider: the issuer whose tokens `AssumeRoleWithWebIdentity`
/// accepts for roles that trust `Federated: ARN`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct OidcProviderDetail {
    /// `arn:aws:iam::ACCOUNT:oidc-provider/HOST/PATH`.
    pub arn: String,
    /// The issuer without `https://` (`oidc.example.com/id/1`), as IAM returns it.
    pub url: String,
    /// The audiences (`aud`, or `azp`) its tokens may carry.
    #[serde(default, rename = "ClientIDList")]
    pub client_id_list: Vec<String>,
    /// SHA-1 thumbprints (40 hex digits) of the top certificate of the chain its JWKS host
    /// serves: trusted when no CA the system trusts signs that host's certificate.
    #[serde(default)]
    pub thumbprint_list: Vec<String>,
}

impl OidcProviderDetail {
    /// The issuer (`iss`) its tokens name: `https://` and the URL.
    pub fn issuer(&self) -> String {
        format!("https://{}", self.url)
    }

    /// Why the entry is not a provider, if it is not one: its ARN must be
    /// `arn:PARTITION:iam::ACCOUNT:oidc-provider/` followed by its URL.
    pub fn check(&self) -> Result<(), String> {
        let arn = crate::export::parse_oidc_arn(&self.arn)
            .ok_or_else(|| format!("`{}` is not an OpenID Connect provider ARN", self.arn))?;
        if arn.url != self.url {
            return Err(format!(
                "the ARN `{}` names the URL `{}`, not `{}`",
                self.arn, arn.url, self.url
            ));
        }
        if self.url.is_empty() || self.url.contains(['?', '#', '@', ' ']) {
            return Err(format!(
                "`{}` is not an issuer URL without https://",
                self.url
            ));
        }
        if let Some(t) = self
            .thumbprint_list
            .iter()
            .find(|t| t.len() != 40 || !t.bytes().all(|b| b.is_ascii_hexdigit()))
        {
            return Err(format!("the thumbprint `{t}` is not 40 hexadecimal digits"));
        }
        Ok(())
    }
}

/// An OpenID Connect provider's ARN, read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OidcArn<'a> {
    /// `aws`, `aws-cn`…
    pub partition: &'a str,
    /// Twelve digits.
    pub account: &'a str,
    /// The issuer without `https://`.
    pub url: &'a str,
}

/// Reads `arn:PARTITION:iam::ACCOUNT:oidc-provider/URL`.
pub fn parse_oidc_arn(arn: &str) -> Option<OidcArn<'_>> {
    let rest = arn.strip_prefix("arn:")?;
    let (partition, rest) = rest.split_once(':')?;
    let rest = rest.strip_prefix("iam::")?;
    let (account, url) = rest.split_once(':')?;
    let url = url.strip_prefix("oidc-provider/")?;
    (!partition.is_empty()
        && account.len() == 12
        && account.bytes().all(|b| b.is_ascii_digit())
        && !url.is_empty())
    .then_some(OidcArn {
        partition,
        account,
        url,
    })
}

/// An IAM user.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct UserDetail {
    /// The user's name.
    pub user_name: String,
    /// Its ARN, path included.
    pub arn: String,
    /// The stable id (`AIDA…`): the value of `aws:userid`.
    #[serde(default)]
    pub user_id: Option<String>,
    /// The path (`/division/`).
    #[serde(default)]
    pub path: Option<String>,
    /// When the user was created (ISO 8601, as the export gives it).
    #[serde(default)]
    pub create_date: Option<String>,
    /// Inline policies.
    #[serde(default)]
    pub user_policy_list: Vec<InlinePolicy>,
    /// Names of the groups the user belongs to.
    #[serde(default)]
    pub group_list: Vec<String>,
    /// Attached managed policies.
    #[serde(default)]
    pub attached_managed_policies: Vec<AttachedPolicy>,
    /// The permissions boundary.
    #[serde(default)]
    pub permissions_boundary: Option<PermissionsBoundary>,
    /// Tags: `aws:PrincipalTag/Key`.
    #[serde(default)]
    pub tags: Vec<Tag>,
}

/// An IAM group.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct GroupDetail {
    /// The group's name.
    pub group_name: String,
    /// Its ARN.
    pub arn: String,
    /// Inline policies.
    #[serde(default)]
    pub group_policy_list: Vec<InlinePolicy>,
    /// Attached managed policies.
    #[serde(default)]
    pub attached_managed_policies: Vec<AttachedPolicy>,
}

/// An IAM role.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct RoleDetail {
    /// The role's name.
    pub role_name: String,
    /// Its ARN, path included.
    pub arn: String,
    /// The stable id (`AROA…`): `aws:userid` of its sessions is `RoleId:SessionName`.
    #[serde(default)]
    pub role_id: Option<String>,
    /// The path.
    #[serde(default)]
    pub path: Option<String>,
    /// The trust policy.
    #[serde(default)]
    pub assume_role_policy_document: Option<Document>,
    /// Inline policies.
    #[serde(default)]
    pub role_policy_list: Vec<InlinePolicy>,
    /// Attached managed policies.
    #[serde(default)]
    pub attached_managed_policies: Vec<AttachedPolicy>,
    /// The permissions boundary.
    #[serde(default)]
    pub permissions_boundary: Option<PermissionsBoundary>,
    /// Tags: `aws:PrincipalTag/Key` of the role's sessions.
    #[serde(default)]
    pub tags: Vec<Tag>,
}

/// A managed policy and its versions.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ManagedPolicyDetail {
    /// The policy's name (when absent, the ARN's last segment is used in messages).
    #[serde(default)]
    pub policy_name: String,
    /// Its ARN (`arn:aws:iam::aws:policy/…` for AWS-managed policies).
    pub arn: String,
    /// The id of the version in force (checked against `IsDefaultVersion`).
    #[serde(default)]
    pub default_version_id: Option<String>,
    /// The stored versions.
    #[serde(default)]
    pub policy_version_list: Vec<PolicyVersion>,
}

/// One version of a managed policy.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct PolicyVersion {
    /// `v1`, `v2`…
    #[serde(default)]
    pub version_id: String,
    /// Whether this version is the one in force.
    #[serde(default)]
    pub is_default_version: bool,
    /// The document.
    #[serde(default)]
    pub document: Option<Document>,
}

/// An inline policy.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct InlinePolicy {
    /// The policy's name (unique within its user, group or role).
    pub policy_name: String,
    /// The document.
    pub policy_document: Document,
}

/// A managed policy attached to a user, group or role.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct AttachedPolicy {
    /// The policy's name.
    #[serde(default)]
    pub policy_name: Option<String>,
    /// The policy's ARN.
    pub policy_arn: String,
}

/// A permissions boundary: a managed policy.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct PermissionsBoundary {
    /// `Policy`: the only type AWS has.
    #[serde(default)]
    pub permissions_boundary_type: Option<String>,
    /// The managed policy's ARN.
    pub permissions_boundary_arn: String,
}

/// A tag.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Tag {
    /// The key.
    pub key: String,
    /// The value.
    #[serde(default)]
    pub value: String,
}

/// A policy document's JSON text, decoded from however the export carried it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Document(pub String);

impl Document {
    /// Decodes a document given as a string: URL-encoded (as the IAM API returns documents) or plain
    /// JSON text.
    pub fn from_text(text: &str) -> Result<Self, String> {
        let trimmed = text.trim_start();
        if trimmed.starts_with('{') {
            return Ok(Document(text.to_owned()));
        }
        percent_encoding::percent_decode_str(text)
            .decode_utf8()
            .map(|s| Document(s.into_owned()))
            .map_err(|e| format!("the URL-encoded policy document is not UTF-8: {e}"))
    }

    /// The JSON text.
    pub fn text(&self) -> &str {
        &self.0
    }
}

impl Serialize for Document {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Document {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match serde_json::Value::deserialize(d)? {
            serde_json::Value::String(s) => {
                Document::from_text(&s).map_err(serde::de::Error::custom)
            }
            v @ serde_json::Value::Object(_) => serde_json::to_string_pretty(&v)
                .map(Document)
                .map_err(serde::de::Error::custom),
            _ => Err(serde::de::Error::custom(
                "a policy document must be a JSON object or a (URL-encoded) string",
            )),
        }
    }
}

/// Parses an export, naming the JSON path of a value of the wrong shape.
pub fn parse_export(source_name: &str, text: &str) -> Result<AccountDetails, LoadError> {
    parse_json(source_name, text)
}

/// Parses JSON into `T`, naming the JSON path of a value of the wrong shape.
pub fn parse_json<T: serde::de::DeserializeOwned>(
    source_name: &str,
    text: &str,
) -> Result<T, LoadError> {
    let mut de = serde_json::Deserializer::from_str(text);
    let value = serde_path_to_error::deserialize(&mut de).map_err(|e| LoadError::Format {
        source_name: source_name.to_owned(),
        path: display_path(e.path()),
        message: e.inner().to_string(),
    })?;
    de.end().map_err(|e| LoadError::Format {
        source_name: source_name.to_owned(),
        path: String::new(),
        message: e.to_string(),
    })?;
    Ok(value)
}

/// The path as `UserDetailList[2].Tags[0].Key`; empty for the document itself (which
/// serde_path_to_error writes `.`).
fn display_path(path: &serde_path_to_error::Path) -> String {
    let s = path.to_string();
    if s == "." {
        String::new()
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_as_objects_or_url_encoded_strings() {
        let text = r#"{"RoleDetailList":[{"RoleName":"r","Arn":"arn:aws:iam::111122223333:role/r",
            "AssumeRolePolicyDocument":"%7B%22Version%22%3A%222012-10-17%22%7D",
            "RolePolicyList":[{"PolicyName":"p","PolicyDocument":{"Version":"2012-10-17"}}],
            "RoleLastUsed":{"Region":"us-east-1"}}]}"#;
        let d = parse_export("t", text).unwrap();
        let role = &d.role_detail_list[0];
        assert_eq!(
            role.assume_role_policy_document.as_ref().unwrap().text(),
            r#"{"Version":"2012-10-17"}"#
        );
        assert!(role.role_policy_list[0]
            .policy_document
            .text()
            .contains("2012-10-17"));
    }

    #[test]
    fn shape_errors_name_their_path() {
        let text = r#"{"UserDetailList":[{"UserName":"a","Arn":"x","Tags":[{"Key":5}]}]}"#;
        let e = parse_export("acct.json", text).unwrap_err();
        let LoadError::Format { path, .. } = &e else {
            panic!("{e}")
        };
        assert_eq!(path, "UserDetailList[0].Tags[0].Key");
        assert!(e
            .to_string()
            .starts_with("acct.json: UserDetailList[0].Tags[0].Key: "));
    }
}
