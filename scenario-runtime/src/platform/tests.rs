use super::*;

fn settings(pairs: &[(&str, &str)]) -> impl Fn(PlatformId) -> PlatformSettings {
    let pairs: Vec<(String, String)> =
        pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
    move |platform| {
        PlatformSettings::from_lookup(platform, |var| {
            pairs.iter().find(|(k, _)| k == var).map(|(_, v)| v.clone())
        })
    }
}

#[test]
fn names_round_trip_and_unknown_names_list_the_known_ones() {
    for id in PlatformId::ALL {
        assert_eq!(id.name().parse::<PlatformId>(), Ok(id));
    }
    let error = "langsmiht".parse::<PlatformId>().unwrap_err().to_string();
    assert!(error.contains("`langsmiht`"), "{error}");
    for id in PlatformId::ALL {
        assert!(error.contains(id.name()), "{error}");
    }
}

#[test]
fn protocols_parse_and_unknown_ones_are_named() {
    for protocol in Protocol::ALL {
        assert_eq!(protocol.name().parse::<Protocol>(), Ok(protocol));
    }
    let error = "http/xml".parse::<Protocol>().unwrap_err().to_string();
    assert!(error.contains("`http/xml`") && error.contains("http/protobuf"), "{error}");
}

#[test]
fn every_platform_builds_with_its_required_settings() {
    let all = settings(&[
        ("BRAINTRUST_API_KEY", "bt-secret"),
        ("LANGSMITH_API_KEY", "ls-secret"),
        ("LANGFUSE_PUBLIC_KEY", "pk-lf-1"),
        ("LANGFUSE_SECRET_KEY", "sk-lf-secret"),
        ("MLFLOW_EXPERIMENT_ID", "42"),
        ("DD_API_KEY", "dd-secret"),
        ("OPIK_API_KEY", "opik-secret"),
        ("OPIK_WORKSPACE", "team"),
        ("WANDB_API_KEY", "wandb-secret"),
        ("WANDB_ENTITY", "acme"),
    ]);
    for id in PlatformId::ALL {
        let profile = match id.profile(&all(id)) {
            Ok(profile) => profile,
            Err(error) => panic!("{id}: {error}"),
        };
        assert_eq!(profile.id, id);
        assert!(!profile.protocols.is_empty());
        assert!(profile.max_body_bytes >= 1_000_000);
        let shown = format!(
            "{:?} {}",
            profile.headers,
            profile.headers.iter().map(|h| h.to_string()).collect::<String>()
        );
        assert!(!shown.contains("secret"), "{id} shows a secret: {shown}");
        if let Some(endpoint) = &profile.default_endpoint {
            assert!(endpoint.starts_with("http") && endpoint.ends_with("/traces"), "{endpoint}");
        }
    }
}

#[test]
fn missing_credentials_name_their_variable() {
    let none = settings(&[]);
    for (id, var) in [
        (PlatformId::Braintrust, "BRAINTRUST_API_KEY"),
        (PlatformId::Langsmith, "LANGSMITH_API_KEY"),
        (PlatformId::Langfuse, "LANGFUSE_PUBLIC_KEY"),
        (PlatformId::Mlflow, "MLFLOW_EXPERIMENT_ID"),
        (PlatformId::Datadog, "DD_API_KEY"),
        (PlatformId::Opik, "OPIK_API_KEY"),
        (PlatformId::Weave, "WANDB_API_KEY"),
    ] {
        let error = id.profile(&none(id)).unwrap_err().to_string();
        assert!(error.contains(var) && error.contains(id.name()), "{error}");
    }
    let only_public = settings(&[("LANGFUSE_PUBLIC_KEY", "pk")]);
    let error = PlatformId::Langfuse.profile(&only_public(PlatformId::Langfuse)).unwrap_err();
    assert!(error.to_string().contains("LANGFUSE_SECRET_KEY"), "{error}");
    for id in [PlatformId::Console, PlatformId::Otlp, PlatformId::Phoenix] {
        assert!(id.profile(&none(id)).is_ok(), "{id} needs no credential");
    }
}

