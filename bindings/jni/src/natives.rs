//! The `external fun`s of `com.efficientformer.NativeBridge`. Each converts JNI values, calls
//! one facade function and converts the result back ([`crate::to_java`]); validation of
//! values lives in the core, so Kotlin and Swift reject the same inputs with the same codes.

use std::path::Path;

use efficientformer::classify::{BackendChoice, Classifier, ClassifierOptions, PixelBuffer, PixelFormat};
use efficientformer::probe::{self, ProbeOptions};
use efficientformer::{Error, Variant};
use jni::objects::{JByteArray, JByteBuffer, JClass, JFloatArray, JObject, JObjectArray, JString};
use jni::sys::{jdouble, jint, jlong};
use jni::{Env, EnvUnowned};

use crate::call::{CallResult, ThrowSdkException};
use crate::handle;
use crate::to_java;

fn string(env: &Env<'_>, value: &JString<'_>) -> CallResult<String> {
    Ok(value.try_to_string(env)?)
}

fn nullable_string(env: &Env<'_>, value: &JString<'_>) -> CallResult<Option<String>> {
    if value.is_null() { Ok(None) } else { string(env, value).map(Some) }
}

/// A non-negative `int` from Kotlin, or `InvalidInput` naming it.
fn count(value: jint, what: &str) -> CallResult<usize> {
    usize::try_from(value).map_err(|_| Error::InvalidInput(format!("{what} must not be negative, got {value}")).into())
}

/// A thread count from Kotlin: negative means one per core.
fn thread_count(value: jint) -> Option<usize> {
    usize::try_from(value).ok()
}

/// The flat `ClassifierOptions` values every `load*` native takes after its source.
struct OptionArgs<'a, 'local> {
    backend: &'a JString<'local>,
    cpu_threads: jint,
    top_k: jint,
    gpu_cache_dir: &'a JString<'local>,
    expected_variant: &'a JString<'local>,
}

impl OptionArgs<'_, '_> {
    fn parse(&self, env: &Env<'_>) -> CallResult<ClassifierOptions> {
        Ok(ClassifierOptions {
            backend: BackendChoice::from_name(&string(env, self.backend)?)?,
            cpu_threads: thread_count(self.cpu_threads),
            top_k: count(self.top_k, "topK")?,
            gpu_cache_dir: nullable_string(env, self.gpu_cache_dir)?.map(Into::into),
            expected_variant: nullable_string(env, self.expected_variant)?.as_deref().map(Variant::parse).transpose()?,
        })
    }
}

/// Runs a `load*` native: parses the options, loads with `load`, returns the new handle.
fn load<'local>(
    env: &mut EnvUnowned<'local>,
    args: OptionArgs<'_, '_>,
    load: impl FnOnce(&mut Env<'local>, ClassifierOptions) -> CallResult<Classifier>,
) -> jlong {
    env.with_env(|env| -> CallResult<jlong> {
        let options = args.parse(env)?;
        Ok(handle::into_handle(load(env, options)?))
    })
    .resolve::<ThrowSdkException>()
}

/// The bytes of a direct buffer between `offset` and `offset + length`, read in place.
///
/// The slice borrows JVM memory: the Kotlin caller keeps `buffer` reachable (it is an
/// argument of the running call) and does not write to it during the call.
fn direct_bytes<'a>(env: &Env<'_>, buffer: &'a JByteBuffer<'_>, offset: jint, length: jint) -> CallResult<&'a [u8]> {
    let address = env
        .get_direct_buffer_address(buffer)
        .map_err(|_| Error::InvalidInput("the ByteBuffer is not direct (allocate it with ByteBuffer.allocateDirect)".into()))?;
    let capacity = env.get_direct_buffer_capacity(buffer)?;
    let (offset, length) = (count(offset, "buffer offset")?, count(length, "buffer length")?);
    if offset.checked_add(length).is_none_or(|end| end > capacity) {
        return Err(Error::InvalidInput(format!(
            "buffer range {offset}..{offset}+{length} exceeds its capacity of {capacity} bytes"
        ))
        .into());
    }
    // SAFETY: a direct buffer's address is valid for `capacity` bytes while the buffer is
    // reachable, and the range was checked against the capacity above.
    Ok(unsafe { std::slice::from_raw_parts(address.add(offset), length) })
}

