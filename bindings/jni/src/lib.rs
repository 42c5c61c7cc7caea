//! JNI bindings of the [`efficientformer`] facade: the native half of the Kotlin library in
//! `android/` (class `com.efficientformer.NativeBridge`).
//!
//! Every entry point runs inside [`jni::EnvUnowned::with_env`], which catches panics, and
//! resolves through [`call::ThrowSdkException`]: a core error becomes an
//! `EfficientFormerException` carrying [`efficientformer::Error::code`], a panic becomes one with
//! [`call::INTERNAL_ERROR_CODE`], and nothing unwinds into the JVM. A classifier lives behind a
//! `long` handle ([`handle`]); the Kotlin `Classifier` guarantees it is freed exactly once and
//! never used after.

mod call;
mod handle;
mod natives;
mod to_java;
