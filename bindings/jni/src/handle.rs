//! The `long` handle a Kotlin `Classifier` holds: a leaked `Box<Arc<Classifier>>`.

use std::sync::Arc;

use efficientformer::Error;
use efficientformer::classify::Classifier;
use jni::sys::jlong;

/// Moves a classifier behind a new handle.
pub fn into_handle(classifier: Classifier) -> jlong {
    Box::into_raw(Box::new(Arc::new(classifier))) as jlong
}

/// The classifier behind `handle`, shared for the length of one call.
///
/// The Kotlin side passes only handles it got from [`into_handle`] and has not yet passed to
/// [`free`], and holds its read lock across the call so `close()` cannot free it meanwhile.
pub fn borrow(handle: jlong) -> Result<Arc<Classifier>, Error> {
    if handle == 0 {
        return Err(Error::InvalidInput("the classifier is closed".into()));
    }
    // SAFETY: per the contract above, `handle` came from `into_handle` and is still live.
    let shared = unsafe { &*(handle as *const Arc<Classifier>) };
    Ok(Arc::clone(shared))
}

/// Drops the handle's reference; the classifier goes when the last running call ends.
pub fn free(handle: jlong) {
    if handle != 0 {
        // SAFETY: `handle` came from `into_handle`, and Kotlin frees each handle exactly once.
        drop(unsafe { Box::from_raw(handle as *mut Arc<Classifier>) });
    }
}
