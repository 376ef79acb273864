//! OpenTelemetry GenAI semantic-convention keys used by scaletest.
