//! The record-set codecs of RecordBatch v2 (attributes bits 0-2), as Kafka frames them. The log
//! never decompresses on its hot path; only the cleaner (to read keys and rewrite batches) and
//! the compacted-topic key check at append do.
//!
//! ```text
//! 0 none    the records as they are
//! 1 gzip    a gzip stream (RFC 1952); several members are read as one stream
//! 2 snappy  snappy-java's "xerial" framing: 8 magic bytes 82 'S' 'N' 'A' 'P' 'P' 'Y' 00,
//!           version i32 BE, compatible version i32 BE, then blocks of
//!           [compressed length i32 BE][raw snappy block]; a payload without the magic is one
//!           raw snappy block (some clients write that, and snappy-java reads it)
//! 3 lz4     one LZ4 frame (magic 0x184D2204); written with independent 64 KiB blocks and no
//!           checksums, the form Kafka's own writer uses
//! 4 zstd    zstd frames
//! ```
//!
//! Decoders read untrusted bytes and stream their output, so memory stays bounded whatever the
//! payload claims: a snappy block may not decompress to more than `MAX_SNAPPY_BLOCK_BYTES`, LZ4
//! blocks are at most 4 MiB by the frame format, and zstd's window is limited by the library
//! default (128 MiB). Callers bound the records they read on top (see `record.rs`).
//!
//! Concurrency contract: plain values, one per batch being read or written; `Send`.

use std::io::{self, BufReader, Read, Write};

use flate2::Compression as GzipLevel;
use flate2::read::MultiGzDecoder;
use flate2::write::GzEncoder;
use lz4_flex::frame::{BlockMode, BlockSize, FrameDecoder, FrameEncoder, FrameInfo};

use crate::records::batch::COMPRESSION_MASK;

/// A batch's compression codec.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Codec {
    None,
    Gzip,
    Snappy,
    Lz4,
    Zstd,
}

impl Codec {
    /// The codec named by a batch's attributes; `None` for ids Kafka does not define (5-7).
    pub fn from_attributes(attributes: i16) -> Option<Codec> {
        match attributes & COMPRESSION_MASK {
            0 => Some(Codec::None),
            1 => Some(Codec::Gzip),
            2 => Some(Codec::Snappy),
            3 => Some(Codec::Lz4),
            4 => Some(Codec::Zstd),
            _ => None,
        }
    }
}

const XERIAL_MAGIC: [u8; 8] = [0x82, b'S', b'N', b'A', b'P', b'P', b'Y', 0];
const XERIAL_HEADER_BYTES: usize = 16;
/// snappy-java's default block size: input is cut into blocks of this many bytes.
const XERIAL_BLOCK_BYTES: usize = 32 * 1024;
/// The most one snappy block may claim to decompress to. snappy-java writes 32 KiB blocks and a
/// raw-snappy payload is one batch's records, which max.message.bytes bounds far below this.
pub const MAX_SNAPPY_BLOCK_BYTES: usize = 64 << 20;
/// Kafka writes zstd at level 3 (zstd's default).
const ZSTD_LEVEL: i32 = 3;
/// Decoded bytes are pulled through a buffer of this size (records are parsed a byte at a time).
const READ_BUFFER_BYTES: usize = 64 * 1024;

fn invalid(message: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, message.into())
}

/// A buffered reader of the uncompressed record bytes of a batch payload (the bytes after the
/// 61-byte header).
pub fn decoder<'a>(codec: Codec, payload: &'a [u8]) -> io::Result<Box<dyn Read + Send + 'a>> {
    Ok(match codec {
        Codec::None => Box::new(payload),
        Codec::Gzip => Box::new(BufReader::with_capacity(
            READ_BUFFER_BYTES,
            MultiGzDecoder::new(payload),
        )),
        Codec::Snappy => Box::new(SnappyReader::new(payload)?),
        Codec::Lz4 => Box::new(BufReader::with_capacity(
            READ_BUFFER_BYTES,
            FrameDecoder::new(payload),
        )),
        Codec::Zstd => Box::new(BufReader::with_capacity(
            READ_BUFFER_BYTES,
            zstd::stream::read::Decoder::with_buffer(payload)?,
        )),
    })
}

/// Compresses record bytes with a codec into a growing `Vec`; `finish` returns the payload.
pub enum Encoder {
    None(Vec<u8>),
    Gzip(Box<GzEncoder<Vec<u8>>>),
    Snappy(Box<SnappyWriter>),
    Lz4(Box<FrameEncoder<Vec<u8>>>),
    Zstd(Box<zstd::stream::write::Encoder<'static, Vec<u8>>>),
}

impl Encoder {
    pub fn new(codec: Codec) -> io::Result<Encoder> {
        Ok(match codec {
            Codec::None => Encoder::None(Vec::new()),
            // Kafka's gzip output stream uses Deflater's default level (6).
            Codec::Gzip => {
                Encoder::Gzip(Box::new(GzEncoder::new(Vec::new(), GzipLevel::default())))
            }
            Codec::Snappy => Encoder::Snappy(Box::new(SnappyWriter::new())),
            Codec::Lz4 => Encoder::Lz4(Box::new(FrameEncoder::with_frame_info(
                FrameInfo::new()
                    .block_size(BlockSize::Max64KB)
                    .block_mode(BlockMode::Independent)
                    .block_checksums(false)
                    .content_checksum(false),
                Vec::new(),
            ))),
            Codec::Zstd => Encoder::Zstd(Box::new(zstd::stream::write::Encoder::new(
                Vec::new(),
                ZSTD_LEVEL,
            )?)),
        })
    }