fn classify_pixels(
    handle: jlong,
    data: &[u8],
    [width, height, row_stride, format, orientation]: [jint; 5],
) -> CallResult<efficientformer::classify::Classification> {
    let format = PixelFormat::from_code(format as u32)?;
    let pixels = PixelBuffer::from_signed(data, width.into(), height.into(), row_stride.into(), format, orientation.into())?;
    Ok(handle::borrow(handle)?.classify_pixels(&pixels)?)
}

#[unsafe(no_mangle)]
pub extern "system" fn Java_com_efficientformer_NativeBridge_loadPath<'local>(
    mut env: EnvUnowned<'local>,
    _class: JClass<'local>,
    path: JString<'local>,
    backend: JString<'local>,
    cpu_threads: jint,
    top_k: jint,
    gpu_cache_dir: JString<'local>,
    expected_variant: JString<'local>,
) -> jlong {
    let args = OptionArgs { backend: &backend, cpu_threads, top_k, gpu_cache_dir: &gpu_cache_dir, expected_variant: &expected_variant };
    load(&mut env, args, |env, options| Ok(Classifier::from_path(Path::new(&string(env, &path)?), options)?))
}

#[unsafe(no_mangle)]
pub extern "system" fn Java_com_efficientformer_NativeBridge_loadBytes<'local>(
    mut env: EnvUnowned<'local>,
    _class: JClass<'local>,
    bytes: JByteArray<'local>,
    backend: JString<'local>,
    cpu_threads: jint,
    top_k: jint,
    gpu_cache_dir: JString<'local>,
    expected_variant: JString<'local>,
) -> jlong {
    let args = OptionArgs { backend: &backend, cpu_threads, top_k, gpu_cache_dir: &gpu_cache_dir, expected_variant: &expected_variant };
    load(&mut env, args, |env, options| Ok(Classifier::from_bytes(&env.convert_byte_array(&bytes)?, options)?))
}

#[unsafe(no_mangle)]
pub extern "system" fn Java_com_efficientformer_NativeBridge_loadBuffer<'local>(
    mut env: EnvUnowned<'local>,
    _class: JClass<'local>,
    buffer: JByteBuffer<'local>,
    offset: jint,
    length: jint,
    backend: JString<'local>,
    cpu_threads: jint,
    top_k: jint,
    gpu_cache_dir: JString<'local>,
    expected_variant: JString<'local>,
) -> jlong {
    let args = OptionArgs { backend: &backend, cpu_threads, top_k, gpu_cache_dir: &gpu_cache_dir, expected_variant: &expected_variant };
    load(&mut env, args, |env, options| Ok(Classifier::from_bytes(direct_bytes(env, &buffer, offset, length)?, options)?))
}

#[unsafe(no_mangle)]
pub extern "system" fn Java_com_efficientformer_NativeBridge_loadEmbeddedDefault<'local>(
    mut env: EnvUnowned<'local>,
    _class: JClass<'local>,
    backend: JString<'local>,
    cpu_threads: jint,
    top_k: jint,
    gpu_cache_dir: JString<'local>,
    expected_variant: JString<'local>,
) -> jlong {
    let args = OptionArgs { backend: &backend, cpu_threads, top_k, gpu_cache_dir: &gpu_cache_dir, expected_variant: &expected_variant };
    load(&mut env, args, |_env, options| Ok(Classifier::embedded_default(options)?))
}

#[unsafe(no_mangle)]
pub extern "system" fn Java_com_efficientformer_NativeBridge_free<'local>(
    mut env: EnvUnowned<'local>,
    _class: JClass<'local>,
    handle: jlong,
) {
    env.with_env(|_env| -> CallResult<()> {
        handle::free(handle);
        Ok(())
    })
    .resolve::<ThrowSdkException>()
}

#[unsafe(no_mangle)]
pub extern "system" fn Java_com_efficientformer_NativeBridge_info<'local>(
    mut env: EnvUnowned<'local>,
    _class: JClass<'local>,
    handle: jlong,
) -> JObject<'local> {
    env.with_env(|env| -> CallResult<JObject<'local>> {
        let classifier = handle::borrow(handle)?;
        Ok(to_java::model_info(env, classifier.info())?)
    })
    .resolve::<ThrowSdkException>()
}

