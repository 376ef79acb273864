//! From validated [`Settings`] to the engine's typed [`RunPlan`]: the platform profile (built
//! from its own variables), the headers (the profile's, then the user's), the target and the
//! checks that need both the settings and the profile.

use scenario_runtime::engine::plan::{
    ContentPlan, Endpoint, ExportPath, ExportPlan, ReportPlan, RunPlan, Target, VerifyPlan,
};
use scenario_runtime::engine::schedule::{Mix, Workload};
use scenario_runtime::engine::sink::SinkConfig;
use scenario_runtime::engine::verify::Budget;
use scenario_runtime::platform::{PlatformSettings, Protocol};

use super::{ConfigError, Settings};

impl Settings {
    /// The run plan; `env` reads the platform's variables (API keys, regions, ...).
    pub fn plan(&self, env: impl Fn(&str) -> Option<String>) -> Result<RunPlan, ConfigError> {
        let mut platform_settings = PlatformSettings::from_lookup(self.platform, env);
        // A flag beats every variable; `OTEL_PROJECT_NAME` comes after the platform's own.
        if self.project_from_flag || platform_settings.project.is_none() {
            platform_settings.project.clone_from(&self.project);
        }
        if self.experiment.is_some() {
            platform_settings.experiment_id.clone_from(&self.experiment);
        }
        let profile =
            self.platform.profile(&platform_settings).map_err(|e| ConfigError(e.to_string()))?;
        profile.check_protocol(self.protocol).map_err(|e| ConfigError(e.to_string()))?;
        profile
            .check_compression(self.compression.encoding())
            .map_err(|e| ConfigError(e.to_string()))?;
        if self.exporter == ExportPath::Sdk && self.protocol == Protocol::Grpc {
            return Err(ConfigError(
                "invalid protocol `grpc` with --exporter sdk: the SDK path sends http/protobuf \
                 or http/json; use --exporter direct for grpc"
                    .to_owned(),
            ));
        }
        // Profile headers first; the user's override those of the same name.
        let mut headers = profile.headers.clone();
        for h in &self.headers {
            headers.retain(|p| !p.name.eq_ignore_ascii_case(&h.name));
            headers.push(h.clone());
        }
        let endpoint = match self
            .endpoint
            .clone()
            .or(profile.endpoint_for(self.protocol).map(str::to_owned))
        {
            Some(url) => Endpoint::Url(url),
            None => Endpoint::Embedded(SinkConfig::default()),
        };
        let mix = Mix::new(&self.mix)
            .ok_or_else(|| ConfigError("the scenario mix is empty".to_owned()))?;
        let whole = RunPlan {
            target: Target {
                platform: self.platform,
                settings: platform_settings,
                profile,
                endpoint,
            },
            export: ExportPlan {
                path: self.exporter,
                protocol: self.protocol,
                compression: self.compression,
                headers,
                request_timeout: self.request_timeout,
                max_requests: self.max_requests,
                thread_allocated_bytes: Some(scenario_runtime::alloc::thread_allocated),
            },
            workload: Workload {
                load: self.load.clone(),
                duration: self.duration,
                count: self.count,
                mix,
                seed: self.seed,
                clock: self.clock,
                latency_scale: self.latency_scale,
                drain_timeout: self.drain_timeout,
            },
            content: ContentPlan {
                service_name: self.service_name.clone(),
                resource: self.resource.clone(),
            },
            report: ReportPlan {
                thresholds: self.thresholds.clone(),
                abort_on_fail: self.abort_on_fail,
                series_interval: self.interval,
                shard: None,
                start_at: self.start_at,
            },
            verify: VerifyPlan {
                mode: self.verify,
                budget: Budget { timeout: self.verify_timeout, ..Budget::default() },
            },
            query: self.query.clone(),
        };
        // A shard: this run's part of the whole plan.
        match &self.shard {
            Some(shard) => whole
                .shard(shard.index, shard.count)
                .map_err(|e| ConfigError(format!("invalid {}: {e}", shard.given))),
            None => Ok(whole),
        }
    }
}
