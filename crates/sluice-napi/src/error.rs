//! Errors across the boundary: every `sluice_log::Error` becomes a JS `Error` whose `code` is the
//! variant's stable code string (`err.code === 'OFFSET_OUT_OF_RANGE'`) and whose message is the
//! Rust `Display`.

use napi::bindgen_prelude::{Env, JsError};
use napi_derive::napi;

/// The JS `err.code` of a thrown error; napi-rs uses the status string as the code.
pub struct ErrorCode(&'static str);

impl AsRef<str> for ErrorCode {
    fn as_ref(&self) -> &str {
        self.0
    }
}

/// For helpers. `#[napi]` functions must spell `napi::Result<T, ErrorCode>`: the macro
/// recognizes a fallible return by the name `Result`.
pub type NativeResult<T> = napi::Result<T, ErrorCode>;

/// For `.map_err(native_error)` on sluice-log results.
pub fn native_error(error: sluice_log::Error) -> napi::Error<ErrorCode> {
    napi::Error::new(ErrorCode(error.code()), error.to_string())
}

/// For promise rejections from an `AsyncTask`, whose error type is fixed to `napi::Status`: the
/// JS error object is made here, with its code, and handed back by reference.
pub fn rejection(env: Env, error: sluice_log::Error) -> napi::Error {
    let js_error = JsError::from(native_error(error)).into_unknown(env);
    napi::Error::from(js_error)
}

/// A JS number that must be an integer in the safe range (offsets, sizes, timestamps).
pub fn integer(name: &'static str, value: f64) -> NativeResult<i64> {
    const MAX_SAFE: f64 = 9_007_199_254_740_991.0;
    if value.is_finite() && value.fract() == 0.0 && value.abs() <= MAX_SAFE {
        Ok(value as i64)
    } else {
        Err(native_error(sluice_log::Error::InvalidArgument {
            name,
            reason: format!("{value} is not a safe integer"),
        }))
    }
}

/// A JS number that must be a non-negative safe integer.
pub fn unsigned(name: &'static str, value: f64) -> NativeResult<u64> {
    let value = integer(name, value)?;
    u64::try_from(value).map_err(|_| {
        native_error(sluice_log::Error::InvalidArgument {
            name,
            reason: format!("{value} is negative"),
        })
    })
}

/// Every error code the native addon can throw (the JS code table is tested against it).
#[napi]
pub fn native_error_codes() -> Vec<String> {
    sluice_log::Error::CODES
        .iter()
        .map(|c| c.to_string())
        .collect()
}
