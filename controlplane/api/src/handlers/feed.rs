//! `WatchChanges` (Iamlet's own, authorized as `iamlet:WatchChanges` on `*`): the database's change
//! feed for the sidecars of a remote control plane. `After` is the last change the caller applied
//! (absent: from now), `WaitSeconds` (0 to 20) how long to hold the call open when there is none
//! yet (a long poll: any commit, in this process or, on PostgreSQL, another replica, answers it at
//! once), `MaxItems` (1 to 1000) how many to return.
//!
//! The wait happens after the call's transaction has ended ([`crate::IamApi`] runs it), so a
//! watching sidecar holds no database connection while it waits.

use crate::ctx::Ctx;
use crate::Answer;
use iamlet_iam_store::ChangesPage;
use iamlet_query::Xml;
use std::time::Duration;

/// The longest a call may wait.
const MAX_WAIT_SECONDS: i64 = 20;

/// What to read once the transaction has ended.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Watch {
    pub(crate) after: Option<i64>,
    pub(crate) wait: Duration,
    pub(crate) max_items: u32,
}

pub(crate) async fn watch(c: &mut Ctx<'_>) -> Answer {
    let after = c.req.int("After", 0, i64::MAX)?;
    let wait = c.req.int("WaitSeconds", 0, MAX_WAIT_SECONDS)?.unwrap_or(0);
    let max_items = c.req.int("MaxItems", 1, 1000)?.unwrap_or(100);
    c.allow("*", Vec::new()).await?;
    c.watch = Some(Watch {
        after,
        wait: Duration::from_secs(wait.unsigned_abs()),
        max_items: u32::try_from(max_items).unwrap_or(1000),
    });
    Ok(String::new())
}

/// The answer: the changes, where the caller stands, and whether it must start over.
pub(crate) fn render(page: &ChangesPage) -> String {
    let mut x = Xml::default();
    x.list("Changes", &page.changes, |x, c| {
        x.number("Sequence", c.sequence)
            .text(
                "CommittedAt",
                &chrono::DateTime::from_timestamp_millis(c.committed_at)
                    .unwrap_or_default()
                    .to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            )
            .flag("Everything", c.everything)
            .flag("Credentials", c.credentials);
        x.list("Principals", &c.principals, |x, p| {
            x.raw(&iamlet_query::escape(p));
        });
        x.list("Entities", &c.entities, |x, e| {
            x.raw(&iamlet_query::escape(e));
        });
    });
    x.number("Latest", page.latest)
        .flag("IsTruncated", page.more)
        .flag("Resync", page.resync);
    x.finish()
}
