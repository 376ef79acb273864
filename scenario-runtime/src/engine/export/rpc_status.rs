//! The `grpc-status-details-bin` trailer: an encoded `google.rpc.Status` whose details may hold a
//! `google.rpc.RetryInfo`. OTLP/gRPC treats RESOURCE_EXHAUSTED as retryable only when it carries
//! one (the server can recover, e.g. throttling); without it the request itself is the problem,
//! typically a message larger than the server's maximum.

use std::time::Duration;

use base64::Engine as _;
use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use prost::Message;

/// The trailer (or, in a trailers-only response, header) carrying the status details.
pub const GRPC_STATUS_DETAILS: &str = "grpc-status-details-bin";

/// The type URL of `google.rpc.RetryInfo` in a `google.protobuf.Any`.
const RETRY_INFO_TYPE: &str = "type.googleapis.com/google.rpc.RetryInfo";

/// Binary gRPC metadata is base64 without padding; receivers accept either.
const BASE64: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_encode_padding(false)
        .with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// `google.rpc.Status`.
#[derive(Clone, PartialEq, prost::Message)]
struct RpcStatus {
    #[prost(int32, tag = "1")]
    code: i32,
    #[prost(string, tag = "2")]
    message: String,
    #[prost(message, repeated, tag = "3")]
    details: Vec<Any>,
}

/// `google.protobuf.Any`.
#[derive(Clone, PartialEq, prost::Message)]
struct Any {
    #[prost(string, tag = "1")]
    type_url: String,
    #[prost(bytes = "vec", tag = "2")]
    value: Vec<u8>,
}

/// `google.rpc.RetryInfo`.
#[derive(Clone, PartialEq, prost::Message)]
struct RetryInfo {
    #[prost(message, optional, tag = "1")]
    retry_delay: Option<ProtoDuration>,
}

/// `google.protobuf.Duration`.
#[derive(Clone, PartialEq, prost::Message)]
struct ProtoDuration {
    #[prost(int64, tag = "1")]
    seconds: i64,
    #[prost(int32, tag = "2")]
    nanos: i32,
}

/// The encoded `google.rpc.Status` for `code` and `message` with a `RetryInfo` detail
/// (`retry_delay` when given), as bytes (what `tonic::Status::details` returns).
pub fn retry_info_status(code: i32, message: &str, retry_delay: Option<Duration>) -> Vec<u8> {
    let retry_delay = retry_delay.map(|d| ProtoDuration {
        seconds: i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        nanos: i32::try_from(d.subsec_nanos()).unwrap_or(0),
    });
    let detail = Any {
        type_url: RETRY_INFO_TYPE.to_owned(),
        value: RetryInfo { retry_delay }.encode_to_vec(),
    };
    RpcStatus { code, message: message.to_owned(), details: vec![detail] }.encode_to_vec()
}

/// [`retry_info_status`] as a `grpc-status-details-bin` value.
pub fn retry_info_header(code: i32, message: &str, retry_delay: Option<Duration>) -> String {
    BASE64.encode(retry_info_status(code, message, retry_delay))
}

/// The `RetryInfo` in an encoded `google.rpc.Status`: `None` when there is none (or the bytes
/// do not decode), else its retry delay, if it states one.
pub fn retry_info(status: &[u8]) -> Option<Option<Duration>> {
    let status = RpcStatus::decode(status).ok()?;
    let detail = status.details.iter().find(|d| d.type_url.ends_with("/google.rpc.RetryInfo"))?;
    let info = RetryInfo::decode(detail.value.as_slice()).ok()?;
    Some(info.retry_delay.and_then(|d| {
        let seconds = u64::try_from(d.seconds).ok()?;
        let nanos = u32::try_from(d.nanos).ok().filter(|n| *n < 1_000_000_000)?;
        Some(Duration::new(seconds, nanos))
    }))
}

/// [`retry_info`] of a `grpc-status-details-bin` value.
pub fn retry_info_in_header(value: &[u8]) -> Option<Option<Duration>> {
    retry_info(&BASE64.decode(value.trim_ascii()).ok()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_info_round_trips() {
        let delay = Duration::from_millis(1_250);
        let header = retry_info_header(8, "slow down", Some(delay));
        assert!(!header.ends_with('='));
        assert_eq!(retry_info_in_header(header.as_bytes()), Some(Some(delay)));
        assert_eq!(retry_info_in_header(retry_info_header(14, "", None).as_bytes()), Some(None));
        let padded =
            base64::engine::general_purpose::STANDARD.encode(retry_info_status(8, "x", None));
        assert!(retry_info_in_header(padded.as_bytes()).is_some());
        let bare = RpcStatus { code: 8, message: "too large".into(), details: Vec::new() };
        assert_eq!(retry_info(&bare.encode_to_vec()), None);
        assert_eq!(retry_info_in_header(b"not base64!"), None);
    }
}
