//! Platform profiles: endpoints, auth headers, protocols, limits and extra attributes.
//!
//! Each backend reads OTLP a little differently: where it listens (and in which region), which
//! headers carry the key and route spans to a project, which protocols and body sizes it takes,
//! whether a trace needs its root, and which attributes beyond the GenAI conventions it uses to
//! type and render spans. A [`Profile`] gathers that for one platform, built from
//! [`PlatformSettings`] (usually read from the environment, see [`PlatformId::settings_env`]).
//!
//! ```
//! use scenario_runtime::platform::{PlatformId, PlatformSettings};
//!
//! let id: PlatformId = "langfuse".parse().unwrap();
//! let settings = PlatformSettings {
//!     api_key: Some("pk-lf-1".into()),
//!     secret_key: Some("sk-lf-2".into()),
//!     ..PlatformSettings::default()
//! };
//! let profile = id.profile(&settings).unwrap();
//! assert!(profile.requires_root);
//! // Secrets never print.
//! assert!(!format!("{:?}", profile.headers).contains("sk-lf-2"));
//! ```

mod attributes;
mod profiles;

use std::fmt;
use std::str::FromStr;

pub use attributes::{SpanFacts, SpanRole, decorate};
pub use profiles::DEFAULT_PROJECT;

/// A backend scaletest knows how to talk to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PlatformId {
    /// Prints each trace as a tree; sends nothing.
    Console,
    /// Any OTLP endpoint (the embedded sink by default).
    Otlp,
    Braintrust,
    Langsmith,
    Langfuse,
    Phoenix,
    Mlflow,
    Datadog,
    Opik,
    Weave,
}

impl PlatformId {
    /// Every platform, in the order help texts list them.
    pub const ALL: [PlatformId; 10] = [
        PlatformId::Console,
        PlatformId::Otlp,
        PlatformId::Braintrust,
        PlatformId::Langsmith,
        PlatformId::Langfuse,
        PlatformId::Phoenix,
        PlatformId::Mlflow,
        PlatformId::Datadog,
        PlatformId::Opik,
        PlatformId::Weave,
    ];

    /// The name users type (`--platform`, `OTEL_PLATFORM`).
    pub fn name(self) -> &'static str {
        match self {
            PlatformId::Console => "console",
            PlatformId::Otlp => "otlp",
            PlatformId::Braintrust => "braintrust",
            PlatformId::Langsmith => "langsmith",
            PlatformId::Langfuse => "langfuse",
            PlatformId::Phoenix => "phoenix",
            PlatformId::Mlflow => "mlflow",
            PlatformId::Datadog => "datadog",
            PlatformId::Opik => "opik",
            PlatformId::Weave => "weave",
        }
    }

    /// Every name, comma-separated, for error messages and help.
    pub fn names() -> String {
        Self::ALL.iter().map(|p| p.name()).collect::<Vec<_>>().join(", ")
    }

    /// The environment variables this platform's settings come from, with what each means.
    /// Platform-specific variables come before shared ones (`OTEL_PROJECT_NAME`), which only
    /// fill what the specific ones left unset.
    pub fn settings_env(self) -> &'static [(&'static str, &'static str)] {
        profiles::settings_env(self)
    }

    /// Builds the profile from `settings`; fails naming the variable of a missing credential
    /// or the bad value of a setting.
    pub fn profile(self, settings: &PlatformSettings) -> Result<Profile, PlatformError> {
        profiles::profile(self, settings)
    }
}

impl fmt::Display for PlatformId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for PlatformId {
    type Err = PlatformError;

    /// Case-insensitive; accepts a few common spellings (`generic`, `arize`, `wandb`, ...).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let lower = s.trim().to_ascii_lowercase();
        let id = match lower.as_str() {
            "console" => PlatformId::Console,
            "otlp" | "generic" => PlatformId::Otlp,
            "braintrust" => PlatformId::Braintrust,
            "langsmith" => PlatformId::Langsmith,
            "langfuse" => PlatformId::Langfuse,
            "phoenix" | "arize" | "arize-phoenix" => PlatformId::Phoenix,
            "mlflow" => PlatformId::Mlflow,
            "datadog" => PlatformId::Datadog,
            "opik" => PlatformId::Opik,
            "weave" | "wandb" => PlatformId::Weave,
            _ => return Err(PlatformError::UnknownPlatform(s.to_owned())),
        };
        Ok(id)
    }
}

