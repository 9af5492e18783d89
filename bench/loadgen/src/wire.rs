//! Kafka's classic (non-flexible) primitive encoding: big-endian integers, int16-length strings,
//! int32-length bytes and arrays, and the zig-zag varints used inside RecordBatch v2 records.
//! The load generator only speaks classic request versions, so compact types are not needed.

use thiserror::Error;

#[derive(Debug, Error, PartialEq, Eq)]
pub enum WireError {
    #[error("truncated: needed {needed} bytes at offset {at}, {available} available")]
    Truncated {
        at: usize,
        needed: usize,
        available: usize,
    },
    #[error("invalid {what} at offset {at}: {value}")]
    Invalid {
        what: &'static str,
        at: usize,
        value: i64,
    },
}

/// Appends classic-encoded values to a byte vector.
#[derive(Default)]
pub struct Encoder {
    buf: Vec<u8>,
}

impl Encoder {
    pub fn new() -> Self {
        Self { buf: Vec::new() }
    }

    pub fn with_capacity(capacity: usize) -> Self {
        Self {
            buf: Vec::with_capacity(capacity),
        }
    }

    pub fn len(&self) -> usize {
        self.buf.len()
    }

    pub fn into_bytes(self) -> Vec<u8> {
        self.buf
    }

    pub fn i8(&mut self, v: i8) -> &mut Self {
        self.buf.push(v as u8);
        self
    }

    pub fn bool(&mut self, v: bool) -> &mut Self {
        self.i8(v as i8)
    }

    pub fn i16(&mut self, v: i16) -> &mut Self {
        self.buf.extend_from_slice(&v.to_be_bytes());
        self
    }

    pub fn i32(&mut self, v: i32) -> &mut Self {
        self.buf.extend_from_slice(&v.to_be_bytes());
        self
    }

    pub fn i64(&mut self, v: i64) -> &mut Self {
        self.buf.extend_from_slice(&v.to_be_bytes());
        self
    }

    pub fn raw(&mut self, bytes: &[u8]) -> &mut Self {
        self.buf.extend_from_slice(bytes);
        self
    }

    /// STRING: int16 length then UTF-8 bytes.
    pub fn string(&mut self, s: &str) -> &mut Self {
        let len = i16::try_from(s.len()).expect("string longer than 32767 bytes");
        self.i16(len).raw(s.as_bytes())
    }

    /// NULLABLE_STRING: length -1 stands for null.
    pub fn nullable_string(&mut self, s: Option<&str>) -> &mut Self {
        match s {
            Some(s) => self.string(s),
            None => self.i16(-1),
        }
    }

    /// BYTES / RECORDS: int32 length then the bytes.
    pub fn bytes(&mut self, b: &[u8]) -> &mut Self {
        let len = i32::try_from(b.len()).expect("byte field longer than 2 GiB");
        self.i32(len).raw(b)
    }

    /// ARRAY: int32 element count; the caller encodes the elements.
    pub fn array_len(&mut self, n: usize) -> &mut Self {
        self.i32(i32::try_from(n).expect("array longer than i32::MAX"))
    }

    /// VARINT (zig-zag, as in RecordBatch v2 records).
    pub fn varint(&mut self, v: i32) -> &mut Self {
        self.unsigned_varint(((v << 1) ^ (v >> 31)) as u32 as u64)
    }

    /// VARLONG (zig-zag).
    pub fn varlong(&mut self, v: i64) -> &mut Self {
        self.unsigned_varint(((v << 1) ^ (v >> 63)) as u64)
    }

    fn unsigned_varint(&mut self, mut v: u64) -> &mut Self {
        while v >= 0x80 {
            self.buf.push((v as u8 & 0x7f) | 0x80);
            v >>= 7;
        }
        self.buf.push(v as u8);
        self
    }
}

/// Encoded size of a zig-zag varint, for sizing records before writing them.
pub fn varint_len(v: i64) -> usize {
    let mut z = ((v << 1) ^ (v >> 63)) as u64;
    let mut n = 1;
    while z >= 0x80 {
        z >>= 7;
        n += 1;
    }
    n
}

