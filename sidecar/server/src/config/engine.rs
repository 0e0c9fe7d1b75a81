//! `[engine]`: which engine decides, and the component's limits.

use iamlet_authz::settings::duration_opt;
use serde::Deserialize;
use std::time::Duration;

/// The engine.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EngineSection {
    /// `component` (the WebAssembly component under wasmtime) or `native`.
    #[serde(default)]
    pub kind: EngineKind,
    /// Warm component instances.
    #[serde(default)]
    pub instances: Option<usize>,
    /// Memory per instance, in MiB.
    #[serde(default)]
    pub max_memory_mib: Option<usize>,
    /// Time per guest call.
    #[serde(default, with = "duration_opt")]
    pub call_timeout: Option<Duration>,
}

impl Default for EngineSection {
    fn default() -> Self {
        EngineSection {
            kind: EngineKind::Component,
            instances: None,
            max_memory_mib: None,
            call_timeout: None,
        }
    }
}

/// Which engine evaluates.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EngineKind {
    /// The WebAssembly component under wasmtime.
    #[default]
    Component,
    /// The engine compiled into the sidecar.
    Native,
}
