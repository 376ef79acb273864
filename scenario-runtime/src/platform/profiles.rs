//! One profile per platform: where it listens, how it authenticates and routes, what it takes.
//!
//! Sources: each platform's OTLP ingestion documentation as of November 2026 (summarised in the
//! project's conventions notes). Where a platform documents no body limit, the common 3 MB is
//! used, which every backend we know accepts.

use base64::Engine as _;

use super::{Header, PlatformError, PlatformId, PlatformSettings, Profile, Protocol};

/// Project name used when none is configured.
pub const DEFAULT_PROJECT: &str = "scaletest";

/// A body limit every known backend accepts.
const DEFAULT_MAX_BODY: usize = 3_000_000;
/// gRPC's default message limit, which Phoenix and most collectors keep.
const GRPC_MAX_BODY: usize = 4 << 20;

const ALL: &[Protocol] = &[Protocol::HttpProtobuf, Protocol::HttpJson, Protocol::Grpc];
const PROTOBUF: &[Protocol] = &[Protocol::HttpProtobuf];
const HTTP: &[Protocol] = &[Protocol::HttpProtobuf, Protocol::HttpJson];
const PROTOBUF_GRPC: &[Protocol] = &[Protocol::HttpProtobuf, Protocol::Grpc];

const PROJECT: (&str, &str) =
    ("OTEL_PROJECT_NAME", "project name, when the platform-specific variable is unset");

pub(super) fn settings_env(platform: PlatformId) -> &'static [(&'static str, &'static str)] {
    match platform {
        PlatformId::Console | PlatformId::Otlp => &[],
        PlatformId::Braintrust => &[
            ("BRAINTRUST_API_KEY", "API key (required)"),
            ("BRAINTRUST_PROJECT_ID", "project id; routes spans with x-bt-parent: project_id:ID"),
            ("BRAINTRUST_PROJECT", "project name, used when no project id is set"),
            PROJECT,
            (
                "BRAINTRUST_API_URL",
                "base URL of a self-hosted API (default https://api.braintrust.dev)",
            ),
        ],
        PlatformId::Langsmith => &[
            ("LANGSMITH_API_KEY", "API key (required)"),
            ("LANGSMITH_PROJECT", "project the traces go to (default scaletest)"),
            PROJECT,
            ("LANGSMITH_REGION", "us (default) or eu"),
            ("LANGSMITH_ENDPOINT", "base URL of the API, e.g. https://eu.api.smith.langchain.com"),
        ],
        PlatformId::Langfuse => &[
            ("LANGFUSE_PUBLIC_KEY", "public key, pk-lf-... (required)"),
            ("LANGFUSE_SECRET_KEY", "secret key, sk-lf-... (required)"),
            ("LANGFUSE_REGION", "eu (default, cloud.langfuse.com) or us (us.cloud.langfuse.com)"),
            ("LANGFUSE_HOST", "base URL of a self-hosted Langfuse"),
        ],
        PlatformId::Phoenix => &[
            ("PHOENIX_COLLECTOR_ENDPOINT", "base URL of Phoenix (default http://127.0.0.1:6006)"),
            ("PHOENIX_GRPC_PORT", "port of Phoenix's OTLP gRPC listener (default 4317)"),
            ("PHOENIX_API_KEY", "API key, when authentication is enabled"),
            ("PHOENIX_PROJECT_NAME", "project (resource openinference.project.name)"),
            PROJECT,
        ],
        PlatformId::Mlflow => &[
            ("MLFLOW_EXPERIMENT_ID", "experiment the traces go to (required)"),
            (
                "MLFLOW_TRACKING_URI",
                "base URL of the tracking server (default http://127.0.0.1:5000)",
            ),
            ("MLFLOW_TRACKING_TOKEN", "bearer token, when the server requires one"),
        ],
        PlatformId::Datadog => &[
            ("DD_API_KEY", "API key (required)"),
            ("DD_SITE", "site: datadoghq.com (default), datadoghq.eu, us3.datadoghq.com, ..."),
        ],
        PlatformId::Opik => &[
            ("OPIK_API_KEY", "API key (required for Comet cloud)"),
            ("OPIK_WORKSPACE", "workspace (required for Comet cloud)"),
            ("OPIK_PROJECT_NAME", "project (default scaletest)"),
            PROJECT,
            (
                "OPIK_URL_OVERRIDE",
                "base URL of a self-hosted Opik API, e.g. http://localhost:5173/api",
            ),
        ],
        PlatformId::Weave => &[
            ("WANDB_API_KEY", "API key (required)"),
            ("WANDB_ENTITY", "team or user owning the project (required)"),
            ("WANDB_PROJECT", "project (default scaletest)"),
            PROJECT,
        ],
    }
}