#[unsafe(no_mangle)]
pub extern "system" fn Java_com_efficientformer_NativeBridge_prewarm<'local>(
    mut env: EnvUnowned<'local>,
    _class: JClass<'local>,
    handle: jlong,
) -> jdouble {
    env.with_env(|_env| -> CallResult<jdouble> { Ok(handle::borrow(handle)?.prewarm()?.as_secs_f64() * 1e3) })
        .resolve::<ThrowSdkException>()
}

#[unsafe(no_mangle)]
pub extern "system" fn Java_com_efficientformer_NativeBridge_classifyEncoded<'local>(
    mut env: EnvUnowned<'local>,
    _class: JClass<'local>,
    handle: jlong,
    bytes: JByteArray<'local>,
) -> JObject<'local> {
    env.with_env(|env| -> CallResult<JObject<'local>> {
        let bytes = env.convert_byte_array(&bytes)?;
        let result = handle::borrow(handle)?.classify_encoded(&bytes)?;
        Ok(to_java::classification(env, &result)?)
    })
    .resolve::<ThrowSdkException>()
}

#[unsafe(no_mangle)]
pub extern "system" fn Java_com_efficientformer_NativeBridge_classifyPixelBuffer<'local>(
    mut env: EnvUnowned<'local>,
    _class: JClass<'local>,
    handle: jlong,
    buffer: JByteBuffer<'local>,
    offset: jint,
    length: jint,
    width: jint,
    height: jint,
    row_stride: jint,
    format: jint,
    orientation: jint,
) -> JObject<'local> {
    env.with_env(|env| -> CallResult<JObject<'local>> {
        let data = direct_bytes(env, &buffer, offset, length)?;
        let result = classify_pixels(handle, data, [width, height, row_stride, format, orientation])?;
        Ok(to_java::classification(env, &result)?)
    })
    .resolve::<ThrowSdkException>()
}

#[unsafe(no_mangle)]
pub extern "system" fn Java_com_efficientformer_NativeBridge_classifyPixelArray<'local>(
    mut env: EnvUnowned<'local>,
    _class: JClass<'local>,
    handle: jlong,
    pixels: JByteArray<'local>,
    width: jint,
    height: jint,
    row_stride: jint,
    format: jint,
    orientation: jint,
) -> JObject<'local> {
    env.with_env(|env| -> CallResult<JObject<'local>> {
        let data = env.convert_byte_array(&pixels)?;
        let result = classify_pixels(handle, &data, [width, height, row_stride, format, orientation])?;
        Ok(to_java::classification(env, &result)?)
    })
    .resolve::<ThrowSdkException>()
}

#[unsafe(no_mangle)]
pub extern "system" fn Java_com_efficientformer_NativeBridge_classifyTensor<'local>(
    mut env: EnvUnowned<'local>,
    _class: JClass<'local>,
    handle: jlong,
    values: JFloatArray<'local>,
    batch: jint,
) -> JObjectArray<'local> {
    env.with_env(|env| -> CallResult<JObjectArray<'local>> {
        let mut buffer = vec![0f32; values.len(env)?];
        values.get_region(env, 0, &mut buffer)?;
        let results = handle::borrow(handle)?.classify_tensor(&buffer, count(batch, "batch")?)?;
        Ok(to_java::classifications(env, &results)?)
    })
    .resolve::<ThrowSdkException>()
}

/// `variants` and `backends` are comma-separated names; `model` may be null; `threads < 0`
/// means one per core.
#[unsafe(no_mangle)]
pub extern "system" fn Java_com_efficientformer_NativeBridge_runProbe<'local>(
    mut env: EnvUnowned<'local>,
    _class: JClass<'local>,
    variants: JString<'local>,
    model: JString<'local>,
    backends: JString<'local>,
    warmup: jint,
    runs: jint,
    threads: jint,
    batch: jint,
) -> JObject<'local> {
    env.with_env(|env| -> CallResult<JObject<'local>> {
        let names = |list: String| list.split(',').map(str::trim).filter(|s| !s.is_empty()).map(String::from).collect::<Vec<_>>();
        let options = ProbeOptions {
            model: nullable_string(env, &model)?.map(Into::into),
            warmup: count(warmup, "warmup")?,
            runs: count(runs, "runs")?,
            threads: thread_count(threads),
            batch: count(batch, "batch")?,
            ..ProbeOptions::default()
        }
        .with_names(&names(string(env, &variants)?), &names(string(env, &backends)?))?;
        let report = probe::run(&options)?;
        Ok(to_java::probe_report(env, &report)?)
    })
    .resolve::<ThrowSdkException>()
}
