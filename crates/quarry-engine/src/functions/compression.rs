//! Compression functions: `zlib_compress_to_base64_string`, `zlib_decompress_from_base64_string`,
//! `gzip_compress_to_base64_string` and `gzip_decompress_from_base64_string`.
//!
//! Compression writes what the Kusto engine writes, byte for byte: the input's UTF-8 bytes in
//! stored (uncompressed) deflate blocks, framed as zlib (header `78 01`, Adler-32 trailer) or as
//! gzip (a ten-byte header with no flags, no time stamp, `XFL` 0 and OS 255, then CRC-32 and the
//! length). Decompression accepts any valid stream (via `flate2`); input that is not base64, not
//! a valid stream, or not UTF-8 after decompression gives the empty string.

use std::io::Read;

use datafusion::arrow::datatypes::DataType;
use datafusion::common::{Result as DfResult, ScalarValue};
use datafusion::logical_expr::Expr;

use super::dynamic::{row_call, scalar_str, RowFn};
use super::misc::{base64_decode, base64_encode};
use super::{check_arity, CallContext, FamilyResult, PlannedArg};

/// The functions this family implements.
pub(super) const NAMES: &[&str] = &[
    "zlib_compress_to_base64_string",
    "zlib_decompress_from_base64_string",
    "gzip_compress_to_base64_string",
    "gzip_decompress_from_base64_string",
];

/// The most bytes a decompression may produce; a larger result counts as a failure.
const MAX_DECOMPRESSED: u64 = 256 * 1024 * 1024;

/// Plans `name(args)` if it belongs to this family.
pub(super) fn plan(name: &str, args: &[PlannedArg], ctx: &CallContext) -> FamilyResult {
    let f: RowFn = match name {
        "zlib_compress_to_base64_string" => zlib_compress_row,
        "zlib_decompress_from_base64_string" => zlib_decompress_row,
        "gzip_compress_to_base64_string" => gzip_compress_row,
        "gzip_decompress_from_base64_string" => gzip_decompress_row,
        _ => return None,
    };
    Some(check_arity(name, args, 1, 1, ctx).map(|()| {
        let exprs: Vec<Expr> = args.iter().map(|a| a.expr.clone()).collect();
        row_call(name, DataType::Utf8, f, exprs)
    }))
}

/// `data` as a raw deflate stream of stored blocks (at most 65,535 bytes each; one empty final
/// block for empty input).
fn stored_deflate(data: &[u8]) -> Vec<u8> {
    const MAX_BLOCK: usize = 65_535;
    let blocks = data.len().div_ceil(MAX_BLOCK).max(1);
    let mut out = Vec::with_capacity(data.len() + 5 * blocks);
    let mut chunks: Vec<&[u8]> = data.chunks(MAX_BLOCK).collect();
    if chunks.is_empty() {
        chunks.push(&[]);
    }
    let last = chunks.len() - 1;
    for (index, chunk) in chunks.iter().enumerate() {
        // BFINAL in bit 0, BTYPE 00 (stored); the rest of the byte is padding.
        out.push(u8::from(index == last));
        let len = chunk.len() as u16;
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&(!len).to_le_bytes());
        out.extend_from_slice(chunk);
    }
    out
}

fn adler32(data: &[u8]) -> u32 {
    const MOD: u32 = 65_521;
    let (mut a, mut b) = (1u32, 0u32);
    // 5,552 bytes is the most that can be summed before `b` could overflow.
    for chunk in data.chunks(5_552) {
        for &byte in chunk {
            a += u32::from(byte);
            b += a;
        }
        a %= MOD;
        b %= MOD;
    }
    (b << 16) | a
}

fn zlib_compress(data: &[u8]) -> Vec<u8> {
    let mut out = vec![0x78, 0x01];
    out.extend(stored_deflate(data));
    out.extend_from_slice(&adler32(data).to_be_bytes());
    out
}

fn gzip_compress(data: &[u8]) -> Vec<u8> {
    let mut out = vec![0x1f, 0x8b, 0x08, 0x00, 0, 0, 0, 0, 0x00, 0xff];
    out.extend(stored_deflate(data));
    let mut crc = flate2::Crc::new();
    crc.update(data);
    out.extend_from_slice(&crc.sum().to_le_bytes());
    out.extend_from_slice(&(data.len() as u32).to_le_bytes());
    out
}

