//! One handler per action, grouped by what they manage; [`run`] dispatches.

mod account;
mod groups;
mod keys;
mod mfa;
mod passwords;
mod report;
mod users;

use crate::ctx::Ctx;
use crate::{Action, Answer};
use iamlet_iam_store::{ErrorCode, IamError};

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
        // WIP(issue 20): every action below gets its handler before this lands.
        other => Err(IamError::new(ErrorCode::InvalidAction, format!("{} is not served yet", other.as_str()))),
    }
}
