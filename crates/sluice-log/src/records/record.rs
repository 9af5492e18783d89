//! Records inside a RecordBatch v2, read one at a time from the batch's (decompressed) record
//! bytes, and written back with a new timestamp delta.
//!
//! Record format, set in stone by Kafka (varints are zigzag, as in `batch.rs`):
//!
//! ```text
//! length          varint   bytes of the record after this field
//! attributes      int8     unused, 0
//! timestampDelta  varlong  from the batch's baseTimestamp
//! offsetDelta     varint   from the batch's baseOffset
//! keyLength       varint   -1: null key
//! key             bytes
//! valueLength     varint   -1: null value (a tombstone)
//! value           bytes
//! headersCount    varint
//! headers         per header: keyLength varint (>= 0), key, valueLength varint (-1: null), value
//! ```
//!
//! Bounds: a record body larger than `MAX_RECORD_BYTES` is an error (the reader holds one record
//! at a time in a reused buffer), and a batch yields at most its header's record count.
//!
//! Concurrency contract: plain values owned by whoever reads or writes one batch.

use std::io::{self, Read, Write};

use crate::records::batch::{BatchHeader, HEADER_SIZE, read_varint, read_varlong};
use crate::records::codec::{self, Codec};

/// The largest record body the reader holds in memory (Kafka bounds records by
/// max.message.bytes; this bound is for compressed batches, whose records nothing else bounds).
pub const MAX_RECORD_BYTES: usize = 64 << 20;

/// One record, borrowed from the reader's buffer.
#[derive(Clone, Copy, Debug)]
pub struct Record<'a> {
    /// The bytes after the length varint.
    pub body: &'a [u8],
    pub timestamp_delta: i64,
    pub offset_delta: i32,
    /// `None`: a null key.
    pub key: Option<&'a [u8]>,
    /// `None`: a null value.
    pub value: Option<&'a [u8]>,
    /// A null value: a tombstone.
    pub is_tombstone: bool,
    /// Where keyLength starts in `body`: everything from here on is copied as is when the record
    /// is written with a new timestamp delta.
    key_at: usize,
}

impl Record<'_> {
    /// The record's timestamp as a consumer sees it (Kafka's DefaultRecordBatch: under
    /// LogAppendTime every record carries the batch's maxTimestamp).
    pub fn timestamp(&self, header: &BatchHeader) -> i64 {
        if header.is_log_append_time() {
            header.max_timestamp
        } else {
            header.base_timestamp.wrapping_add(self.timestamp_delta)
        }
    }

    /// Writes the record (length prefix included) with `timestamp_delta` replaced.
    pub fn write_with_timestamp_delta(
        &self,
        out: &mut impl Write,
        timestamp_delta: i64,
    ) -> io::Result<()> {
        let mut head = [0u8; 1 + 10 + 5];
        head[0] = self.body[0];
        let mut n = 1;
        n += put_varlong(&mut head[n..], timestamp_delta);
        n += put_varlong(&mut head[n..], self.offset_delta as i64);
        let tail = &self.body[self.key_at..];
        let length = (n + tail.len()) as i64;
        let mut prefix = [0u8; 10];
        let p = put_varlong(&mut prefix, length);
        out.write_all(&prefix[..p])?;
        out.write_all(&head[..n])?;
        out.write_all(tail)
    }
}

/// Reads the records of one batch from its record bytes (after decompression).
pub struct RecordReader<R: Read> {
    source: R,
    left: i32,
    buf: Vec<u8>,
}

impl<R: Read> RecordReader<R> {
    pub fn new(source: R, count: i32) -> RecordReader<R> {
        RecordReader {
            source,
            left: count.max(0),
            buf: Vec::new(),
        }
    }

    /// The next record, or `None` after the header's record count. Bytes that do not parse, a
    /// stream that ends early or a record over `MAX_RECORD_BYTES` are errors.
    pub fn next_record(&mut self) -> Result<Option<Record<'_>>, String> {
        if self.left == 0 {
            return Ok(None);
        }
        self.left -= 1;
        let length = read_stream_varint(&mut self.source)?;
        let length =
            usize::try_from(length).map_err(|_| format!("record length {length} is negative"))?;
        if length > MAX_RECORD_BYTES {
            return Err(format!(
                "a record of {length} bytes, more than the cleaner reads ({MAX_RECORD_BYTES})"
            ));
        }
        self.buf.resize(length, 0);
        self.source
            .read_exact(&mut self.buf)
            .map_err(|e| format!("records end early: {e}"))?;
        parse_body(&self.buf).map(Some)
    }
}

