//! The HTTP client every read API shares: base URL, credential headers kept secret, request
//! pacing, `Retry-After` on 429/503, JSON bodies, and errors that never carry a secret.

use std::time::{Duration, SystemTime};

use http::header::{HeaderMap, HeaderName, HeaderValue};
use tokio::sync::Mutex;
use tokio::time::Instant;

use super::ReadError;
use crate::engine::export::parse_retry_after;

/// How much of an error body is kept in a [`ReadError`].
const BODY_EXCERPT: usize = 200;

/// One platform's HTTP client.
pub(crate) struct Http {
    client: reqwest::Client,
    base: String,
    headers: HeaderMap,
    /// Strings that must never appear in an error (keys, tokens, encoded credentials).
    secrets: Vec<String>,
    /// Smallest gap between two requests to this backend.
    min_gap: Duration,
    /// When the next request may leave (pacing, and `Retry-After` once a 429 said so).
    next_allowed: Mutex<Instant>,
}

impl std::fmt::Debug for Http {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Header values may be credentials: only their names print.
        let names: Vec<&str> = self.headers.keys().map(|k| k.as_str()).collect();
        f.debug_struct("Http")
            .field("base", &self.base)
            .field("headers", &names)
            .field("min_gap", &self.min_gap)
            .finish_non_exhaustive()
    }
}

/// A header for [`Http::new`]: name, value, and whether the value is a secret.
pub(crate) type HeaderSpec = (&'static str, String, bool);

impl Http {
    /// A client for `base` (no trailing slash) sending `headers` with every request.
    pub(crate) fn new(
        base: &str,
        headers: Vec<HeaderSpec>,
        min_gap: Duration,
        timeout: Duration,
    ) -> Result<Self, ReadError> {
        let base = base.trim().trim_end_matches('/').to_owned();
        if !(base.starts_with("http://") || base.starts_with("https://")) {
            return Err(ReadError::Config(format!("read API base URL `{base}` is not http(s)")));
        }
        let mut map = HeaderMap::new();
        let mut secrets = Vec::new();
        for (name, value, secret) in headers {
            let header = HeaderName::from_static(name);
            let mut value = HeaderValue::from_str(&value).map_err(|_| {
                ReadError::Config(format!("header {name} has a value that is not valid in HTTP"))
            })?;
            if secret {
                value.set_sensitive(true);
                if let Ok(text) = value.to_str() {
                    secrets.push(text.to_owned());
                    // The bare credential after a scheme (`Bearer KEY`, `Basic B64`) too.
                    if let Some((_, bare)) = text.split_once(' ') {
                        secrets.push(bare.to_owned());
                    }
                }
            }
            map.insert(header, value);
        }
        let client = crate::engine::export::http_client_builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(10)))
            // Servers close idle keep-alive connections (uvicorn, behind Phoenix and MLflow,
            // after 5 s); a request sent on one they have just closed fails without an answer.
            // Idle connections are dropped before that.
            .pool_idle_timeout(Duration::from_secs(3))
            .build()
            .map_err(|e| ReadError::Config(format!("could not build the HTTP client: {e}")))?;
        Ok(Self {
            client,
            base,
            headers: map,
            secrets,
            min_gap,
            next_allowed: Mutex::new(Instant::now()),
        })
    }

    /// Registers one more string to keep out of errors (a secret used outside the headers).
    pub(crate) fn add_secret(&mut self, secret: String) {
        if !secret.is_empty() {
            self.secrets.push(secret);
        }
    }

    /// `GET base+path_and_query`, JSON answer.
    pub(crate) async fn get_json(
        &self,
        path_and_query: &str,
    ) -> Result<serde_json::Value, ReadError> {
        let text = self.send(reqwest::Method::GET, path_and_query, None).await?;
        self.parse(&text)
    }

    /// `POST base+path` with a JSON body, JSON answer.
    pub(crate) async fn post_json(
        &self,
        path: &str,
        body: &serde_json::Value,
    ) -> Result<serde_json::Value, ReadError> {
        let text = self.send(reqwest::Method::POST, path, Some(body.to_string())).await?;
        self.parse(&text)
    }

    /// `POST base+path` with a JSON body, the answer as text (JSON lines, ...).
    pub(crate) async fn post_text(
        &self,
        path: &str,
        body: &serde_json::Value,
    ) -> Result<String, ReadError> {
        self.send(reqwest::Method::POST, path, Some(body.to_string())).await
    }

    /// One request as the read load sends it: unpaced (the load sets its own rate), and the
    /// status and body whatever they are; only a request without an answer is an error
    /// (timeout, connection, transport).
    pub(crate) async fn exchange(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&serde_json::Value>,
    ) -> Result<(u16, bytes::Bytes), ReadError> {
        let url = format!("{}{}", self.base, path);
        let mut request = self.client.request(method, &url).headers(self.headers.clone());
        if let Some(body) = body {
            request = request
                .header(http::header::CONTENT_TYPE, "application/json")
                .body(body.to_string());
        }
        let response = request.send().await.map_err(|e| self.transport_error(&e))?;
        let status = response.status().as_u16();
        let bytes = response.bytes().await.map_err(|e| self.transport_error(&e))?;
        Ok((status, bytes))
    }

    fn parse(&self, text: &str) -> Result<serde_json::Value, ReadError> {
        serde_json::from_str(text).map_err(|e| {
            ReadError::Decode(self.redact(&format!("{e}; body starts {}", excerpt(text))))
        })
    }

    async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<String>,
    ) -> Result<String, ReadError> {
        self.pace().await;
        let url = format!("{}{}", self.base, path);
        let mut request = self.client.request(method, &url).headers(self.headers.clone());
        if let Some(body) = body {
            request = request.header(http::header::CONTENT_TYPE, "application/json").body(body);
        }
        let response = request.send().await.map_err(|e| self.transport_error(&e))?;
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get(http::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| parse_retry_after(v, SystemTime::now()));
        let text = response.text().await.map_err(|e| self.transport_error(&e))?;
        match status {
            200..=299 => Ok(text),
            401 | 403 => Err(ReadError::Auth { status, detail: self.redact(excerpt(&text)) }),
            429 | 503 => {
                if let Some(wait) = retry_after {
                    // No request to this backend before the wait it asked for is over.
                    let mut next = self.next_allowed.lock().await;
                    *next = (*next).max(Instant::now() + wait);
                }
                Err(ReadError::RateLimited { status, retry_after })
            }
            404 => Err(ReadError::NotFound(self.redact(&format!("{path}: {}", excerpt(&text))))),
            _ => Err(ReadError::Status { status, detail: self.redact(excerpt(&text)) }),
        }
    }

    /// Waits until the next request may leave, and books the slot after it.
    async fn pace(&self) {
        let at = {
            let mut next = self.next_allowed.lock().await;
            let at = (*next).max(Instant::now());
            *next = at + self.min_gap;
            at
        };
        tokio::time::sleep_until(at).await;
    }

    fn transport_error(&self, error: &reqwest::Error) -> ReadError {
        if error.is_timeout() {
            ReadError::Timeout
        } else if error.is_connect() {
            ReadError::Connect(self.redact(&format!("{}: {error}", self.base)))
        } else {
            ReadError::Io(self.redact(&error.to_string()))
        }
    }

    /// `text` with every secret replaced.
    pub(crate) fn redact(&self, text: &str) -> String {
        let mut out = text.to_owned();
        for secret in &self.secrets {
            if secret.len() >= 4 {
                out = out.replace(secret.as_str(), "<redacted>");
            }
        }
        out
    }
}

