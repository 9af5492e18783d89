//! napi-rs binding of `sluice-log`: each export converts its arguments, calls the core and
//! converts the result. No logic lives here; see crates/sluice-log.

// napi-derive registers the exports from a module constructor it leaves out of `cfg(test)`
// builds, so in the lib's test target (which `cargo clippy --all-targets` checks) every export
// looks unused. The binding is tested from vitest in packages/native, never by cargo.
#![cfg_attr(test, allow(dead_code))]

mod cleaner;
mod error;
mod file_slice;
mod log;
mod test_faults;
mod transactions;
mod writer;
