//! The typed run plan: everything a load run needs, resolved and checked before it starts.
//!
//! Configuration (flags, variables, `.env`, defaults) resolves into one [`RunPlan`]; the engine
//! ([`crate::engine::run`]) reads only typed values from it, never a string to parse again.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use crate::emit::Emitter;
use crate::engine::export::Compression;
use crate::engine::schedule::{ClockKind, Load, Workload};
use crate::engine::sink::SinkConfig;
use crate::engine::threshold::Threshold;
use crate::engine::verify::Budget;
use crate::platform::{Header, PlatformId, PlatformSettings, Profile, Protocol};

/// A whole run.
#[derive(Clone, Debug)]
pub struct RunPlan {
    pub target: Target,
    pub export: ExportPlan,
    pub workload: Workload,
    pub content: ContentPlan,
    pub report: ReportPlan,
    pub verify: VerifyPlan,
    /// Read load beside ingestion (`--query-rate`); `None`: no reads.
    pub query: Option<crate::engine::query::QueryPlan>,
}

/// Where the spans go.
#[derive(Clone, Debug)]
pub struct Target {
    pub platform: PlatformId,
    /// The settings the profile was built from; the read-back uses them too.
    pub settings: PlatformSettings,
    pub profile: Profile,
    pub endpoint: Endpoint,
}

/// Whether and when to read back what the backend stored.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum VerifyMode {
    /// Report what was accepted only, and say that storage was not verified.
    Off,
    /// Read back after the run (the default).
    #[default]
    After,
    /// Also count what is visible while the run goes (ingestion lag as it builds up).
    During,
}

/// The read-back of what the backend stored.
#[derive(Clone, Debug, Default)]
pub struct VerifyPlan {
    pub mode: VerifyMode,
    pub budget: Budget,
}

/// The receiving end.
#[derive(Clone, Debug)]
pub enum Endpoint {
    /// The embedded sink, started for the run on loopback; the report states delivery as it saw
    /// it.
    Embedded(SinkConfig),
    /// A backend's traces URL (`https://host/v1/traces`; for gRPC scheme, host and port count).
    Url(String),
}

/// Which export path sends the spans.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ExportPath {
    /// scaletest's own measured OTLP exporter.
    #[default]
    Direct,
    /// The OpenTelemetry SDK pipeline (batch span processor + OTLP exporter).
    Sdk,
}

impl ExportPath {
    pub fn name(self) -> &'static str {
        match self {
            ExportPath::Direct => "direct",
            ExportPath::Sdk => "sdk",
        }
    }
}

impl fmt::Display for ExportPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for ExportPath {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "direct" => Ok(ExportPath::Direct),
            "sdk" => Ok(ExportPath::Sdk),
            _ => Err(format!("unknown exporter `{}`: expected one of direct, sdk", s.trim())),
        }
    }
}

/// How spans are sent.
#[derive(Clone, Debug)]
pub struct ExportPlan {
    pub path: ExportPath,
    pub protocol: Protocol,
    pub compression: Compression,
    /// The profile's headers with the user's on top (same name: the user's wins).
    pub headers: Vec<Header>,
    pub request_timeout: Duration,
    /// Export requests in flight at once (direct path).
    pub max_requests: usize,
    /// For the SDK path: bytes the calling thread has allocated so far, when the binary's
    /// allocator can tell.
    pub thread_allocated_bytes: Option<fn() -> u64>,
}

impl ExportPlan {
    /// Defaults for `protocol`: no compression, no headers, 10 s timeout, 8 requests in flight.
    pub fn new(path: ExportPath, protocol: Protocol) -> Self {
        Self {
            path,
            protocol,
            compression: Compression::None,
            headers: Vec::new(),
            request_timeout: Duration::from_secs(10),
            max_requests: 8,
            thread_allocated_bytes: None,
        }
    }
}

/// What the spans carry besides the scenarios' content.
#[derive(Clone, Debug, Default)]
pub struct ContentPlan {
    /// `OTEL_SERVICE_NAME`: wins over a `service.name` in `resource`.
    pub service_name: Option<String>,
    /// `OTEL_RESOURCE_ATTRIBUTES`, in order.
    pub resource: Vec<(String, String)>,
}

