//! `[decision_log]`: where decisions are written.

use iamlet_decision_log::LogFormat;
use serde::Deserialize;

/// The decision log.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DecisionLogSection {
    /// `-` for stdout, a file path to append to, absent for none.
    #[serde(default)]
    pub path: Option<String>,
    /// `"iamlet"` (the default: Iamlet's fields) or `"cloudtrail"` (CloudTrail's record format,
    /// Iamlet's fields under `additionalEventData.iamlet`).
    #[serde(default)]
    pub format: LogFormat,
}