/// A reader over a whole stored batch's records (decompressing as needed); an error when the
/// codec id is not one Kafka defines.
pub fn batch_records<'a>(
    batch: &'a [u8],
    header: &BatchHeader,
) -> Result<RecordReader<Box<dyn Read + Send + 'a>>, String> {
    let codec = Codec::from_attributes(header.attributes)
        .ok_or_else(|| format!("unknown compression codec id {}", header.compression()))?;
    let source = codec::decoder(codec, &batch[HEADER_SIZE..]).map_err(|e| e.to_string())?;
    Ok(RecordReader::new(source, header.records_count))
}

/// Kafka's LogValidator rule for compacted topics: every record of a (non-control) batch must
/// have a key. `batch` is one whole, CRC-checked batch.
pub fn check_keys_present(batch: &[u8], header: &BatchHeader) -> Result<(), String> {
    if header.is_control() {
        return Ok(());
    }
    let mut records = batch_records(batch, header)?;
    while let Some(record) = records.next_record()? {
        if record.key.is_none() {
            return Err(format!(
                "compacted topic cannot accept a record without a key (offset delta {})",
                record.offset_delta
            ));
        }
    }
    Ok(())
}

fn parse_body(body: &[u8]) -> Result<Record<'_>, String> {
    let bad = |what: &str| format!("record {what} does not parse");
    if body.is_empty() {
        return Err(bad("attributes"));
    }
    let mut at = 1;
    let (timestamp_delta, n) = read_varlong(body, at).ok_or_else(|| bad("timestampDelta"))?;
    at += n;
    let (offset_delta, n) = read_varint(body, at).ok_or_else(|| bad("offsetDelta"))?;
    at += n;
    let key_at = at;
    let (key, next) = nullable_bytes(body, at).ok_or_else(|| bad("key"))?;
    at = next;
    let (value, next) = nullable_bytes(body, at).ok_or_else(|| bad("value"))?;
    at = next;
    let (headers, n) = read_varint(body, at).ok_or_else(|| bad("headersCount"))?;
    at += n;
    if headers < 0 {
        return Err(format!("record headers count {headers} is negative"));
    }
    for _ in 0..headers {
        let (name, next) = nullable_bytes(body, at).ok_or_else(|| bad("header key"))?;
        if name.is_none() {
            return Err("record header with a null key".into());
        }
        let (_, next) = nullable_bytes(body, next).ok_or_else(|| bad("header value"))?;
        at = next;
    }
    if at != body.len() {
        return Err(format!(
            "record length says {} bytes, its fields take {at}",
            body.len()
        ));
    }
    Ok(Record {
        body,
        timestamp_delta,
        offset_delta,
        key,
        value,
        is_tombstone: value.is_none(),
        key_at,
    })
}

/// (bytes or None for length -1, position after them).
fn nullable_bytes(body: &[u8], at: usize) -> Option<(Option<&[u8]>, usize)> {
    let (len, n) = read_varint(body, at)?;
    let start = at + n;
    if len == -1 {
        return Some((None, start));
    }
    let len = usize::try_from(len).ok()?;
    let end = start.checked_add(len)?;
    (end <= body.len()).then(|| (Some(&body[start..end]), end))
}

/// A zigzag varint read a byte at a time from a stream.
fn read_stream_varint(source: &mut impl Read) -> Result<i32, String> {
    let mut raw: u64 = 0;
    for i in 0..5 {
        let mut byte = [0u8; 1];
        source
            .read_exact(&mut byte)
            .map_err(|e| format!("records end early: {e}"))?;
        raw |= ((byte[0] & 0x7f) as u64) << (7 * i);
        if byte[0] & 0x80 == 0 {
            let value = ((raw >> 1) as i64) ^ -((raw & 1) as i64);
            return i32::try_from(value).map_err(|_| "record length does not fit an int".into());
        }
    }
    Err("record length varint runs over 5 bytes".into())
}