/// Reads classic-encoded values from a byte slice; every read is bounds-checked.
pub struct Decoder<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Decoder<'a> {
    pub fn new(buf: &'a [u8]) -> Self {
        Self { buf, pos: 0 }
    }

    #[cfg(test)]
    pub fn position(&self) -> usize {
        self.pos
    }

    pub fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    pub fn take(&mut self, n: usize) -> Result<&'a [u8], WireError> {
        if self.remaining() < n {
            return Err(WireError::Truncated {
                at: self.pos,
                needed: n,
                available: self.remaining(),
            });
        }
        let out = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(out)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], WireError> {
        Ok(self.take(N)?.try_into().expect("take returned N bytes"))
    }

    pub fn i8(&mut self) -> Result<i8, WireError> {
        Ok(self.array::<1>()?[0] as i8)
    }

    pub fn bool(&mut self) -> Result<bool, WireError> {
        Ok(self.i8()? != 0)
    }

    pub fn i16(&mut self) -> Result<i16, WireError> {
        Ok(i16::from_be_bytes(self.array()?))
    }

    pub fn i32(&mut self) -> Result<i32, WireError> {
        Ok(i32::from_be_bytes(self.array()?))
    }

    pub fn i64(&mut self) -> Result<i64, WireError> {
        Ok(i64::from_be_bytes(self.array()?))
    }

    pub fn nullable_string(&mut self) -> Result<Option<String>, WireError> {
        let at = self.pos;
        let len = self.i16()?;
        if len == -1 {
            return Ok(None);
        }
        if len < 0 {
            return Err(WireError::Invalid {
                what: "string length",
                at,
                value: len as i64,
            });
        }
        let bytes = self.take(len as usize)?;
        Ok(Some(String::from_utf8_lossy(bytes).into_owned()))
    }

    pub fn string(&mut self) -> Result<String, WireError> {
        let at = self.pos;
        self.nullable_string()?.ok_or(WireError::Invalid {
            what: "non-null string",
            at,
            value: -1,
        })
    }

    /// NULLABLE_BYTES; null reads as None.
    #[cfg(test)]
    pub fn nullable_bytes(&mut self) -> Result<Option<&'a [u8]>, WireError> {
        let at = self.pos;
        let len = self.i32()?;
        if len == -1 {
            return Ok(None);
        }
        if len < 0 {
            return Err(WireError::Invalid {
                what: "bytes length",
                at,
                value: len as i64,
            });
        }
        Ok(Some(self.take(len as usize)?))
    }

    /// ARRAY length; a null array (-1) reads as 0 elements.
    pub fn array_len(&mut self) -> Result<usize, WireError> {
        let at = self.pos;
        let n = self.i32()?;
        if n == -1 {
            return Ok(0);
        }
        if n < 0 {
            return Err(WireError::Invalid {
                what: "array length",
                at,
                value: n as i64,
            });
        }
        // Every element takes at least one byte: a longer count is a corrupt frame, and
        // refusing it here keeps a bad count from driving a huge allocation.
        if n as usize > self.remaining() {
            return Err(WireError::Invalid {
                what: "array length",
                at,
                value: n as i64,
            });
        }
        Ok(n as usize)
    }

    pub fn varint(&mut self) -> Result<i32, WireError> {
        let at = self.pos;
        let z = self.unsigned_varint(5)?;
        let z = u32::try_from(z).map_err(|_| WireError::Invalid {
            what: "varint",
            at,
            value: z as i64,
        })?;
        Ok(((z >> 1) as i32) ^ -((z & 1) as i32))
    }

    pub fn varlong(&mut self) -> Result<i64, WireError> {
        let z = self.unsigned_varint(10)?;
        Ok(((z >> 1) as i64) ^ -((z & 1) as i64))
    }

    fn unsigned_varint(&mut self, max_bytes: usize) -> Result<u64, WireError> {
        let at = self.pos;
        let mut value = 0u64;
        for i in 0..max_bytes {
            let b = self.array::<1>()?[0];
            value |= ((b & 0x7f) as u64) << (7 * i);
            if b & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(WireError::Invalid {
            what: "varint longer than its type",
            at,
            value: value as i64,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_are_big_endian() {
        let mut e = Encoder::new();
        e.i16(0x0102).i32(0x03040506).i64(-2);
        assert_eq!(
            e.into_bytes(),
            [
                1, 2, 3, 4, 5, 6, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe
            ]
        );
    }

    #[test]
    fn strings_and_nulls_round_trip() {
        let mut e = Encoder::new();
        e.string("ab").nullable_string(None).bytes(&[9, 8]).i32(-1);
        let bytes = e.into_bytes();
        assert_eq!(&bytes[..4], &[0, 2, b'a', b'b']);
        let mut d = Decoder::new(&bytes);
        assert_eq!(d.string().unwrap(), "ab");
        assert_eq!(d.nullable_string().unwrap(), None);
        assert_eq!(d.nullable_bytes().unwrap(), Some(&[9u8, 8][..]));
        assert_eq!(d.nullable_bytes().unwrap(), None);
        assert_eq!(d.remaining(), 0);
    }

    #[test]
    fn zigzag_varints_match_kafka_examples() {
        // Values and encodings from the zig-zag table in the protobuf/Kafka docs.
        for (v, enc) in [
            (0i64, vec![0u8]),
            (-1, vec![1]),
            (1, vec![2]),
            (-64, vec![0x7f]),
            (64, vec![0x80, 0x01]),
            (300, vec![0xd8, 0x04]),
        ] {
            let mut e = Encoder::new();
            e.varlong(v);
            assert_eq!(e.into_bytes(), enc, "varlong {v}");
            assert_eq!(varint_len(v), enc.len(), "varint_len {v}");
            let mut e = Encoder::new();
            e.varint(v as i32);
            let bytes = e.into_bytes();
            assert_eq!(bytes, enc, "varint {v}");
            assert_eq!(Decoder::new(&bytes).varint().unwrap(), v as i32);
            assert_eq!(Decoder::new(&bytes).varlong().unwrap(), v);
        }
        let mut e = Encoder::new();
        e.varint(i32::MIN).varlong(i64::MAX);
        let bytes = e.into_bytes();
        let mut d = Decoder::new(&bytes);
        assert_eq!(d.varint().unwrap(), i32::MIN);
        assert_eq!(d.varlong().unwrap(), i64::MAX);
    }

    #[test]
    fn truncation_and_bad_lengths_are_errors() {
        assert!(matches!(
            Decoder::new(&[0, 0, 0]).i32(),
            Err(WireError::Truncated {
                needed: 4,
                available: 3,
                ..
            })
        ));
        assert!(matches!(
            Decoder::new(&[0xff, 0xfe]).nullable_string(),
            Err(WireError::Invalid { .. })
        ));
        // A count of 1000 elements in a 4-byte frame cannot be real.
        assert!(matches!(
            Decoder::new(&[0, 0, 3, 0xe8]).array_len(),
            Err(WireError::Invalid { .. })
        ));
        assert!(matches!(
            Decoder::new(&[0x80; 6]).varint(),
            Err(WireError::Invalid { .. })
        ));
    }
}
