//! IAM's quotas: AWS's per-entity limits, and per-account counts whose defaults are AWS's default
//! quotas (adjustable in AWS through Service Quotas, here through `[iam.quotas]`).

use serde::Deserialize;

/// The quotas the store enforces.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(default, rename_all = "snake_case", deny_unknown_fields)]
pub struct Quotas {
    /// Users per account (5,000).
    pub users: usize,
    /// Groups per account (300).
    pub groups: usize,
    /// Roles per account (1,000).
    pub roles: usize,
    /// Customer managed policies per account (1,500).
    pub managed_policies: usize,
    /// Instance profiles per account (1,000).
    pub instance_profiles: usize,
    /// Groups a user is in (10).
    pub groups_per_user: usize,
    /// Managed policies attached to one user, group or role (10).
    pub managed_policies_per_entity: usize,
    /// Access keys per user (2).
    pub access_keys_per_user: usize,
    /// Versions of one managed policy (5).
    pub policy_versions: usize,
    /// MFA devices per user (8).
    pub mfa_devices_per_user: usize,
    /// Roles in one instance profile (1).
    pub roles_per_instance_profile: usize,
    /// Aliases per account (1).
    pub account_aliases: usize,
    /// OpenID Connect providers per account (100).
    pub oidc_providers: usize,
    /// SAML providers per account (100).
    pub saml_providers: usize,
}

impl Default for Quotas {
    fn default() -> Self {
        Quotas {
            users: 5000,
            groups: 300,
            roles: 1000,
            managed_policies: 1500,
            instance_profiles: 1000,
            groups_per_user: 10,
            managed_policies_per_entity: 10,
            access_keys_per_user: 2,
            policy_versions: 5,
            mfa_devices_per_user: 8,
            roles_per_instance_profile: 1,
            account_aliases: 1,
            oidc_providers: 100,
            saml_providers: 100,
        }
    }
}

/// AWS's limits on policy documents, in characters without whitespace (as AWS counts them).
pub mod document {
    /// A user's inline policies together.
    pub const USER_INLINE: usize = 2048;
    /// A group's inline policies together.
    pub const GROUP_INLINE: usize = 5120;
    /// A role's inline policies together.
    pub const ROLE_INLINE: usize = 10_240;
    /// One managed policy version.
    pub const MANAGED: usize = 6144;
    /// A role's trust policy.
    pub const TRUST: usize = 2048;

    /// A document's size as AWS counts it: whitespace outside strings does not count.
    pub fn size(text: &str) -> usize {
        let mut n = 0;
        let mut in_string = false;
        let mut escaped = false;
        for c in text.chars() {
            if in_string {
                n += 1;
                if escaped {
                    escaped = false;
                } else if c == '\\' {
                    escaped = true;
                } else if c == '"' {
                    in_string = false;
                }
            } else if !c.is_whitespace() {
                n += 1;
                in_string = c == '"';
            }
        }
        n
    }

    #[cfg(test)]
    mod tests {
        #[test]
        fn whitespace_outside_strings_does_not_count() {
            assert_eq!(
                super::size("{ \"a b\" : [ 1 ,2 ] }"),
                "{\"a b\":[1,2]}".len()
            );
            assert_eq!(super::size("\"x\\\" y\""), 7);
        }
    }
}
