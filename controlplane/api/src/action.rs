//! The IAM API's actions: what a request's `Action` names, whether it changes anything, and the
//! `iam:` action it is authorized as.

macro_rules! actions {
    ($($name:ident $kind:ident,)*) => {
        /// An IAM API action Iamlet serves.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum Action {
            $(
                #[doc = concat!("`", stringify!($name), "`.")]
                $name,
            )*
        }

        impl Action {
            /// Every action served.
            pub const ALL: &'static [Action] = &[$(Action::$name,)*];

            /// The action a request names, if it is one served.
            pub fn parse(name: &str) -> Option<Action> {
                match name {
                    $(stringify!($name) => Some(Action::$name),)*
                    _ => None,
                }
            }

            /// Its name in the API (`CreateUser`).
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Action::$name => stringify!($name),)*
                }
            }

            /// Whether it only reads (CloudTrail's `readOnly`; a read transaction).
            pub fn read_only(self) -> bool {
                match self {
                    $(Action::$name => Kind::$kind == Kind::Read,)*
                }
            }
        }
    };
}

#[derive(PartialEq, Eq)]
enum Kind {
    Read,
    Write,
}

actions! {
    // Users.
    CreateUser Write, GetUser Read, ListUsers Read, UpdateUser Write, DeleteUser Write,
    TagUser Write, UntagUser Write, ListUserTags Read,
    // Groups.
    CreateGroup Write, GetGroup Read, ListGroups Read, UpdateGroup Write, DeleteGroup Write,
    AddUserToGroup Write, RemoveUserFromGroup Write, ListGroupsForUser Read,
    // Roles, instance profiles, service-linked roles.
    CreateRole Write, GetRole Read, ListRoles Read, UpdateRole Write, UpdateRoleDescription Write,
    DeleteRole Write, UpdateAssumeRolePolicy Write, TagRole Write, UntagRole Write,
    ListRoleTags Read,
    CreateInstanceProfile Write, GetInstanceProfile Read, ListInstanceProfiles Read,
    DeleteInstanceProfile Write, AddRoleToInstanceProfile Write,
    RemoveRoleFromInstanceProfile Write, ListInstanceProfilesForRole Read,
    CreateServiceLinkedRole Write, DeleteServiceLinkedRole Write,
    GetServiceLinkedRoleDeletionStatus Read,
    // Managed policies.
    CreatePolicy Write, GetPolicy Read, ListPolicies Read, DeletePolicy Write,
    CreatePolicyVersion Write, GetPolicyVersion Read, ListPolicyVersions Read,
    SetDefaultPolicyVersion Write, DeletePolicyVersion Write, ListEntitiesForPolicy Read,
    TagPolicy Write, UntagPolicy Write, ListPolicyTags Read,
    // Inline policies.
    PutUserPolicy Write, GetUserPolicy Read, ListUserPolicies Read, DeleteUserPolicy Write,
    PutGroupPolicy Write, GetGroupPolicy Read, ListGroupPolicies Read, DeleteGroupPolicy Write,
    PutRolePolicy Write, GetRolePolicy Read, ListRolePolicies Read, DeleteRolePolicy Write,
    // Attachments and boundaries.
    AttachUserPolicy Write, DetachUserPolicy Write, ListAttachedUserPolicies Read,
    AttachGroupPolicy Write, DetachGroupPolicy Write, ListAttachedGroupPolicies Read,
    AttachRolePolicy Write, DetachRolePolicy Write, ListAttachedRolePolicies Read,
    PutUserPermissionsBoundary Write, DeleteUserPermissionsBoundary Write,
    PutRolePermissionsBoundary Write, DeleteRolePermissionsBoundary Write,
    // Access keys.
    CreateAccessKey Write, ListAccessKeys Read, UpdateAccessKey Write, DeleteAccessKey Write,
    GetAccessKeyLastUsed Read,
    // Console passwords and the password policy.
    CreateLoginProfile Write, GetLoginProfile Read, UpdateLoginProfile Write,
    DeleteLoginProfile Write, ChangePassword Write,
    UpdateAccountPasswordPolicy Write, GetAccountPasswordPolicy Read,
    DeleteAccountPasswordPolicy Write,
    // Virtual MFA devices.
    CreateVirtualMFADevice Write, EnableMFADevice Write, DeactivateMFADevice Write,
    ResyncMFADevice Write, ListMFADevices Read, ListVirtualMFADevices Read,
    DeleteVirtualMFADevice Write,
    // The account.
    GetAccountSummary Read, CreateAccountAlias Write, DeleteAccountAlias Write,
    ListAccountAliases Read, GetAccountAuthorizationDetails Read,
    GenerateCredentialReport Write, GetCredentialReport Read,
    // The Policy Simulator.
    SimulatePrincipalPolicy Read, SimulateCustomPolicy Read,
    // OpenID Connect identity providers.
    CreateOpenIDConnectProvider Write, GetOpenIDConnectProvider Read,
    ListOpenIDConnectProviders Read, DeleteOpenIDConnectProvider Write,
    AddClientIDToOpenIDConnectProvider Write, RemoveClientIDFromOpenIDConnectProvider Write,
    UpdateOpenIDConnectProviderThumbprint Write, TagOpenIDConnectProvider Write,
    UntagOpenIDConnectProvider Write, ListOpenIDConnectProviderTags Read,
    // SAML 2.0 identity providers.
    CreateSAMLProvider Write, UpdateSAMLProvider Write, GetSAMLProvider Read,
    ListSAMLProviders Read, DeleteSAMLProvider Write, TagSAMLProvider Write,
    UntagSAMLProvider Write, ListSAMLProviderTags Read,
    // Iamlet's own: the change feed for remote sidecars.
    WatchChanges Read,
}

impl Action {
    /// The action it is authorized as: `iam:CreateUser`; Iamlet's own in the `iamlet:` namespace.
    pub fn iam_action(self) -> String {
        match self {
            Action::WatchChanges => format!("iamlet:{}", self.as_str()),
            _ => format!("iam:{}", self.as_str()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_every_action_is_in_the_catalog() {
        let iam = iamlet_engine::catalog::Catalog::embedded()
            .service("iam")
            .unwrap();
        for a in Action::ALL {
            assert_eq!(Action::parse(a.as_str()), Some(*a));
            if *a == Action::WatchChanges {
                assert_eq!(a.iam_action(), "iamlet:WatchChanges");
                continue;
            }
            assert!(
                iam.action(a.as_str()).is_some(),
                "iam:{} is not in the engine's catalog",
                a.as_str()
            );
        }
        assert!(Action::GetUser.read_only());
        assert!(!Action::CreateUser.read_only());
        assert_eq!(Action::parse("createuser"), None);
    }
}