pub(super) fn protocols(platform: PlatformId) -> &'static [Protocol] {
    match platform {
        PlatformId::Console | PlatformId::Otlp => ALL,
        PlatformId::Langfuse | PlatformId::Opik => HTTP,
        PlatformId::Phoenix => PROTOBUF_GRPC,
        PlatformId::Braintrust
        | PlatformId::Langsmith
        | PlatformId::Mlflow
        | PlatformId::Datadog
        | PlatformId::Weave => PROTOBUF,
    }
}

/// The value of a required setting, or an error naming its variable.
fn required<'a>(
    platform: PlatformId,
    value: &'a Option<String>,
    var: &'static str,
    meaning: &'static str,
) -> Result<&'a str, PlatformError> {
    value.as_deref().filter(|v| !v.trim().is_empty()).map(str::trim).ok_or(PlatformError::Missing {
        platform,
        var,
        meaning,
    })
}

/// A base URL without its trailing slash, checked to be http(s).
fn base_url(
    value: &Option<String>,
    var: &'static str,
    default: &str,
) -> Result<String, PlatformError> {
    let Some(url) = value.as_deref().map(str::trim).filter(|v| !v.is_empty()) else {
        return Ok(default.to_owned());
    };
    if !(url.starts_with("http://") || url.starts_with("https://"))
        || url.contains(char::is_whitespace)
    {
        return Err(PlatformError::Invalid {
            var,
            value: url.to_owned(),
            expected: "an http:// or https:// URL",
        });
    }
    Ok(url.trim_end_matches('/').to_owned())
}

/// `http://host:PORT` for the gRPC listener of the service whose HTTP base URL is `base`.
fn grpc_origin(base: &str, port: &Option<String>) -> Result<String, PlatformError> {
    let port = match port.as_deref().map(str::trim).filter(|p| !p.is_empty()) {
        None => 4317,
        Some(text) => match text.parse::<u16>() {
            Ok(port) if port > 0 => port,
            _ => {
                return Err(PlatformError::Invalid {
                    var: "PHOENIX_GRPC_PORT",
                    value: text.to_owned(),
                    expected: "a port number between 1 and 65535",
                });
            }
        },
    };
    let (scheme, rest) = base.split_once("://").unwrap_or(("http", base));
    let authority = rest.split('/').next().unwrap_or(rest);
    // Drop the HTTP port; keep an IPv6 literal whole.
    let host = match authority.rsplit_once(':') {
        Some((host, port)) if !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) => host,
        _ => authority,
    };
    Ok(format!("{scheme}://{host}:{port}"))
}

fn project(settings: &PlatformSettings) -> String {
    settings
        .project
        .as_deref()
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .unwrap_or(DEFAULT_PROJECT)
        .to_owned()
}

fn profile_base(platform: PlatformId) -> Profile {
    Profile {
        id: platform,
        default_endpoint: None,
        grpc_endpoint: None,
        headers: Vec::new(),
        protocols: protocols(platform),
        refused_encodings: &[],
        max_body_bytes: DEFAULT_MAX_BODY,
        requires_root: false,
        resource: Vec::new(),
        genai_content: true,
        notes: "",
    }
}

