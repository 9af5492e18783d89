//! `NativeFileSlice`: a segment file range handed from `NativePartitionLog::read` to
//! `NativeConnectionWriter::send`. JavaScript never sees the bytes, only the length; the
//! protocol encoder treats it as an external record set (`byteLength`).

use napi_derive::napi;
use sluice_log::FileRange;

#[napi]
pub struct NativeFileSlice {
    pub(crate) range: FileRange,
}

#[napi]
impl NativeFileSlice {
    /// Bytes this slice will put on the wire.
    #[napi(getter)]
    pub fn byte_length(&self) -> f64 {
        self.range.len() as f64
    }
}

impl NativeFileSlice {
    pub(crate) fn new(range: FileRange) -> Self {
        NativeFileSlice { range }
    }
}
