//! Test-only storage faults for end-to-end tests (the broker's `sluice.test.fault.storage`):
//! a log opened with faults goes through `sluice_log::fault::FaultyStorage` instead of the
//! plain file system, with each fault armed on the n-th call of its operation. Real disks cannot
//! be made to fail with EIO on demand in a test; ENOSPC is tested on a real small tmpfs instead.

use std::sync::Arc;

use napi_derive::napi;
use sluice_log::fault::{Fault, FaultyStorage, Op};

use crate::error::{ErrorCode, unsigned};

/// One armed fault: `op` ('write' | 'sync' | 'read' | 'allocate'), failing with `errno`
/// ('EIO' | 'ENOSPC') after `skip` calls of that operation went through.
#[napi(object)]
pub struct NativeTestFault {
    pub op: String,
    pub skip: f64,
    pub errno: String,
}

fn invalid(reason: String) -> napi::Error<ErrorCode> {
    crate::error::native_error(sluice_log::Error::InvalidArgument {
        name: "testFaults",
        reason,
    })
}

/// A fault-injecting storage with every fault armed.
pub fn faulty_storage(faults: &[NativeTestFault]) -> napi::Result<Arc<FaultyStorage>, ErrorCode> {
    let storage = Arc::new(FaultyStorage::new());
    for f in faults {
        let op = match f.op.as_str() {
            "write" => Op::Write,
            "sync" => Op::Sync,
            "read" => Op::Read,
            "allocate" => Op::Allocate,
            other => return Err(invalid(format!("unknown operation {other:?}"))),
        };
        let errno = match f.errno.as_str() {
            "EIO" => libc::EIO,
            "ENOSPC" => libc::ENOSPC,
            other => return Err(invalid(format!("unknown errno {other:?}"))),
        };
        let skip = u32::try_from(unsigned("skip", f.skip)?)
            .map_err(|_| invalid(format!("skip {} is too large", f.skip)))?;
        storage.fail_nth(op, skip, Fault::Errno(errno));
    }
    Ok(storage)
}
