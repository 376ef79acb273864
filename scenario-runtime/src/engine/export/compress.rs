//! Request body compression at fast settings, and bounded decompression for the sink.
//!
//! Each body is encoded whole into a buffer this thread keeps, then compressed in one call:
//! measured on a reference-mix body (`cargo run --release -p scaletest --example
//! compress_speed`), zstd level 1 in one call runs about 1.2x as fast as fed piece by piece
//! (which copies its input into its own window), and libdeflate's gzip level 1 about 1.2x as
//! fast as zlib-rs's with a third more compression. Level 1 for both keeps compression from
//! being the load generator's bottleneck for longer.

use std::cell::RefCell;
use std::io::{self, Read};

#[cfg(not(feature = "isal"))]
use libdeflater::{CompressionLvl, Compressor};
use zstd::zstd_safe::{CCtx, CParameter};

use super::config::Compression;

/// zstd level: the fastest regular level.
const ZSTD_LEVEL: i32 = 1;

/// gzip level: libdeflate's fastest that compresses (its level 0 stores).
#[cfg(not(feature = "isal"))]
const GZIP_LEVEL: i32 = 1;

/// A buffer larger than this after a body is freed rather than kept for the next one.
const KEEP_AT_MOST: usize = 16 * 1024 * 1024;

thread_local! {
    /// This thread's buffers and compressors: creating a zstd context or growing a buffer
    /// costs more than compressing a small batch.
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::default());
}

#[derive(Default)]
struct Scratch {
    /// The uncompressed body being encoded.
    raw: Vec<u8>,
    /// The compressed body, copied out at its exact length.
    packed: Vec<u8>,
    zstd: Option<CCtx<'static>>,
    #[cfg(not(feature = "isal"))]
    gzip: Option<Compressor>,
}

fn zstd_error(code: usize) -> io::Error {
    io::Error::other(format!("zstd: {}", zstd::zstd_safe::get_error_name(code)))
}

impl Scratch {
    /// Compresses `raw` into a new buffer after `prefix` zero bytes.
    fn pack(&mut self, compression: Compression, raw: &[u8], prefix: usize) -> io::Result<Vec<u8>> {
        let len = match compression {
            Compression::None => {
                self.packed.clear();
                self.packed.extend_from_slice(raw);
                raw.len()
            }
            Compression::Gzip => self.gzip(raw)?,
            Compression::Zstd => {
                let cctx = match self.zstd.as_mut() {
                    Some(cctx) => cctx,
                    None => {
                        let mut cctx = CCtx::try_create()
                            .ok_or_else(|| io::Error::other("zstd: cannot allocate a context"))?;
                        cctx.set_parameter(CParameter::CompressionLevel(ZSTD_LEVEL))
                            .map_err(zstd_error)?;
                        self.zstd.insert(cctx)
                    }
                };
                let bound = zstd::zstd_safe::compress_bound(raw.len());
                grow(&mut self.packed, bound);
                cctx.compress2(&mut self.packed[..bound], raw).map_err(zstd_error)?
            }
        };
        let mut out = Vec::with_capacity(prefix + len);
        out.resize(prefix, 0);
        out.extend_from_slice(&self.packed[..len]);
        if self.packed.capacity() > KEEP_AT_MOST {
            self.packed = Vec::new();
        }
        Ok(out)
    }

    /// gzip of `raw` into `self.packed`; returns its length. ISA-L with the `isal` feature.
    #[cfg(feature = "isal")]
    fn gzip(&mut self, raw: &[u8]) -> io::Result<usize> {
        // Stored blocks at worst, plus the gzip header and trailer.
        let bound = raw.len() + raw.len() / 16 + 4096;
        grow(&mut self.packed, bound);
        let level = isal::CompressionLevel::One;
        isal::compress_into(raw, &mut self.packed[..bound], level, isal::Codec::Gzip)
            .map_err(|e| io::Error::other(format!("gzip (ISA-L): {e}")))
    }