/// An OTLP transport.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
pub enum Protocol {
    HttpProtobuf,
    HttpJson,
    Grpc,
}

impl Protocol {
    pub const ALL: [Protocol; 3] = [Protocol::HttpProtobuf, Protocol::HttpJson, Protocol::Grpc];

    /// The name used by `OTEL_EXPORTER_OTLP_PROTOCOL`.
    pub fn name(self) -> &'static str {
        match self {
            Protocol::HttpProtobuf => "http/protobuf",
            Protocol::HttpJson => "http/json",
            Protocol::Grpc => "grpc",
        }
    }
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Protocol {
    type Err = PlatformError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "http/protobuf" | "http-protobuf" | "protobuf" => Ok(Protocol::HttpProtobuf),
            "http/json" | "http-json" | "json" => Ok(Protocol::HttpJson),
            "grpc" => Ok(Protocol::Grpc),
            _ => Err(PlatformError::UnknownProtocol(s.to_owned())),
        }
    }
}

/// What profiles are built from. Every field is optional; each platform says which it needs.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct PlatformSettings {
    /// API key (or public key for Langfuse).
    pub api_key: Option<String>,
    /// Secret key (Langfuse).
    pub secret_key: Option<String>,
    /// Project name (routing header or resource attribute).
    pub project: Option<String>,
    /// Project id (Braintrust; preferred over the name when set).
    pub project_id: Option<String>,
    /// Region (`us`, `eu`) where the platform runs several.
    pub region: Option<String>,
    /// Site (Datadog: `datadoghq.com`, `datadoghq.eu`, `us3.datadoghq.com`, ...).
    pub site: Option<String>,
    /// Experiment id (MLflow).
    pub experiment_id: Option<String>,
    /// Workspace (Opik).
    pub workspace: Option<String>,
    /// Entity, the team or user owning the project (W&B Weave).
    pub entity: Option<String>,
    /// Base URL of a self-hosted or non-default deployment; the traces path is appended.
    pub base_url: Option<String>,
    /// Port of the OTLP gRPC listener when it differs from the HTTP one (Phoenix; default 4317).
    /// `PHOENIX_GRPC_PORT` maps here, but is not yet among the variables read from the
    /// environment ([`PlatformId::settings_env`]) until `.env.example` documents it.
    pub grpc_port: Option<String>,
}

impl fmt::Debug for PlatformSettings {
    /// Shows which settings are present without ever printing the keys.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secret = |value: &Option<String>| value.as_ref().map(|_| "<redacted>");
        f.debug_struct("PlatformSettings")
            .field("api_key", &secret(&self.api_key))
            .field("secret_key", &secret(&self.secret_key))
            .field("project", &self.project)
            .field("project_id", &self.project_id)
            .field("region", &self.region)
            .field("site", &self.site)
            .field("experiment_id", &self.experiment_id)
            .field("workspace", &self.workspace)
            .field("entity", &self.entity)
            .field("base_url", &self.base_url)
            .field("grpc_port", &self.grpc_port)
            .finish()
    }
}

impl PlatformSettings {
    /// Reads `platform`'s variables through `lookup` (the environment, a `.env` file, ...).
    /// Empty values count as unset. The first variable listed for a field wins.
    pub fn from_lookup(
        platform: PlatformId,
        mut lookup: impl FnMut(&str) -> Option<String>,
    ) -> Self {
        let mut settings = Self::default();
        for (var, _) in platform.settings_env() {
            let Some(value) = lookup(var).filter(|v| !v.trim().is_empty()) else { continue };
            if let Some(field) = settings.field_mut(var)
                && field.is_none()
            {
                *field = Some(value);
            }
        }
        settings
    }

