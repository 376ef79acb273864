use super::*;

fn settings() -> PlatformSettings {
    PlatformSettings {
        api_key: Some("key-secret-1234".into()),
        secret_key: Some("sk-lf-secret-5678".into()),
        experiment_id: Some("7".into()),
        entity: Some("acme".into()),
        workspace: Some("team".into()),
        ..PlatformSettings::default()
    }
}

#[test]
fn platforms_without_a_read_api_say_why() {
    for id in [PlatformId::Otlp, PlatformId::Datadog, PlatformId::Console] {
        let error = read_api(id, &settings(), &ReadOptions::default()).unwrap_err();
        assert_eq!(error.platform, id);
        let text = error.to_string();
        assert!(text.contains("storage not verified") && text.len() > 60, "{text}");
    }
}

#[test]
fn every_other_platform_has_a_client_whose_debug_hides_keys() {
    for id in PlatformId::ALL {
        let Ok(api) = read_api(id, &settings(), &ReadOptions::default()) else { continue };
        assert_eq!(api.platform(), id);
        let countable = api.countable();
        assert!(countable.spans || countable.traces, "{id} counts nothing");
        let shown = format!("{api:?}");
        assert!(!shown.contains("secret") && !shown.contains("key-secret"), "{id}: {shown}");
    }
    let built = PlatformId::ALL
        .iter()
        .filter(|id| read_api(**id, &settings(), &ReadOptions::default()).is_ok())
        .count();
    assert_eq!(built, 7);
}

#[test]
fn a_missing_credential_is_named() {
    let error =
        read_api(PlatformId::Langfuse, &PlatformSettings::default(), &ReadOptions::default())
            .unwrap_err();
    assert!(error.to_string().contains("LANGFUSE_PUBLIC_KEY"), "{error}");
    let error = read_api(PlatformId::Mlflow, &PlatformSettings::default(), &ReadOptions::default())
        .unwrap_err();
    assert!(error.to_string().contains("MLFLOW_EXPERIMENT_ID"), "{error}");
}

#[test]
fn error_classes_are_stable() {
    let cases = [
        (ReadError::Auth { status: 401, detail: String::new() }, "auth"),
        (ReadError::RateLimited { status: 429, retry_after: None }, "rate_limited"),
        (ReadError::Status { status: 502, detail: String::new() }, "http_5xx"),
        (ReadError::Status { status: 400, detail: String::new() }, "http_4xx"),
        (ReadError::Timeout, "timeout"),
        (ReadError::Unsupported("x"), "unsupported"),
    ];
    for (error, class) in cases {
        assert_eq!(error.class(), class);
    }
    assert!(ReadError::Auth { status: 403, detail: String::new() }.is_fatal());
    assert!(!ReadError::Timeout.is_fatal());
}

#[test]
fn stored_trace_counts_only_what_it_is_given() {
    let mut t = StoredTrace::default();
    t.add_span(true, Some("agent"), None, None);
    t.add_span(false, Some("LLM"), Some(10), Some(3));
    t.add_span(false, None, None, None);
    assert_eq!((t.spans, t.roots), (3, 1));
    assert_eq!(t.kinds.get("AGENT"), Some(&1));
    assert_eq!(t.kinds.get("LLM"), Some(&1));
    assert_eq!((t.input_tokens, t.output_tokens), (Some(10), Some(3)));
    let none = StoredTrace::default();
    assert_eq!(none.input_tokens, None, "no token seen is None, not 0");
}