    /// gzip of `raw` into `self.packed`; returns its length. libdeflate at [`GZIP_LEVEL`].
    #[cfg(not(feature = "isal"))]
    fn gzip(&mut self, raw: &[u8]) -> io::Result<usize> {
        let gzip = match self.gzip.as_mut() {
            Some(gzip) => gzip,
            None => {
                let level = CompressionLvl::new(GZIP_LEVEL)
                    .map_err(|e| io::Error::other(format!("gzip level: {e:?}")))?;
                self.gzip.insert(Compressor::new(level))
            }
        };
        let bound = gzip.gzip_compress_bound(raw.len());
        grow(&mut self.packed, bound);
        gzip.gzip_compress(raw, &mut self.packed[..bound])
            .map_err(|e| io::Error::other(format!("gzip: {e:?}")))
    }
}

/// Makes `buf` at least `len` bytes long (zeroed once, then reused as it is).
fn grow(buf: &mut Vec<u8>, len: usize) {
    if buf.len() < len {
        buf.resize(len, 0);
    }
}

/// Compresses `raw`. `Compression::None` returns it unchanged.
pub fn compress(compression: Compression, raw: Vec<u8>) -> io::Result<Vec<u8>> {
    match compression {
        Compression::None => Ok(raw),
        _ => SCRATCH.with(|scratch| scratch.borrow_mut().pack(compression, &raw, 0)),
    }
}

/// Compresses what `encode` writes, after `prefix` bytes left as zeros (room for a frame
/// header). `raw_len` is exactly what `encode` writes: anything else is an error.
pub fn compress_stream(
    compression: Compression,
    raw_len: usize,
    prefix: usize,
    encode: impl FnOnce(&mut dyn io::Write) -> io::Result<()>,
) -> io::Result<Vec<u8>> {
    if compression == Compression::None {
        let mut out = Vec::with_capacity(prefix + raw_len);
        out.resize(prefix, 0);
        encode(&mut out)?;
        return check_len(out.len() - prefix, raw_len).map(|()| out);
    }
    SCRATCH.with(|scratch| {
        let mut scratch = scratch.borrow_mut();
        let mut raw = std::mem::take(&mut scratch.raw);
        raw.clear();
        raw.reserve(raw_len);
        let packed = encode(&mut raw)
            .and_then(|()| check_len(raw.len(), raw_len))
            .and_then(|()| scratch.pack(compression, &raw, prefix));
        if raw.capacity() <= KEEP_AT_MOST {
            scratch.raw = raw;
        }
        packed
    })
}

fn check_len(written: usize, expected: usize) -> io::Result<()> {
    if written == expected {
        Ok(())
    } else {
        Err(io::Error::other(format!(
            "the encoder wrote {written} bytes where {expected} were computed"
        )))
    }
}

/// Why a body could not be decompressed.
#[derive(Debug)]
pub enum DecompressError {
    /// The decompressed body is larger than the limit (a compression bomb or a too-big batch).
    TooLarge,
    /// The `Content-Encoding` is not one we accept.
    UnknownEncoding(String),
    /// The bytes are not valid for the encoding.
    Invalid(io::Error),
}

impl std::fmt::Display for DecompressError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DecompressError::TooLarge => f.write_str("decompressed body exceeds the size limit"),
            DecompressError::UnknownEncoding(e) => {
                write!(f, "unsupported encoding `{e}`: expected gzip, zstd or identity")
            }
            DecompressError::Invalid(e) => write!(f, "invalid compressed body: {e}"),
        }
    }
}

impl std::error::Error for DecompressError {}