    /// The field an environment variable sets.
    fn field_mut(&mut self, var: &str) -> Option<&mut Option<String>> {
        Some(match var {
            "BRAINTRUST_API_KEY"
            | "LANGSMITH_API_KEY"
            | "LANGFUSE_PUBLIC_KEY"
            | "PHOENIX_API_KEY"
            | "MLFLOW_TRACKING_TOKEN"
            | "DD_API_KEY"
            | "OPIK_API_KEY"
            | "WANDB_API_KEY" => &mut self.api_key,
            "LANGFUSE_SECRET_KEY" => &mut self.secret_key,
            "OTEL_PROJECT_NAME"
            | "BRAINTRUST_PROJECT"
            | "LANGSMITH_PROJECT"
            | "LANGFUSE_PROJECT"
            | "PHOENIX_PROJECT_NAME"
            | "OPIK_PROJECT_NAME"
            | "WANDB_PROJECT" => &mut self.project,
            "BRAINTRUST_PROJECT_ID" => &mut self.project_id,
            "LANGSMITH_REGION" | "LANGFUSE_REGION" => &mut self.region,
            "DD_SITE" => &mut self.site,
            "MLFLOW_EXPERIMENT_ID" => &mut self.experiment_id,
            "OPIK_WORKSPACE" => &mut self.workspace,
            "WANDB_ENTITY" => &mut self.entity,
            "BRAINTRUST_API_URL"
            | "LANGSMITH_ENDPOINT"
            | "LANGFUSE_HOST"
            | "PHOENIX_COLLECTOR_ENDPOINT"
            | "MLFLOW_TRACKING_URI"
            | "OPIK_URL_OVERRIDE" => &mut self.base_url,
            "PHOENIX_GRPC_PORT" => &mut self.grpc_port,
            _ => return None,
        })
    }
}

/// An HTTP header (or gRPC metadata entry) sent with every export request.
#[derive(Clone, PartialEq, Eq)]
pub struct Header {
    pub name: String,
    pub value: String,
    /// Whether the value is a credential: it is never printed.
    pub secret: bool,
}

impl Header {
    pub fn new(name: impl Into<String>, value: impl Into<String>) -> Self {
        Self { name: name.into(), value: value.into(), secret: false }
    }

    pub fn secret(name: impl Into<String>, value: impl Into<String>) -> Self {
        Self { name: name.into(), value: value.into(), secret: true }
    }

    /// The value as it may be shown to people.
    pub fn shown_value(&self) -> &str {
        if self.secret { "<redacted>" } else { &self.value }
    }
}

impl fmt::Debug for Header {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Header({}: {})", self.name, self.shown_value())
    }
}

impl fmt::Display for Header {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.name, self.shown_value())
    }
}

/// Everything scaletest needs to know to send a platform realistic traces.
#[derive(Clone, Debug)]
pub struct Profile {
    pub id: PlatformId,
    /// The full traces URL (path included) when nothing else is configured; `None` for the
    /// generic OTLP profile (the standard variables or the embedded sink decide) and console.
    pub default_endpoint: Option<String>,
    /// Where OTLP/gRPC goes when the backend listens for it on another port than HTTP
    /// (`http://host:port`, no path); `None`: the same origin as [`Profile::default_endpoint`].
    /// Use [`Profile::endpoint_for`].
    pub grpc_endpoint: Option<String>,
    /// Auth and routing headers.
    pub headers: Vec<Header>,
    /// Protocols the backend accepts, preferred first.
    pub protocols: &'static [Protocol],
    /// Content encodings the backend is known to refuse, with how it answers them
    /// (e.g. `("zstd", "415 Unsupported Media Type")`). See [`Profile::check_compression`].
    pub refused_encodings: &'static [(&'static str, &'static str)],
    /// Largest request body the backend accepts (bytes, before compression).
    pub max_body_bytes: usize,
    /// Whether the backend drops or rejects traces whose root span never arrives.
    pub requires_root: bool,
    /// Resource attributes the platform routes or groups by (project, entity, ...).
    pub resource: Vec<(String, String)>,
    /// Whether spans carry the GenAI content attributes (`gen_ai.input.messages`, ...).
    /// Off where the platform reads the same content from its own keys (Phoenix reads
    /// OpenInference), so the bytes per span stay those of a real instrumented application.
    pub genai_content: bool,
    /// What the profile adds or dual-emits, and why (shown by `--help` and the docs).
    pub notes: &'static str,
}