impl ContentPlan {
    /// The span builder for `profile` with these resource overrides.
    pub fn emitter(&self, profile: &Profile) -> Emitter {
        let mut overrides = self.resource.clone();
        if let Some(name) = &self.service_name {
            overrides.retain(|(k, _)| k != "service.name");
            overrides.push(("service.name".to_owned(), name.clone()));
        }
        Emitter::new(profile, overrides)
    }
}

/// What the report is judged by.
#[derive(Clone, Debug, Default)]
pub struct ReportPlan {
    pub thresholds: Vec<Threshold>,
    /// Check the thresholds every second and stop the run at the first failure.
    pub abort_on_fail: bool,
    /// Length of one interval of the report's time series (zero: the default, 1 s).
    pub series_interval: Duration,
    /// Which part of a sharded run this is ([`RunPlan::shard`]); `None`: the whole plan.
    pub shard: Option<crate::engine::shard::ShardPlan>,
    /// `--start-at`: the first start waits until this instant (all shards start together).
    pub start_at: Option<std::time::SystemTime>,
}

impl RunPlan {
    /// The same run written to MLflow experiment `id` instead: the read-back settings, the
    /// profile and the experiment header all follow. `None` for other platforms.
    pub fn with_mlflow_experiment(mut self, id: &str) -> Option<Self> {
        if self.target.platform != crate::platform::PlatformId::Mlflow {
            return None;
        }
        let old = self.target.settings.experiment_id.replace(id.to_owned());
        self.target.profile = self.target.platform.profile(&self.target.settings).ok()?;
        for header in &mut self.export.headers {
            if header.name.eq_ignore_ascii_case("x-mlflow-experiment-id")
                && Some(&header.value) == old.as_ref()
            {
                header.value = id.to_owned();
            }
        }
        Some(self)
    }

    /// The name of the workload's model, as the report states it.
    pub fn model_name(&self) -> &'static str {
        match self.workload.load {
            Load::Open { .. } => "open",
            Load::Closed { .. } => "closed",
        }
    }

    pub fn clock_name(&self) -> &'static str {
        match self.workload.clock {
            ClockKind::Real => "real",
            ClockKind::Synthetic => "synthetic",
        }
    }
}

/// The URL without `user:password@`, query or fragment (any of which may carry a key), for
/// messages and reports.
pub fn redact_url(text: &str) -> String {
    match url::Url::parse(text.trim()) {
        Ok(mut url) => {
            let _ = url.set_username("");
            let _ = url.set_password(None);
            url.set_query(None);
            url.set_fragment(None);
            let shown = url.to_string();
            // `Url` writes an empty path as `/`; show the URL as it was given.
            match shown.strip_suffix('/') {
                Some(bare) if url.path() == "/" && !text.trim().ends_with('/') => bare.to_owned(),
                _ => shown,
            }
        }
        // Not a URL: keep only what stands before anything that could be a credential.
        Err(_) => {
            let rest = text.rsplit_once('@').map_or(text, |(_, host)| host);
            rest.split(['?', '#']).next().unwrap_or(rest).trim().to_owned()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn export_paths_parse_and_name_bad_values() {
        assert_eq!("SDK".parse::<ExportPath>(), Ok(ExportPath::Sdk));
        assert_eq!(" direct".parse::<ExportPath>(), Ok(ExportPath::Direct));
        assert_eq!(
            "otel".parse::<ExportPath>().unwrap_err(),
            "unknown exporter `otel`: expected one of direct, sdk"
        );
        assert_eq!(ExportPath::Sdk.to_string(), "sdk");
    }

    #[test]
    fn urls_lose_credentials_and_query() {
        assert_eq!(redact_url("https://u:pw@h.io/v1/traces?key=1#x"), "https://h.io/v1/traces");
        assert_eq!(
            redact_url("http://127.0.0.1:4318/v1/traces"),
            "http://127.0.0.1:4318/v1/traces"
        );
        assert_eq!(redact_url("http://[::1]:4318/v1/traces"), "http://[::1]:4318/v1/traces");
        assert_eq!(redact_url("not a url?key=secret"), "not a url");
        assert_eq!(redact_url("http://127.0.0.1:4317"), "http://127.0.0.1:4317");
    }
}