/// Decompresses a body sent with `encoding` (`None`/`identity` = as is), refusing to produce
/// more than `limit` bytes.
pub fn decompress(
    encoding: Option<&str>,
    body: &[u8],
    limit: usize,
) -> Result<Option<Vec<u8>>, DecompressError> {
    let reader: Box<dyn Read + '_> = match encoding.map(str::trim) {
        None | Some("") | Some("identity") => return Ok(None),
        Some(e) if e.eq_ignore_ascii_case("gzip") => {
            Box::new(flate2::read::MultiGzDecoder::new(body))
        }
        Some(e) if e.eq_ignore_ascii_case("zstd") => Box::new(
            zstd::stream::read::Decoder::with_buffer(body).map_err(DecompressError::Invalid)?,
        ),
        Some(other) => return Err(DecompressError::UnknownEncoding(other.to_owned())),
    };
    let mut out = Vec::with_capacity(body.len().saturating_mul(4).min(limit));
    let cap = u64::try_from(limit).unwrap_or(u64::MAX).saturating_add(1);
    reader.take(cap).read_to_end(&mut out).map_err(DecompressError::Invalid)?;
    if out.len() > limit {
        return Err(DecompressError::TooLarge);
    }
    Ok(Some(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_each_encoding() {
        let raw: Vec<u8> = (0..100_000u32).flat_map(|i| (i % 251).to_le_bytes()).collect();
        for (compression, name) in [(Compression::Gzip, "gzip"), (Compression::Zstd, "zstd")] {
            let packed = compress(compression, raw.clone()).expect("compresses");
            assert!(packed.len() < raw.len() / 2, "{name} did not compress");
            let back = decompress(Some(name), &packed, raw.len()).expect("valid").expect("decoded");
            assert_eq!(back, raw);
            assert!(matches!(
                decompress(Some(name), &packed, raw.len() - 1),
                Err(DecompressError::TooLarge)
            ));
        }
        assert_eq!(compress(Compression::None, raw.clone()).expect("identity"), raw);
        assert!(matches!(
            decompress(Some("br"), &raw, 10),
            Err(DecompressError::UnknownEncoding(_))
        ));
        assert!(matches!(decompress(Some("gzip"), b"nope", 10), Err(DecompressError::Invalid(_))));
    }

    #[test]
    fn incompressible_bodies_fit_the_output_bound() {
        // xorshift bytes: nothing to find, so every codec falls back to its largest output.
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let raw: Vec<u8> = (0..1_000_000)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                state as u8
            })
            .collect();
        for (compression, name) in [(Compression::Gzip, "gzip"), (Compression::Zstd, "zstd")] {
            let packed = compress(compression, raw.clone()).expect("compresses");
            assert!(packed.len() >= raw.len(), "{name}: random bytes do not shrink");
            let back = decompress(Some(name), &packed, raw.len()).expect("valid").expect("decoded");
            assert_eq!(back, raw, "{name}");
        }
    }

    #[test]
    fn streams_in_pieces_after_a_prefix() {
        let raw: Vec<u8> = (0..300_000u32).flat_map(|i| (i % 251).to_le_bytes()).collect();
        for (compression, name) in [
            (Compression::None, "identity"),
            (Compression::Gzip, "gzip"),
            (Compression::Zstd, "zstd"),
        ] {
            // Twice: the second reuses this thread's zstd context.
            for _ in 0..2 {
                let packed = compress_stream(compression, raw.len(), 5, |w| {
                    for chunk in raw.chunks(70_001) {
                        w.write_all(chunk)?;
                    }
                    Ok(())
                })
                .expect("compresses");
                assert_eq!(&packed[..5], &[0; 5]);
                let back = decompress(Some(name), &packed[5..], raw.len())
                    .expect("valid")
                    .unwrap_or_else(|| packed[5..].to_vec());
                assert_eq!(back, raw, "{name}");
            }
        }
        // A body longer or shorter than computed is an error, and leaves the buffers usable.
        for compression in [Compression::None, Compression::Gzip, Compression::Zstd] {
            let short = compress_stream(compression, raw.len() + 1, 0, |w| w.write_all(&raw));
            assert!(short.is_err(), "{compression:?}");
            let again = compress_stream(compression, raw.len(), 0, |w| w.write_all(&raw));
            assert!(again.is_ok(), "{compression:?}: an error leaves the buffers usable");
        }
    }
}
