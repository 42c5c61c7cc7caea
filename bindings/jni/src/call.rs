//! The error policy shared by every native method.

use std::any::Any;

use jni::errors::ErrorPolicy;
use jni::objects::{JObject, JThrowable, JValue};
use jni::{Env, jni_sig, jni_str};

/// Code of the exception thrown for a panic in Rust (a bug in the SDK); the core's codes
/// start at 1.
pub const INTERNAL_ERROR_CODE: i32 = 0;

/// Why a native call failed.
#[derive(Debug, thiserror::Error)]
pub enum CallError {
    /// The SDK refused the call.
    #[error(transparent)]
    Sdk(#[from] efficientformer::Error),
    /// A JNI operation failed (a Java exception may already be pending).
    #[error("JNI: {0}")]
    Jni(#[from] jni::errors::Error),
}

/// Result of a native call's body.
pub type CallResult<T> = Result<T, CallError>;

/// Throws `com.efficientformer.EfficientFormerException(code, message)` for errors and
/// panics, then returns the JNI default (0 or null), which Kotlin never sees.
pub struct ThrowSdkException;

impl<T: Default> ErrorPolicy<T, CallError> for ThrowSdkException {
    type Captures<'unowned_env_local: 'native_method, 'native_method> = ();

    fn on_error<'unowned_env_local: 'native_method, 'native_method>(
        env: &mut Env<'unowned_env_local>,
        _captures: &mut (),
        error: CallError,
    ) -> jni::errors::Result<T> {
        match error {
            CallError::Jni(jni::errors::Error::JavaException) => {}
            CallError::Sdk(error) => throw(env, error.code() as i32, &error.to_string())?,
            CallError::Jni(error) => throw(env, INTERNAL_ERROR_CODE, &format!("JNI failure: {error}"))?,
        }
        Ok(T::default())
    }

    fn on_panic<'unowned_env_local: 'native_method, 'native_method>(
        env: &mut Env<'unowned_env_local>,
        _captures: &mut (),
        payload: Box<dyn Any + Send + 'static>,
    ) -> jni::errors::Result<T> {
        let reason = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".into());
        throw(env, INTERNAL_ERROR_CODE, &format!("internal error in the native library: {reason}"))?;
        Ok(T::default())
    }
}

fn throw(env: &mut Env<'_>, code: i32, message: &str) -> jni::errors::Result<()> {
    if env.exception_check() {
        return Ok(());
    }
    let message = env.new_string(message)?;
    let exception: JObject = env.new_object(
        jni_str!("com/efficientformer/EfficientFormerException"),
        jni_sig!("(ILjava/lang/String;)V"),
        &[JValue::Int(code), JValue::Object(&message)],
    )?;
    let exception = env.cast_local::<JThrowable>(exception)?;
    env.throw(exception)
}