/// The whole output of `reader`, `None` on a read error or beyond [`MAX_DECOMPRESSED`].
fn read_all(reader: impl Read) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    reader
        .take(MAX_DECOMPRESSED + 1)
        .read_to_end(&mut out)
        .ok()?;
    (out.len() as u64 <= MAX_DECOMPRESSED).then_some(out)
}

fn zlib_decompress(data: &[u8]) -> Option<Vec<u8>> {
    read_all(flate2::read::ZlibDecoder::new(data))
}

fn gzip_decompress(data: &[u8]) -> Option<Vec<u8>> {
    read_all(flate2::read::GzDecoder::new(data))
}

fn compress_row(args: &[ScalarValue], compress: fn(&[u8]) -> Vec<u8>) -> ScalarValue {
    let text = args.first().and_then(scalar_str).unwrap_or("");
    ScalarValue::Utf8(Some(base64_encode(&compress(text.as_bytes()))))
}

fn decompress_row(args: &[ScalarValue], decompress: fn(&[u8]) -> Option<Vec<u8>>) -> ScalarValue {
    let text = args
        .first()
        .and_then(scalar_str)
        .and_then(base64_decode)
        .and_then(|bytes| decompress(&bytes))
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .unwrap_or_default();
    ScalarValue::Utf8(Some(text))
}

fn zlib_compress_row(args: &[ScalarValue]) -> DfResult<ScalarValue> {
    Ok(compress_row(args, zlib_compress))
}

fn gzip_compress_row(args: &[ScalarValue]) -> DfResult<ScalarValue> {
    Ok(compress_row(args, gzip_compress))
}

fn zlib_decompress_row(args: &[ScalarValue]) -> DfResult<ScalarValue> {
    Ok(decompress_row(args, zlib_decompress))
}

fn gzip_decompress_row(args: &[ScalarValue]) -> DfResult<ScalarValue> {
    Ok(decompress_row(args, gzip_decompress))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(value: &str) -> [ScalarValue; 1] {
        [ScalarValue::Utf8(Some(value.to_string()))]
    }

    fn string(result: DfResult<ScalarValue>) -> String {
        match result {
            Ok(ScalarValue::Utf8(Some(s))) => s,
            other => panic!("not a string: {other:?}"),
        }
    }

    #[test]
    fn compressed_output_matches_kusto() {
        let cases: &[(RowFn, &str, &str)] = &[
            (
                zlib_compress_row,
                "1234567890qwertyuiop",
                "eAEBFADr/zEyMzQ1Njc4OTBxd2VydHl1aW9wOAkGdw==",
            ),
            (
                gzip_compress_row,
                "1234567890qwertyuiop",
                "H4sIAAAAAAAA/wEUAOv/MTIzNDU2Nzg5MHF3ZXJ0eXVpb3A6m7f2FAAAAA==",
            ),
        ];
        for &(f, input, expected) in cases {
            assert_eq!(string(f(&text(input))), expected);
        }
    }

    #[test]
    fn decompression() {
        let cases: &[(RowFn, &str, &str)] = &[
            (
                zlib_decompress_row,
                "eJwLSS0uUSguKcrMS1cwNDIGACxqBQ4=",
                "Test string 123",
            ),
            (zlib_decompress_row, "x0x0x0", ""),
            (zlib_decompress_row, "not base64 at all!", ""),
            (gzip_decompress_row, "eJwLSS0uUSguKcrMS1cwNDIGACxqBQ4=", ""),
            (
                gzip_decompress_row,
                "H4sIAAAAAAAA/wEUAOv/MTIzNDU2Nzg5MHF3ZXJ0eXVpb3A6m7f2FAAAAA==",
                "1234567890qwertyuiop",
            ),
        ];
        for &(f, input, expected) in cases {
            assert_eq!(string(f(&text(input))), expected, "{input}");
        }
    }

    #[test]
    fn round_trips() {
        let long = "abc".repeat(30_000);
        for input in ["", "x", "héllo wörld", long.as_str()] {
            let z = string(zlib_compress_row(&text(input)));
            assert_eq!(string(zlib_decompress_row(&text(&z))), input);
            let g = string(gzip_compress_row(&text(input)));
            assert_eq!(string(gzip_decompress_row(&text(&g))), input);
        }
        assert_eq!(adler32(b"Wikipedia"), 0x11E6_0398);
    }
}