    pub fn finish(self) -> io::Result<Vec<u8>> {
        match self {
            Encoder::None(out) => Ok(out),
            Encoder::Gzip(e) => e.finish(),
            Encoder::Snappy(w) => w.finish(),
            Encoder::Lz4(e) => e.finish().map_err(io::Error::other),
            Encoder::Zstd(e) => e.finish(),
        }
    }
}

impl Write for Encoder {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Encoder::None(out) => out.write(buf),
            Encoder::Gzip(e) => e.write(buf),
            Encoder::Snappy(w) => w.write(buf),
            Encoder::Lz4(e) => e.write(buf),
            Encoder::Zstd(e) => e.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Reads xerial-framed (or raw) snappy, one block at a time.
struct SnappyReader<'a> {
    input: &'a [u8],
    /// Next unread byte of `input` (framed) ; `input.len()` once the raw block was taken.
    at: usize,
    framed: bool,
    block: Vec<u8>,
    block_at: usize,
}

impl<'a> SnappyReader<'a> {
    fn new(input: &'a [u8]) -> io::Result<SnappyReader<'a>> {
        let framed = input.len() >= XERIAL_HEADER_BYTES && input[..8] == XERIAL_MAGIC;
        Ok(SnappyReader {
            input,
            at: if framed { XERIAL_HEADER_BYTES } else { 0 },
            framed,
            block: Vec::new(),
            block_at: 0,
        })
    }

    /// Decompresses the next block into `self.block`; false at the end of the input.
    fn next_block(&mut self) -> io::Result<bool> {
        if self.at >= self.input.len() {
            return Ok(false);
        }
        let compressed = if self.framed {
            let rest = &self.input[self.at..];
            if rest.len() < 4 {
                return Err(invalid("xerial snappy: truncated block length"));
            }
            let len = i32::from_be_bytes(rest[..4].try_into().expect("4 bytes"));
            let len = usize::try_from(len)
                .map_err(|_| invalid(format!("xerial snappy: negative block length {len}")))?;
            if len > rest.len() - 4 {
                return Err(invalid(format!(
                    "xerial snappy: block of {len} bytes, {} remain",
                    rest.len() - 4
                )));
            }
            self.at += 4 + len;
            &rest[4..4 + len]
        } else {
            self.at = self.input.len();
            self.input
        };
        let size = snap::raw::decompress_len(compressed).map_err(|e| invalid(e.to_string()))?;
        if size > MAX_SNAPPY_BLOCK_BYTES {
            return Err(invalid(format!(
                "snappy block claims {size} bytes, more than {MAX_SNAPPY_BLOCK_BYTES}"
            )));
        }
        self.block.resize(size, 0);
        let n = snap::raw::Decoder::new()
            .decompress(compressed, &mut self.block)
            .map_err(|e| invalid(e.to_string()))?;
        self.block.truncate(n);
        self.block_at = 0;
        Ok(true)
    }
}

impl Read for SnappyReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.block_at == self.block.len() {
            if !self.next_block()? {
                return Ok(0);
            }
        }
        let n = buf.len().min(self.block.len() - self.block_at);
        buf[..n].copy_from_slice(&self.block[self.block_at..self.block_at + n]);
        self.block_at += n;
        Ok(n)
    }
}

/// Writes xerial-framed snappy, as snappy-java's output stream does (version 1, compatible 1,
/// 32 KiB blocks).
pub struct SnappyWriter {
    out: Vec<u8>,
    pending: Vec<u8>,
    encoder: snap::raw::Encoder,
}

impl SnappyWriter {
    fn new() -> SnappyWriter {
        let mut out = Vec::with_capacity(XERIAL_HEADER_BYTES);
        out.extend_from_slice(&XERIAL_MAGIC);
        out.extend_from_slice(&1i32.to_be_bytes());
        out.extend_from_slice(&1i32.to_be_bytes());
        SnappyWriter {
            out,
            pending: Vec::with_capacity(XERIAL_BLOCK_BYTES),
            encoder: snap::raw::Encoder::new(),
        }
    }

