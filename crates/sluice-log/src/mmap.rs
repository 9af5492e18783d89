//! A shared file mapping (`mmap(MAP_SHARED)`), the one place this crate uses `unsafe` for memory.
//!
//! Concurrency contract: a `Mapping` is owned by one segment or index and accessed only by its
//! owner (the partition's single appender thread); it is `Send` so the owner can move between
//! threads, but never shared. Safety rests on one rule the owners keep: never touch a byte of
//! the mapping that lies past the end of the file (that is SIGBUS). Writers extend the file
//! (fallocate / set_len) before writing into the new range, and shrink it only after unmapping
//! or below the bytes they will still read. Another process rewriting our files under us is
//! outside the model, as it is for every database.

use std::fs::File;
use std::io;
use std::os::fd::AsRawFd;
use std::ptr::NonNull;

pub struct Mapping {
    ptr: NonNull<u8>,
    len: usize,
    writable: bool,
}

// SAFETY: the mapping is plain memory owned by this value; moving it to another thread moves
// ownership with it. It is not `Sync`: only the owner reads or writes it.
unsafe impl Send for Mapping {}

impl Mapping {
    /// Maps `len` bytes of `file` from offset 0. `len` may exceed the file's current size (the
    /// owner extends the file before touching those bytes). `len` must be > 0.
    pub fn map(file: &File, len: usize, writable: bool) -> io::Result<Mapping> {
        assert!(len > 0, "cannot map zero bytes");
        let prot = if writable {
            libc::PROT_READ | libc::PROT_WRITE
        } else {
            libc::PROT_READ
        };
        // SAFETY: a fresh shared mapping of a valid fd; the kernel picks the address.
        let ptr = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                prot,
                libc::MAP_SHARED,
                file.as_raw_fd(),
                0,
            )
        };
        if ptr == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        let ptr = NonNull::new(ptr.cast::<u8>()).expect("mmap returned null without MAP_FAILED");
        Ok(Mapping { ptr, len, writable })
    }

    pub fn len(&self) -> usize {
        self.len
    }

    /// The bytes `[at, at + n)`. The caller guarantees they lie inside the file (see module doc).
    pub fn slice(&self, at: usize, n: usize) -> &[u8] {
        assert!(
            at.checked_add(n).is_some_and(|end| end <= self.len),
            "read past the mapping"
        );
        // SAFETY: in bounds of the mapping (checked above) and inside the file (owner's rule).
        unsafe { std::slice::from_raw_parts(self.ptr.as_ptr().add(at), n) }
    }

    /// Mutable bytes `[at, at + n)`. The caller guarantees they lie inside the file.
    pub fn slice_mut(&mut self, at: usize, n: usize) -> &mut [u8] {
        assert!(self.writable, "write to a read-only mapping");
        assert!(
            at.checked_add(n).is_some_and(|end| end <= self.len),
            "write past the mapping"
        );
        // SAFETY: in bounds, inside the file, and `&mut self` makes the borrow exclusive.
        unsafe { std::slice::from_raw_parts_mut(self.ptr.as_ptr().add(at), n) }
    }
}

impl Drop for Mapping {
    fn drop(&mut self) {
        // SAFETY: unmapping exactly what `map` mapped; no borrow outlives `&self`.
        let rc = unsafe { libc::munmap(self.ptr.as_ptr().cast(), self.len) };
        assert_eq!(rc, 0, "munmap failed: {}", io::Error::last_os_error());
    }
}

impl std::fmt::Debug for Mapping {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mapping")
            .field("len", &self.len)
            .field("writable", &self.writable)
            .finish()
    }
}