#[test]
fn regions_and_sites_choose_the_endpoint() {
    let eu = settings(&[("LANGSMITH_API_KEY", "k"), ("LANGSMITH_REGION", "eu")]);
    let profile = PlatformId::Langsmith.profile(&eu(PlatformId::Langsmith)).unwrap();
    assert_eq!(
        profile.default_endpoint.as_deref(),
        Some("https://eu.api.smith.langchain.com/otel/v1/traces")
    );
    let us = settings(&[
        ("LANGFUSE_PUBLIC_KEY", "p"),
        ("LANGFUSE_SECRET_KEY", "s"),
        ("LANGFUSE_REGION", "us"),
    ]);
    let profile = PlatformId::Langfuse.profile(&us(PlatformId::Langfuse)).unwrap();
    assert_eq!(
        profile.default_endpoint.as_deref(),
        Some("https://us.cloud.langfuse.com/api/public/otel/v1/traces")
    );
    // base64("p:s")
    assert_eq!(profile.headers[0].value, "Basic cDpz");
    let dd = settings(&[("DD_API_KEY", "k"), ("DD_SITE", "datadoghq.eu")]);
    let profile = PlatformId::Datadog.profile(&dd(PlatformId::Datadog)).unwrap();
    assert_eq!(profile.default_endpoint.as_deref(), Some("https://otlp.datadoghq.eu/v1/traces"));
    let bad = settings(&[("LANGSMITH_API_KEY", "k"), ("LANGSMITH_REGION", "mars")]);
    let error = PlatformId::Langsmith.profile(&bad(PlatformId::Langsmith)).unwrap_err();
    assert!(error.to_string().contains("`mars`"), "{error}");
    let self_hosted = settings(&[("PHOENIX_COLLECTOR_ENDPOINT", "http://phoenix:6006/")]);
    let profile = PlatformId::Phoenix.profile(&self_hosted(PlatformId::Phoenix)).unwrap();
    assert_eq!(profile.default_endpoint.as_deref(), Some("http://phoenix:6006/v1/traces"));
    let bad_url = settings(&[("PHOENIX_COLLECTOR_ENDPOINT", "phoenix:6006")]);
    let error = PlatformId::Phoenix.profile(&bad_url(PlatformId::Phoenix)).unwrap_err();
    assert!(error.to_string().contains("PHOENIX_COLLECTOR_ENDPOINT"), "{error}");
}

#[test]
fn routing_uses_project_id_before_name_and_specific_variables_before_shared_ones() {
    let by_name = settings(&[("BRAINTRUST_API_KEY", "k"), ("OTEL_PROJECT_NAME", "shared")]);
    let profile = PlatformId::Braintrust.profile(&by_name(PlatformId::Braintrust)).unwrap();
    assert!(
        profile.headers.iter().any(|h| h.name == "x-bt-parent" && h.value == "project_name:shared")
    );
    let by_id = settings(&[("BRAINTRUST_API_KEY", "k"), ("BRAINTRUST_PROJECT_ID", "p-1")]);
    let profile = PlatformId::Braintrust.profile(&by_id(PlatformId::Braintrust)).unwrap();
    assert!(profile.headers.iter().any(|h| h.value == "project_id:p-1"));
    let both = settings(&[
        ("LANGSMITH_API_KEY", "k"),
        ("OTEL_PROJECT_NAME", "shared"),
        ("LANGSMITH_PROJECT", "specific"),
    ]);
    let profile = PlatformId::Langsmith.profile(&both(PlatformId::Langsmith)).unwrap();
    assert!(profile.headers.iter().any(|h| h.name == "Langsmith-Project" && h.value == "specific"));
}

#[test]
fn protocols_are_checked_per_platform() {
    let phoenix = PlatformId::Phoenix.profile(&PlatformSettings::default()).unwrap();
    assert!(phoenix.check_protocol(Protocol::Grpc).is_ok());
    let error = phoenix.check_protocol(Protocol::HttpJson).unwrap_err().to_string();
    assert!(
        error.contains("phoenix") && error.contains("http/json") && error.contains("grpc"),
        "{error}"
    );
}

#[test]
fn every_settings_variable_sets_a_field() {
    for id in PlatformId::ALL {
        for (var, meaning) in id.settings_env() {
            let mut probe = PlatformSettings::default();
            assert!(probe.field_mut(var).is_some(), "{var} of {id} sets nothing");
            assert!(!meaning.is_empty());
        }
    }
}

#[test]
fn settings_debug_redacts_keys() {
    let s = PlatformSettings { api_key: Some("hunter2".into()), ..PlatformSettings::default() };
    assert!(!format!("{s:?}").contains("hunter2"));
}