    fn flush_block(&mut self) -> io::Result<()> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let block = self
            .encoder
            .compress_vec(&self.pending)
            .map_err(io::Error::other)?;
        let len = i32::try_from(block.len()).expect("a 32 KiB block compresses below 2 GiB");
        self.out.extend_from_slice(&len.to_be_bytes());
        self.out.extend_from_slice(&block);
        self.pending.clear();
        Ok(())
    }

    fn finish(mut self) -> io::Result<Vec<u8>> {
        self.flush_block()?;
        Ok(self.out)
    }
}

impl Write for SnappyWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = buf.len().min(XERIAL_BLOCK_BYTES - self.pending.len());
        self.pending.extend_from_slice(&buf[..n]);
        if self.pending.len() == XERIAL_BLOCK_BYTES {
            self.flush_block()?;
        }
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: [Codec; 5] = [
        Codec::None,
        Codec::Gzip,
        Codec::Snappy,
        Codec::Lz4,
        Codec::Zstd,
    ];

    fn sample(len: usize) -> Vec<u8> {
        (0..len)
            .map(|i| (i * 7 % 251) as u8 ^ (i / 1000) as u8)
            .collect()
    }

    fn round_trip(codec: Codec, data: &[u8]) -> Vec<u8> {
        let mut encoder = Encoder::new(codec).unwrap();
        encoder.write_all(data).unwrap();
        let payload = encoder.finish().unwrap();
        let mut out = Vec::new();
        decoder(codec, &payload)
            .unwrap()
            .read_to_end(&mut out)
            .unwrap();
        out
    }

    #[test]
    fn every_codec_round_trips_small_and_multi_block_inputs() {
        for codec in ALL {
            for len in [0, 1, 100, 70_000, 300_000] {
                let data = sample(len);
                assert_eq!(round_trip(codec, &data), data, "{codec:?} {len}");
            }
        }
    }

    #[test]
    fn codec_ids_follow_kafka() {
        assert_eq!(Codec::from_attributes(0x08 | 2), Some(Codec::Snappy));
        assert_eq!(Codec::from_attributes(4), Some(Codec::Zstd));
        assert_eq!(Codec::from_attributes(5), None);
    }

    #[test]
    fn snappy_is_xerial_framed_and_raw_snappy_is_read_too() {
        let data = sample(100_000);
        let mut w = Encoder::new(Codec::Snappy).unwrap();
        w.write_all(&data).unwrap();
        let framed = w.finish().unwrap();
        assert_eq!(framed[..8], XERIAL_MAGIC);
        assert_eq!(framed[8..16], [0, 0, 0, 1, 0, 0, 0, 1]);
        let raw = snap::raw::Encoder::new().compress_vec(&data).unwrap();
        let mut out = Vec::new();
        decoder(Codec::Snappy, &raw)
            .unwrap()
            .read_to_end(&mut out)
            .unwrap();
        assert_eq!(out, data);
    }

    #[test]
    fn lz4_frames_use_independent_64k_blocks_without_checksums() {
        let mut w = Encoder::new(Codec::Lz4).unwrap();
        w.write_all(&sample(1000)).unwrap();
        let frame = w.finish().unwrap();
        assert_eq!(frame[..4], [0x04, 0x22, 0x4d, 0x18], "LZ4 frame magic");
        let flg = frame[4];
        assert_eq!(flg >> 6, 1, "version 01");
        assert_ne!(flg & 0x20, 0, "block independence");
        assert_eq!(flg & 0x10, 0, "no block checksums");
        assert_eq!(flg & 0x04, 0, "no content checksum");
        assert_eq!((frame[5] >> 4) & 0x07, 4, "64 KiB blocks");
    }

    #[test]
    fn corrupt_payloads_are_errors_not_panics() {
        for codec in [Codec::Gzip, Codec::Snappy, Codec::Lz4, Codec::Zstd] {
            let mut encoder = Encoder::new(codec).unwrap();
            encoder.write_all(&sample(50_000)).unwrap();
            let mut payload = encoder.finish().unwrap();
            let mid = payload.len() / 2;
            payload.truncate(mid);
            for b in payload.iter_mut().skip(20).step_by(7) {
                *b ^= 0x5a;
            }
            let mut out = Vec::new();
            let result = decoder(codec, &payload).and_then(|mut d| d.read_to_end(&mut out));
            assert!(result.is_err(), "{codec:?} accepted a damaged payload");
        }
    }

    #[test]
    fn a_snappy_block_claiming_a_huge_size_is_refused() {
        // A raw snappy block whose length preamble says 1 GiB.
        let mut bomb = Vec::new();
        let mut n: u64 = 1 << 30;
        while n >= 0x80 {
            bomb.push((n as u8) | 0x80);
            n >>= 7;
        }
        bomb.push(n as u8);
        bomb.extend_from_slice(&[0; 8]);
        let mut out = Vec::new();
        let err = decoder(Codec::Snappy, &bomb)
            .unwrap()
            .read_to_end(&mut out)
            .unwrap_err();
        assert!(err.to_string().contains("claims"), "{err}");
    }
}
