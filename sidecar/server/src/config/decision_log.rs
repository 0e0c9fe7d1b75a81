//! `[decision_log]`: where decisions are written.

use serde::Deserialize;

/// The decision log.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DecisionLogSection {
    /// `-` for stdout, a file path to append to, absent for none.
    #[serde(default)]
    pub path: Option<String>,
}