#[test]
fn zstd_is_refused_up_front_where_the_backend_refuses_it() {
    let phoenix = PlatformId::Phoenix.profile(&PlatformSettings::default()).unwrap();
    let error = phoenix.check_compression(Some("zstd")).unwrap_err().to_string();
    assert!(
        error.contains("phoenix") && error.contains("zstd") && error.contains("415"),
        "{error}"
    );
    assert!(error.contains("gzip"), "names what works: {error}");
    assert!(phoenix.check_compression(Some("gzip")).is_ok());
    assert!(phoenix.check_compression(None).is_ok());
    let mlflow = settings(&[("MLFLOW_EXPERIMENT_ID", "1")]);
    let mlflow = PlatformId::Mlflow.profile(&mlflow(PlatformId::Mlflow)).unwrap();
    let error = mlflow.check_compression(Some("ZSTD")).unwrap_err().to_string();
    assert!(error.contains("mlflow") && error.contains("400"), "{error}");
    // Where nothing was observed, nothing is refused.
    let langfuse = settings(&[("LANGFUSE_PUBLIC_KEY", "p"), ("LANGFUSE_SECRET_KEY", "s")]);
    let langfuse = PlatformId::Langfuse.profile(&langfuse(PlatformId::Langfuse)).unwrap();
    assert!(langfuse.check_compression(Some("zstd")).is_ok());
}

#[test]
fn phoenix_grpc_goes_to_its_grpc_port() {
    let phoenix = PlatformId::Phoenix.profile(&PlatformSettings::default()).unwrap();
    assert_eq!(phoenix.grpc_endpoint.as_deref(), Some("http://127.0.0.1:4317"));
    assert_eq!(phoenix.endpoint_for(Protocol::Grpc), Some("http://127.0.0.1:4317"));
    assert_eq!(
        phoenix.endpoint_for(Protocol::HttpProtobuf),
        Some("http://127.0.0.1:6006/v1/traces")
    );
    let custom = settings(&[("PHOENIX_COLLECTOR_ENDPOINT", "https://phoenix.internal:6006/")]);
    let custom =
        PlatformSettings { grpc_port: Some("14317".into()), ..custom(PlatformId::Phoenix) };
    let profile = PlatformId::Phoenix.profile(&custom).unwrap();
    assert_eq!(profile.endpoint_for(Protocol::Grpc), Some("https://phoenix.internal:14317"));
    let no_port = settings(&[("PHOENIX_COLLECTOR_ENDPOINT", "http://phoenix")]);
    let profile = PlatformId::Phoenix.profile(&no_port(PlatformId::Phoenix)).unwrap();
    assert_eq!(profile.grpc_endpoint.as_deref(), Some("http://phoenix:4317"));
    let bad = PlatformSettings { grpc_port: Some("70000".into()), ..PlatformSettings::default() };
    let error = PlatformId::Phoenix.profile(&bad).unwrap_err().to_string();
    assert!(error.contains("PHOENIX_GRPC_PORT") && error.contains("70000"), "{error}");
    // Platforms with one listener use their traces endpoint for every protocol.
    let otlp = PlatformId::Otlp.profile(&PlatformSettings::default()).unwrap();
    assert_eq!(otlp.endpoint_for(Protocol::Grpc), None);
}

#[test]
fn mlflow_spans_carry_its_span_type_and_the_root_names_the_trace() {
    let value = |attributes: &[crate::span::Attribute], key: &str| {
        attributes.iter().find(|a| a.key == key).map(|a| format!("{:?}", a.value))
    };
    let cases = [
        (SpanRole::Agent { root: true }, "AGENT"),
        (SpanRole::Agent { root: false }, "AGENT"),
        (SpanRole::Chat, "LLM"),
        (SpanRole::Tool, "TOOL"),
    ];
    for (role, kind) in cases {
        let mut out = Vec::new();
        decorate(PlatformId::Mlflow, &SpanFacts::new(role, "travel_assistant", "conv-1"), &mut out);
        let span_type = value(&out, "mlflow.spanType").unwrap_or_default();
        assert!(span_type.contains(kind), "{role:?}: {span_type}");
        let name = value(&out, "mlflow.traceTag.mlflow.traceName");
        if role == (SpanRole::Agent { root: true }) {
            assert!(name.is_some_and(|n| n.contains("travel_assistant")), "{out:?}");
        } else {
            assert!(name.is_none(), "only the root names the trace: {role:?}");
        }
    }
}