/// Writes `value` as a zigzag varlong into `out`; returns the bytes written (at most 10).
pub fn put_varlong(out: &mut [u8], value: i64) -> usize {
    let mut v = ((value << 1) ^ (value >> 63)) as u64;
    let mut n = 0;
    while v >= 0x80 {
        out[n] = (v as u8) | 0x80;
        v >>= 7;
        n += 1;
    }
    out[n] = v as u8;
    n + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A record body (no length prefix) with the given fields.
    fn body(
        ts: i64,
        od: i32,
        key: Option<&[u8]>,
        value: Option<&[u8]>,
        headers: &[(&[u8], Option<&[u8]>)],
    ) -> Vec<u8> {
        let mut b = vec![0u8];
        let mut tmp = [0u8; 10];
        let mut put = |b: &mut Vec<u8>, v: i64| {
            let n = put_varlong(&mut tmp, v);
            b.extend_from_slice(&tmp[..n]);
        };
        put(&mut b, ts);
        put(&mut b, od as i64);
        for field in [key, value] {
            match field {
                None => put(&mut b, -1),
                Some(f) => {
                    put(&mut b, f.len() as i64);
                    b.extend_from_slice(f);
                }
            }
        }
        put(&mut b, headers.len() as i64);
        for (k, v) in headers {
            put(&mut b, k.len() as i64);
            b.extend_from_slice(k);
            match v {
                None => put(&mut b, -1),
                Some(v) => {
                    put(&mut b, v.len() as i64);
                    b.extend_from_slice(v);
                }
            }
        }
        b
    }

    fn framed(bodies: &[Vec<u8>]) -> Vec<u8> {
        let mut out = Vec::new();
        let mut tmp = [0u8; 10];
        for b in bodies {
            let n = put_varlong(&mut tmp, b.len() as i64);
            out.extend_from_slice(&tmp[..n]);
            out.extend_from_slice(b);
        }
        out
    }

    #[test]
    fn records_parse_with_keys_tombstones_and_headers() {
        let bytes = framed(&[
            body(0, 0, Some(b"k1"), Some(b"v"), &[(b"h", Some(b"x"))]),
            body(5, 1, Some(b"k2"), None, &[]),
            body(-3, 2, None, Some(b""), &[(b"n", None)]),
        ]);
        let mut reader = RecordReader::new(&bytes[..], 3);
        let r = reader.next_record().unwrap().unwrap();
        assert_eq!(
            (r.key, r.is_tombstone, r.offset_delta),
            (Some(&b"k1"[..]), false, 0)
        );
        let r = reader.next_record().unwrap().unwrap();
        assert_eq!(
            (r.key, r.is_tombstone, r.timestamp_delta),
            (Some(&b"k2"[..]), true, 5)
        );
        let r = reader.next_record().unwrap().unwrap();
        assert_eq!(
            (r.key, r.is_tombstone, r.timestamp_delta),
            (None, false, -3)
        );
        assert!(reader.next_record().unwrap().is_none());
    }

    #[test]
    fn rewriting_the_timestamp_delta_keeps_every_other_byte() {
        let original = body(7, 3, Some(b"key"), Some(b"value"), &[(b"h", Some(b"v"))]);
        let bytes = framed(std::slice::from_ref(&original));
        let mut reader = RecordReader::new(&bytes[..], 1);
        let record = reader.next_record().unwrap().unwrap();
        let mut out = Vec::new();
        record
            .write_with_timestamp_delta(&mut out, -1_000_000)
            .unwrap();
        let expected = framed(&[body(
            -1_000_000,
            3,
            Some(b"key"),
            Some(b"value"),
            &[(b"h", Some(b"v"))],
        )]);
        assert_eq!(out, expected);
        let mut again = Vec::new();
        record.write_with_timestamp_delta(&mut again, 7).unwrap();
        assert_eq!(again, bytes);
    }

    #[test]
    fn malformed_records_are_errors() {
        let good = body(0, 0, Some(b"k"), Some(b"v"), &[]);
        // Length says one byte more than the fields take.
        let mut long = good.clone();
        long.push(0);
        assert!(
            RecordReader::new(&framed(&[long])[..], 1)
                .next_record()
                .is_err()
        );
        // Stream ends inside the record.
        let bytes = framed(std::slice::from_ref(&good));
        assert!(
            RecordReader::new(&bytes[..bytes.len() - 1], 1)
                .next_record()
                .is_err()
        );
        // Count claims more records than there are.
        let mut reader = RecordReader::new(&bytes[..], 2);
        reader.next_record().unwrap();
        assert!(reader.next_record().is_err());
        // A key length running past the record.
        let mut bad = body(0, 0, Some(b"kkkk"), Some(b"v"), &[]);
        bad[3] = 0x7e;
        assert!(
            RecordReader::new(&framed(&[bad])[..], 1)
                .next_record()
                .is_err()
        );
    }

    #[test]
    fn oversized_records_are_refused_before_allocation() {
        let mut bytes = [0u8; 10];
        let n = put_varlong(&mut bytes, (MAX_RECORD_BYTES + 1) as i64);
        let err = RecordReader::new(&bytes[..n], 1).next_record().unwrap_err();
        assert!(err.contains("more than"), "{err}");
    }
}