fn excerpt(text: &str) -> &str {
    let text = text.trim();
    if text.len() <= BODY_EXCERPT {
        return text;
    }
    let mut end = BODY_EXCERPT;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// Percent-encodes a query-string value (RFC 3986 unreserved characters stay).
pub(crate) fn encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(byte as char)
            }
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}

/// RFC 3339 UTC with milliseconds, e.g. `2026-12-02T00:48:53.123Z`.
pub(crate) fn rfc3339_ms(unix_ms: u64) -> String {
    let secs = unix_ms / 1000;
    let ms = unix_ms % 1000;
    let days = secs / 86_400;
    let rem = secs % 86_400;
    let (y, m, d) = civil_from_days(days as i64);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{ms:03}Z",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
}

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian (H. Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Lower-case hex of `bytes`.
pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A JSON value read as an unsigned count: a number, or a string holding one (ClickHouse-backed
/// APIs answer counts as strings). `None` when absent or not a count.
pub(crate) fn as_count(value: Option<&serde_json::Value>) -> Option<u64> {
    match value? {
        serde_json::Value::Number(n) => n
            .as_u64()
            .or_else(|| n.as_f64().filter(|f| *f >= 0.0 && f.fract() == 0.0).map(|f| f as u64)),
        serde_json::Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_rfc3339_utc() {
        assert_eq!(rfc3339_ms(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(rfc3339_ms(1_767_225_600_123), "2026-01-01T00:00:00.123Z");
        assert_eq!(rfc3339_ms(951_782_400_000), "2000-02-29T00:00:00.000Z");
    }

    #[test]
    fn query_values_are_encoded() {
        assert_eq!(encode("a b&c=d/é"), "a%20b%26c%3Dd%2F%C3%A9");
        assert_eq!(encode("tr-0aF_.~"), "tr-0aF_.~");
    }

    #[test]
    fn counts_read_numbers_and_numeric_strings_only() {
        let v = serde_json::json!({"a": 3, "b": "17", "c": "x", "d": -1, "e": 2.0});
        assert_eq!(as_count(v.get("a")), Some(3));
        assert_eq!(as_count(v.get("b")), Some(17));
        assert_eq!(as_count(v.get("c")), None);
        assert_eq!(as_count(v.get("d")), None);
        assert_eq!(as_count(v.get("e")), Some(2));
        assert_eq!(as_count(v.get("missing")), None);
    }

    #[test]
    fn secrets_never_reach_errors_or_debug() {
        let http = Http::new(
            "http://127.0.0.1:1",
            vec![("authorization", "Bearer hunter2-key".into(), true)],
            Duration::ZERO,
            Duration::from_secs(1),
        )
        .unwrap();
        assert_eq!(
            http.redact("echo: Bearer hunter2-key and hunter2-key"),
            "echo: <redacted> and <redacted>"
        );
        assert!(!format!("{http:?}").contains("hunter2"));
    }
}