impl Profile {
    /// Whether the backend takes `protocol`.
    pub fn accepts(&self, protocol: Protocol) -> bool {
        self.protocols.contains(&protocol)
    }

    /// Checks `protocol`, with a message naming the ones the backend takes.
    pub fn check_protocol(&self, protocol: Protocol) -> Result<(), PlatformError> {
        if self.accepts(protocol) {
            Ok(())
        } else {
            Err(PlatformError::UnsupportedProtocol { platform: self.id, protocol })
        }
    }

    /// Checks a request body encoding (`Content-Encoding` / `grpc-encoding` token such as
    /// `gzip` or `zstd`; `None` for uncompressed bodies, which every backend takes), so that a
    /// run the backend would refuse request by request fails up front with the reason.
    pub fn check_compression(&self, encoding: Option<&str>) -> Result<(), PlatformError> {
        let Some(encoding) = encoding.map(str::trim).filter(|e| !e.is_empty()) else {
            return Ok(());
        };
        match self.refused_encodings.iter().find(|(e, _)| e.eq_ignore_ascii_case(encoding)) {
            None => Ok(()),
            Some((encoding, answer)) => {
                Err(PlatformError::UnsupportedCompression { platform: self.id, encoding, answer })
            }
        }
    }

    /// The endpoint for `protocol`: [`Profile::grpc_endpoint`] for gRPC when the platform has
    /// one, [`Profile::default_endpoint`] otherwise.
    pub fn endpoint_for(&self, protocol: Protocol) -> Option<&str> {
        match (protocol, &self.grpc_endpoint) {
            (Protocol::Grpc, Some(grpc)) => Some(grpc),
            _ => self.default_endpoint.as_deref(),
        }
    }
}

/// Why a platform or its settings cannot be used.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PlatformError {
    UnknownPlatform(String),
    UnknownProtocol(String),
    /// A required credential or setting is absent.
    Missing {
        platform: PlatformId,
        var: &'static str,
        meaning: &'static str,
    },
    /// A setting has a value the platform does not know.
    Invalid {
        var: &'static str,
        value: String,
        expected: &'static str,
    },
    UnsupportedProtocol {
        platform: PlatformId,
        protocol: Protocol,
    },
    /// The backend refuses request bodies in this encoding.
    UnsupportedCompression {
        platform: PlatformId,
        encoding: &'static str,
        /// How it answers them.
        answer: &'static str,
    },
}

impl fmt::Display for PlatformError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PlatformError::UnknownPlatform(name) => {
                write!(f, "unknown platform `{name}`; expected one of: {}", PlatformId::names())
            }
            PlatformError::UnknownProtocol(name) => write!(
                f,
                "unknown OTLP protocol `{name}`; expected one of: http/protobuf, http/json, grpc"
            ),
            PlatformError::Missing { platform, var, meaning } => {
                write!(f, "platform `{platform}` needs {var} ({meaning}), which is not set")
            }
            PlatformError::Invalid { var, value, expected } => {
                write!(f, "{var} is `{value}`; expected {expected}")
            }
            PlatformError::UnsupportedProtocol { platform, protocol } => {
                let accepted = platform_protocols(*platform);
                write!(f, "platform `{platform}` does not accept OTLP {protocol}; use {accepted}")
            }
            PlatformError::UnsupportedCompression { platform, encoding, answer } => write!(
                f,
                "platform `{platform}` does not accept {encoding}-compressed OTLP (it answers \
                 {answer}); use gzip or none"
            ),
        }
    }
}

fn platform_protocols(platform: PlatformId) -> String {
    profiles::protocols(platform).iter().map(|p| p.name()).collect::<Vec<_>>().join(" or ")
}

impl std::error::Error for PlatformError {}

#[cfg(test)]
mod tests;