pub(super) fn profile(
    platform: PlatformId,
    settings: &PlatformSettings,
) -> Result<Profile, PlatformError> {
    let mut p = profile_base(platform);
    match platform {
        PlatformId::Console => {
            p.notes = "prints each trace as an indented tree; sends nothing";
        }
        PlatformId::Otlp => {
            p.notes = "current GenAI attributes only; endpoint and headers from the standard \
                       OTEL_EXPORTER_OTLP_* variables, or the embedded sink";
        }
        PlatformId::Braintrust => {
            let key = required(platform, &settings.api_key, "BRAINTRUST_API_KEY", "API key")?;
            let base =
                base_url(&settings.base_url, "BRAINTRUST_API_URL", "https://api.braintrust.dev")?;
            p.default_endpoint = Some(format!("{base}/otel/v1/traces"));
            p.headers.push(Header::secret("Authorization", format!("Bearer {key}")));
            let parent =
                match settings.project_id.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
                    Some(id) => format!("project_id:{id}"),
                    None => format!("project_name:{}", project(settings)),
                };
            p.headers.push(Header::new("x-bt-parent", parent));
            p.notes = "adds braintrust.span_attributes {\"type\": llm|tool|task} so spans get \
                       their Braintrust type; content is read from gen_ai.* messages";
        }
        PlatformId::Langsmith => {
            let key = required(platform, &settings.api_key, "LANGSMITH_API_KEY", "API key")?;
            let default_base = match settings.region.as_deref().map(str::trim) {
                None | Some("") | Some("us") | Some("US") => "https://api.smith.langchain.com",
                Some("eu") | Some("EU") => "https://eu.api.smith.langchain.com",
                Some(other) => {
                    return Err(PlatformError::Invalid {
                        var: "LANGSMITH_REGION",
                        value: other.to_owned(),
                        expected: "us or eu",
                    });
                }
            };
            let base = base_url(&settings.base_url, "LANGSMITH_ENDPOINT", default_base)?;
            p.default_endpoint = Some(format!("{base}/otel/v1/traces"));
            p.headers.push(Header::secret("x-api-key", key));
            p.headers.push(Header::new("Langsmith-Project", project(settings)));
            p.requires_root = true;
            p.notes = "adds langsmith.span.kind (llm|tool|chain); dual-emits the deprecated \
                       gen_ai.system next to gen_ai.provider.name because LangSmith maps \
                       providers from the old name; children of a missing parent are dropped";
        }
        PlatformId::Langfuse => {
            let public =
                required(platform, &settings.api_key, "LANGFUSE_PUBLIC_KEY", "public key")?;
            let secret =
                required(platform, &settings.secret_key, "LANGFUSE_SECRET_KEY", "secret key")?;
            let default_base = match settings.region.as_deref().map(str::trim) {
                None | Some("") | Some("eu") | Some("EU") => "https://cloud.langfuse.com",
                Some("us") | Some("US") => "https://us.cloud.langfuse.com",
                Some(other) => {
                    return Err(PlatformError::Invalid {
                        var: "LANGFUSE_REGION",
                        value: other.to_owned(),
                        expected: "eu or us",
                    });
                }
            };
            let base = base_url(&settings.base_url, "LANGFUSE_HOST", default_base)?;
            p.default_endpoint = Some(format!("{base}/api/public/otel/v1/traces"));
            let token =
                base64::engine::general_purpose::STANDARD.encode(format!("{public}:{secret}"));
            p.headers.push(Header::secret("Authorization", format!("Basic {token}")));
            p.max_body_bytes = 5_000_000;
            p.requires_root = true;
            p.notes = "adds langfuse.observation.type (generation|tool|agent), and on the root \
                       langfuse.trace.name and langfuse.session.id; a trace needs its root; one \
                       bad span rejects the whole batch (400)";
        }
        PlatformId::Phoenix => {
            let base = base_url(
                &settings.base_url,
                "PHOENIX_COLLECTOR_ENDPOINT",
                "http://127.0.0.1:6006",
            )?;
            p.default_endpoint = Some(format!("{base}/v1/traces"));
            p.grpc_endpoint = Some(grpc_origin(&base, &settings.grpc_port)?);
            p.refused_encodings = &[("zstd", "415 Unsupported Media Type")];
            if let Some(key) = settings.api_key.as_deref().filter(|k| !k.trim().is_empty()) {
                p.headers.push(Header::secret("Authorization", format!("Bearer {}", key.trim())));
            }
            p.resource.push(("openinference.project.name".to_owned(), project(settings)));
            p.max_body_bytes = GRPC_MAX_BODY;
            p.genai_content = false;
            p.notes = "emits the OpenInference attributes Phoenix reads (openinference.span.kind, \
                       llm.*, input.value, output.value, tool.*, session.id) and carries the \
                       content there instead of gen_ai.input/output.messages, as OpenInference \
                       instrumentations do; the project is the resource attribute \
                       openinference.project.name; http/json and zstd are refused (415); gRPC \
                       goes to its own port (PHOENIX_GRPC_PORT, default 4317)";
        }
        PlatformId::Mlflow => {
            let experiment = required(
                platform,
                &settings.experiment_id,
                "MLFLOW_EXPERIMENT_ID",
                "experiment id",
            )?;
            let base =
                base_url(&settings.base_url, "MLFLOW_TRACKING_URI", "http://127.0.0.1:5000")?;
            p.default_endpoint = Some(format!("{base}/v1/traces"));
            p.headers.push(Header::new("x-mlflow-experiment-id", experiment));
            p.refused_encodings = &[("zstd", "400 Bad Request")];
            if let Some(token) = settings.api_key.as_deref().filter(|k| !k.trim().is_empty()) {
                p.headers.push(Header::secret("Authorization", format!("Bearer {}", token.trim())));
            }
            p.notes = "adds mlflow.spanType (AGENT|LLM|TOOL) on every span, because MLflow reads \
                       the span type before it converts OpenInference attributes, and \
                       openinference.span.kind; names the trace with \
                       mlflow.traceTag.mlflow.traceName on the root; content is read from gen_ai.* messages; \
                       zstd is refused (400); MLflow needs a SQL store";
        }
        PlatformId::Datadog => {
            let key = required(platform, &settings.api_key, "DD_API_KEY", "API key")?;
            let site = settings.site.as_deref().map(str::trim).filter(|s| !s.is_empty());
            let site = site.unwrap_or("datadoghq.com");
            if site.contains('/') || site.contains(':') || !site.contains('.') {
                return Err(PlatformError::Invalid {
                    var: "DD_SITE",
                    value: site.to_owned(),
                    expected: "a Datadog site such as datadoghq.com or datadoghq.eu",
                });
            }
            p.default_endpoint = Some(format!("https://otlp.{site}/v1/traces"));
            p.headers.push(Header::secret("dd-api-key", key));
            p.headers.push(Header::new("dd-otlp-source", "llmobs"));
            p.max_body_bytes = 3_200_000;
            p.notes = "LLM Observability reads the current gen_ai.* attributes; the dd-otlp-source \
                       header routes spans to it; bodies above 3.2 MB get 413";
        }
        PlatformId::Opik => {
            let cloud = settings.base_url.as_deref().is_none_or(|b| b.trim().is_empty());
            let base = base_url(
                &settings.base_url,
                "OPIK_URL_OVERRIDE",
                "https://www.comet.com/opik/api",
            )?;
            p.default_endpoint = Some(format!("{base}/v1/private/otel/v1/traces"));
            if cloud {
                let key = required(platform, &settings.api_key, "OPIK_API_KEY", "API key")?;
                let workspace =
                    required(platform, &settings.workspace, "OPIK_WORKSPACE", "workspace")?;
                p.headers.push(Header::secret("Authorization", key));
                p.headers.push(Header::new("Comet-Workspace", workspace));
            } else {
                if let Some(key) = settings.api_key.as_deref().filter(|k| !k.trim().is_empty()) {
                    p.headers.push(Header::secret("Authorization", key.trim()));
                }
                if let Some(ws) = settings.workspace.as_deref().filter(|w| !w.trim().is_empty()) {
                    p.headers.push(Header::new("Comet-Workspace", ws.trim()));
                }
            }
            p.headers.push(Header::new("projectName", project(settings)));
            p.notes = "Opik reads gen_ai.* attributes; project and workspace travel as headers";
        }
        PlatformId::Weave => {
            let key = required(platform, &settings.api_key, "WANDB_API_KEY", "API key")?;
            let entity = required(platform, &settings.entity, "WANDB_ENTITY", "entity")?;
            p.default_endpoint = Some("https://trace.wandb.ai/otel/v1/traces".to_owned());
            p.headers.push(Header::secret("wandb-api-key", key));
            p.resource.push(("wandb.entity".to_owned(), entity.to_owned()));
            p.resource.push(("wandb.project".to_owned(), project(settings)));
            p.notes = "Weave reads gen_ai.* attributes; entity and project are the resource \
                       attributes wandb.entity and wandb.project";
        }
    }
    Ok(p)
}
