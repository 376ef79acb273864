//! Which outcomes are retried, how long to wait, and reading `Retry-After`.

use std::time::{Duration, SystemTime};

use super::RequestOutcome;
use super::config::RetryPolicy;

/// What to do after one attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Delivered.
    Accepted,
    /// Transient: send the same body again after a pause.
    Retry,
    /// 413 (gRPC: RESOURCE_EXHAUSTED without `RetryInfo`): the body is too large; send each
    /// half separately.
    Split,
    /// The backend refused it for good (400 and other 4xx, non-retryable gRPC codes).
    Rejected,
}

/// gRPC codes worth retrying: CANCELLED, DEADLINE_EXCEEDED, ABORTED, OUT_OF_RANGE,
/// UNAVAILABLE, DATA_LOSS (the OTLP specification's list).
const GRPC_RETRYABLE: [i32; 6] = [1, 4, 10, 11, 14, 15];

/// gRPC RESOURCE_EXHAUSTED.
const GRPC_RESOURCE_EXHAUSTED: i32 = 8;

/// The verdict on one answer. `retry_info`: the gRPC status carried a `google.rpc.RetryInfo`.
/// RESOURCE_EXHAUSTED is throttling only with one (OTLP/gRPC); without it the message was too
/// large for the server, and the batch is split as for HTTP 413.
pub fn verdict(outcome: &RequestOutcome, retry_info: bool) -> Verdict {
    match outcome {
        RequestOutcome::Status(code) => match code {
            200..=299 => Verdict::Accepted,
            413 => Verdict::Split,
            429 | 502 | 503 | 504 => Verdict::Retry,
            _ => Verdict::Rejected,
        },
        RequestOutcome::GrpcStatus(0) => Verdict::Accepted,
        RequestOutcome::GrpcStatus(GRPC_RESOURCE_EXHAUSTED) if retry_info => Verdict::Retry,
        RequestOutcome::GrpcStatus(GRPC_RESOURCE_EXHAUSTED) => Verdict::Split,
        RequestOutcome::GrpcStatus(code) if GRPC_RETRYABLE.contains(code) => Verdict::Retry,
        RequestOutcome::GrpcStatus(_) => Verdict::Rejected,
        RequestOutcome::Timeout | RequestOutcome::Connect | RequestOutcome::Io(_) => Verdict::Retry,
    }
}

/// Backoff before retry number `retry` (1-based): exponential with jitter (between half and
/// all of the step), capped, and never shorter than the server's `Retry-After`. (A
/// `Retry-After` beyond the policy's `max_retry_after` is not waited for at all: the caller gives
/// up instead of retrying before the server asked.)
pub fn backoff(policy: &RetryPolicy, retry: u32, retry_after: Option<Duration>) -> Duration {
    let exp = policy.initial_backoff.saturating_mul(1u32 << retry.saturating_sub(1).min(16));
    let cap = exp.min(policy.max_backoff);
    let jittered = if cap.is_zero() {
        cap
    } else {
        let nanos = u64::try_from(cap.as_nanos()).unwrap_or(u64::MAX);
        Duration::from_nanos(nanos / 2 + jitter() % (nanos / 2 + 1))
    };
    match retry_after {
        Some(after) => jittered.max(after),
        None => jittered,
    }
}

/// A cheap random number for jitter: retries of concurrent requests must not line up, but they
/// need no reproducibility, so a per-thread splitmix64 stream seeded from the clock suffices.
fn jitter() -> u64 {
    use std::cell::Cell;
    thread_local! {
        static STATE: Cell<u64> = Cell::new(
            SystemTime::now()
                .duration_since(SystemTime::UNIX_EPOCH)
                .map(|d| d.as_nanos() as u64)
                .unwrap_or(0x5eed),
        );
    }
    STATE.with(|state| {
        let next = crate::exec::splitmix64(state.get());
        state.set(next);
        next
    })
}

/// Parses a `Retry-After` value: delay in seconds, or an HTTP date in any of the three formats
/// RFC 9110 requires recipients to accept (IMF-fixdate, RFC 850, asctime).
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    if let Ok(secs) = value.parse::<f64>() {
        return (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_seconds_and_dates() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(784_111_777); // 08:49:37
        assert_eq!(parse_retry_after("3", now), Some(Duration::from_secs(3)));
        assert_eq!(parse_retry_after("0.5", now), Some(Duration::from_millis(500)));
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:49:47 GMT", now),
            Some(Duration::from_secs(10))
        );
        assert_eq!(parse_retry_after("Sun, 06 Nov 1994 08:49:00 GMT", now), Some(Duration::ZERO));
        // The obsolete formats RFC 9110 section 5.6.7 requires recipients to accept.
        assert_eq!(
            parse_retry_after("Sunday, 06-Nov-94 08:49:47 GMT", now),
            Some(Duration::from_secs(10))
        );
        assert_eq!(
            parse_retry_after("Sun Nov  6 08:49:47 1994", now),
            Some(Duration::from_secs(10))
        );
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(parse_retry_after("-1", now), None);
    }

    #[test]
    fn verdicts() {
        assert_eq!(verdict(&RequestOutcome::Status(200), false), Verdict::Accepted);
        assert_eq!(verdict(&RequestOutcome::Status(400), false), Verdict::Rejected);
        assert_eq!(verdict(&RequestOutcome::Status(413), false), Verdict::Split);
        for code in [429, 502, 503, 504] {
            assert_eq!(verdict(&RequestOutcome::Status(code), false), Verdict::Retry);
        }
        assert_eq!(verdict(&RequestOutcome::Status(500), false), Verdict::Rejected);
        assert_eq!(verdict(&RequestOutcome::GrpcStatus(14), false), Verdict::Retry);
        assert_eq!(verdict(&RequestOutcome::GrpcStatus(3), false), Verdict::Rejected);
        assert_eq!(verdict(&RequestOutcome::Timeout, false), Verdict::Retry);
        assert_eq!(verdict(&RequestOutcome::GrpcStatus(8), false), Verdict::Split);
        assert_eq!(verdict(&RequestOutcome::GrpcStatus(8), true), Verdict::Retry);
        assert_eq!(verdict(&RequestOutcome::GrpcStatus(14), true), Verdict::Retry);
    }

    #[test]
    fn backoff_grows_is_capped_and_honours_retry_after() {
        let policy = RetryPolicy {
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_millis(300),
            max_retry_after: Duration::from_secs(2),
            ..RetryPolicy::default()
        };
        for _ in 0..50 {
            let first = backoff(&policy, 1, None);
            assert!(first >= Duration::from_millis(50) && first <= Duration::from_millis(100));
            assert!(backoff(&policy, 10, None) <= Duration::from_millis(300));
            assert!(backoff(&policy, 1, Some(Duration::from_secs(1))) >= Duration::from_secs(1));
            assert_eq!(backoff(&policy, 1, Some(Duration::from_secs(60))), Duration::from_secs(60));
        }
    }
}
