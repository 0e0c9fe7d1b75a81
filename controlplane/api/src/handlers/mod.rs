//! One handler per action, grouped by what they manage; [`run`] dispatches.

mod account;
mod attachments;
mod feed;
mod groups;
mod inline;
mod keys;
mod mfa;
mod oidc;
mod owners;
mod passwords;
mod policies;
mod profiles;
mod report;
mod roles;
mod saml;
mod simulate;
mod users;

use crate::ctx::Ctx;
use crate::{Action, Answer};
use owners::Kind;

pub(crate) use feed::{render as render_changes, Watch};

/// Runs the call's action.
#[rustfmt::skip]
pub(crate) async fn run(c: &mut Ctx<'_>) -> Answer {
    match c.action {
        Action::CreateUser => users::create(c).await,
        Action::GetUser => users::get(c).await,
        Action::ListUsers => users::list(c).await,
        Action::UpdateUser => users::update(c).await,
        Action::DeleteUser => users::delete(c).await,
        Action::TagUser => users::tag(c).await,
        Action::UntagUser => users::untag(c).await,
        Action::ListUserTags => users::list_tags(c).await,
        Action::CreateGroup => groups::create(c).await,
        Action::GetGroup => groups::get(c).await,
        Action::ListGroups => groups::list(c).await,
        Action::UpdateGroup => groups::update(c).await,
        Action::DeleteGroup => groups::delete(c).await,
        Action::AddUserToGroup => groups::add_user(c).await,
        Action::RemoveUserFromGroup => groups::remove_user(c).await,
        Action::ListGroupsForUser => groups::for_user(c).await,
        Action::SimulatePrincipalPolicy => simulate::principal(c).await,
        Action::SimulateCustomPolicy => simulate::custom(c).await,
        Action::WatchChanges => feed::watch(c).await,
        Action::CreateAccessKey => keys::create(c).await,
        Action::ListAccessKeys => keys::list(c).await,
        Action::UpdateAccessKey => keys::update(c).await,
        Action::DeleteAccessKey => keys::delete(c).await,
        Action::GetAccessKeyLastUsed => keys::last_used(c).await,
        Action::CreateLoginProfile => passwords::create_profile(c).await,
        Action::GetLoginProfile => passwords::get_profile(c).await,
        Action::UpdateLoginProfile => passwords::update_profile(c).await,
        Action::DeleteLoginProfile => passwords::delete_profile(c).await,
        Action::ChangePassword => passwords::change(c).await,
        Action::UpdateAccountPasswordPolicy => passwords::update_policy(c).await,
        Action::GetAccountPasswordPolicy => passwords::get_policy(c).await,
        Action::DeleteAccountPasswordPolicy => passwords::delete_policy(c).await,
        Action::CreateVirtualMFADevice => mfa::create(c).await,
        Action::EnableMFADevice => mfa::enable(c).await,
        Action::DeactivateMFADevice => mfa::deactivate(c).await,
        Action::ResyncMFADevice => mfa::resync(c).await,
        Action::ListMFADevices => mfa::list(c).await,
        Action::ListVirtualMFADevices => mfa::list_virtual(c).await,
        Action::DeleteVirtualMFADevice => mfa::delete(c).await,
        Action::GetAccountSummary => account::summary(c).await,
        Action::CreateAccountAlias => account::create_alias(c).await,
        Action::DeleteAccountAlias => account::delete_alias(c).await,
        Action::ListAccountAliases => account::list_aliases(c).await,
        Action::GetAccountAuthorizationDetails => account::authorization_details(c).await,
        Action::GenerateCredentialReport => report::generate(c).await,
        Action::GetCredentialReport => report::get(c).await,
        Action::CreateRole => roles::create(c).await,
        Action::GetRole => roles::get(c).await,
        Action::ListRoles => roles::list(c).await,
        Action::UpdateRole => roles::update(c).await,
        Action::UpdateRoleDescription => roles::update_description(c).await,
        Action::DeleteRole => roles::delete(c).await,
        Action::UpdateAssumeRolePolicy => roles::update_trust(c).await,
        Action::TagRole => roles::tag(c).await,
        Action::UntagRole => roles::untag(c).await,
        Action::ListRoleTags => roles::list_tags(c).await,
        Action::CreateServiceLinkedRole => roles::create_service_linked(c).await,
        Action::DeleteServiceLinkedRole => roles::delete_service_linked(c).await,
        Action::GetServiceLinkedRoleDeletionStatus => roles::deletion_status(c).await,
        Action::CreateInstanceProfile => profiles::create(c).await,
        Action::GetInstanceProfile => profiles::get(c).await,
        Action::ListInstanceProfiles => profiles::list(c).await,
        Action::DeleteInstanceProfile => profiles::delete(c).await,
        Action::AddRoleToInstanceProfile => profiles::add_role(c).await,
        Action::RemoveRoleFromInstanceProfile => profiles::remove_role(c).await,
        Action::ListInstanceProfilesForRole => profiles::for_role(c).await,
        Action::CreatePolicy => policies::create(c).await,
        Action::GetPolicy => policies::get(c).await,
        Action::ListPolicies => policies::list(c).await,
        Action::DeletePolicy => policies::delete(c).await,
        Action::CreatePolicyVersion => policies::create_version(c).await,
        Action::GetPolicyVersion => policies::get_version(c).await,
        Action::ListPolicyVersions => policies::list_versions(c).await,
        Action::SetDefaultPolicyVersion => policies::set_default_version(c).await,
        Action::DeletePolicyVersion => policies::delete_version(c).await,
        Action::ListEntitiesForPolicy => policies::entities(c).await,
        Action::TagPolicy => policies::tag(c).await,
        Action::UntagPolicy => policies::untag(c).await,
        Action::ListPolicyTags => policies::list_tags(c).await,
        Action::PutUserPolicy => inline::put(c, Kind::User).await,
        Action::GetUserPolicy => inline::get(c, Kind::User).await,
        Action::ListUserPolicies => inline::list(c, Kind::User).await,
        Action::DeleteUserPolicy => inline::delete(c, Kind::User).await,
        Action::PutGroupPolicy => inline::put(c, Kind::Group).await,
        Action::GetGroupPolicy => inline::get(c, Kind::Group).await,
        Action::ListGroupPolicies => inline::list(c, Kind::Group).await,
        Action::DeleteGroupPolicy => inline::delete(c, Kind::Group).await,
        Action::PutRolePolicy => inline::put(c, Kind::Role).await,
        Action::GetRolePolicy => inline::get(c, Kind::Role).await,
        Action::ListRolePolicies => inline::list(c, Kind::Role).await,
        Action::DeleteRolePolicy => inline::delete(c, Kind::Role).await,
        Action::AttachUserPolicy => attachments::attach(c, Kind::User).await,
        Action::DetachUserPolicy => attachments::detach(c, Kind::User).await,
        Action::ListAttachedUserPolicies => attachments::list(c, Kind::User).await,
        Action::AttachGroupPolicy => attachments::attach(c, Kind::Group).await,
        Action::DetachGroupPolicy => attachments::detach(c, Kind::Group).await,
        Action::ListAttachedGroupPolicies => attachments::list(c, Kind::Group).await,
        Action::AttachRolePolicy => attachments::attach(c, Kind::Role).await,
        Action::DetachRolePolicy => attachments::detach(c, Kind::Role).await,
        Action::ListAttachedRolePolicies => attachments::list(c, Kind::Role).await,
        Action::PutUserPermissionsBoundary => attachments::put_boundary(c, Kind::User).await,
        Action::DeleteUserPermissionsBoundary => attachments::delete_boundary(c, Kind::User).await,
        Action::PutRolePermissionsBoundary => attachments::put_boundary(c, Kind::Role).await,
        Action::DeleteRolePermissionsBoundary => attachments::delete_boundary(c, Kind::Role).await,
        Action::CreateOpenIDConnectProvider => oidc::create(c).await,
        Action::GetOpenIDConnectProvider => oidc::get(c).await,
        Action::ListOpenIDConnectProviders => oidc::list(c).await,
        Action::DeleteOpenIDConnectProvider => oidc::delete(c).await,
        Action::AddClientIDToOpenIDConnectProvider => oidc::add_client_id(c).await,
        Action::RemoveClientIDFromOpenIDConnectProvider => oidc::remove_client_id(c).await,
        Action::UpdateOpenIDConnectProviderThumbprint => oidc::update_thumbprints(c).await,
        Action::TagOpenIDConnectProvider => oidc::tag(c).await,
        Action::UntagOpenIDConnectProvider => oidc::untag(c).await,
        Action::ListOpenIDConnectProviderTags => oidc::list_tags(c).await,
        Action::CreateSAMLProvider => saml::create(c).await,
        Action::UpdateSAMLProvider => saml::update(c).await,
        Action::GetSAMLProvider => saml::get(c).await,
        Action::ListSAMLProviders => saml::list(c).await,
        Action::DeleteSAMLProvider => saml::delete(c).await,
        Action::TagSAMLProvider => saml::tag(c).await,
        Action::UntagSAMLProvider => saml::untag(c).await,
        Action::ListSAMLProviderTags => saml::list_tags(c).await,
    }
}
