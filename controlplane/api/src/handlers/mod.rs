//! One handler per action, grouped by what they manage; [`run`] dispatches.

mod groups;
mod simulate;
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
        Action::SimulatePrincipalPolicy => simulate::principal(c).await,
        Action::SimulateCustomPolicy => simulate::custom(c).await,
        // WIP(issue 20): every action below gets its handler before this lands.
        other => Err(IamError::new(ErrorCode::InvalidAction, format!("{} is not served yet", other.as_str()))),
    }
}
