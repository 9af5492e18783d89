//! napi-rs binding of `sluice-log`: each export converts its arguments, calls the core and
//! converts the result. No logic lives here; see crates/sluice-log.

mod cleaner;
mod error;
mod file_slice;
mod log;
mod test_faults;
mod writer;
