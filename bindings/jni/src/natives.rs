//! The `external fun`s of `com.efficientformer.NativeBridge`. Each converts JNI values, calls
//! one facade function and converts the result back ([`crate::to_java`]); validation of
//! values lives in the core, so Kotlin and Swift reject the same inputs with the same codes.

use std::path::Path;

use efficientformer::classify::{
    BackendChoice, CancelToken, Classifier, ClassifierOptions, ImageInput, PixelBuffer, PixelFormat, Rect, YuvImage, YuvMatrix,
    YuvPlane, YuvRange,
};
use efficientformer::classify::image_input::{self, exif_code};
use efficientformer::probe::{self, ProbeOptions};
use efficientformer::{Error, Precision, Variant};
use jni::objects::{JByteArray, JByteBuffer, JClass, JFloatArray, JIntArray, JObject, JObjectArray, JString};
use jni::sys::{jdouble, jint, jlong};
use jni::{Env, EnvUnowned, jni_sig, jni_str};

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

/// The `ClassifierOptions` of a `load*` native: `com.efficientformer.NativeOptions`, whose
/// `@JvmField`s are read by name.
fn classifier_options(env: &mut Env<'_>, options: &JObject<'_>) -> CallResult<ClassifierOptions> {
    if options.is_null() {
        return Err(Error::InvalidInput("options are null".into()).into());
    }
    let backend = env.get_field(options, jni_str!("backend"), jni_sig!("Ljava/lang/String;"))?.l()?;
    let cpu_threads = env.get_field(options, jni_str!("cpuThreads"), jni_sig!("I"))?.i()?;
    let top_k = env.get_field(options, jni_str!("topK"), jni_sig!("I"))?.i()?;
    let score_threshold = env.get_field(options, jni_str!("scoreThreshold"), jni_sig!("F"))?.f()?;
    let labels = env.get_field(options, jni_str!("labels"), jni_sig!("[Ljava/lang/String;"))?.l()?;
    let embedding = env.get_field(options, jni_str!("embedding"), jni_sig!("Z"))?.z()?;
    let gpu_cache_dir = env.get_field(options, jni_str!("gpuCacheDir"), jni_sig!("Ljava/lang/String;"))?.l()?;
    let expected_variant = env.get_field(options, jni_str!("expectedVariant"), jni_sig!("Ljava/lang/String;"))?.l()?;
    let precision = env.get_field(options, jni_str!("precision"), jni_sig!("Ljava/lang/String;"))?.l()?;
    let (backend, gpu_cache_dir, expected_variant) =
        (env.cast_local::<JString>(backend)?, env.cast_local::<JString>(gpu_cache_dir)?, env.cast_local::<JString>(expected_variant)?);
    let precision = env.cast_local::<JString>(precision)?;
    let labels = env.cast_local::<JObjectArray>(labels)?;
    Ok(ClassifierOptions {
        backend: BackendChoice::from_name(&string(env, &backend)?)?,
        cpu_threads: thread_count(cpu_threads),
        top_k: count(top_k, "topK")?,
        score_threshold,
        labels: strings(env, &labels)?,
        embedding,
        gpu_cache_dir: nullable_string(env, &gpu_cache_dir)?.map(Into::into),
        expected_variant: nullable_string(env, &expected_variant)?.as_deref().map(Variant::parse).transpose()?,
        precision: Precision::from_name(&string(env, &precision)?)?,
    })
}

/// A `String[]` (null: `None`).
fn strings(env: &mut Env<'_>, array: &JObjectArray<'_>) -> CallResult<Option<Vec<String>>> {
    if array.is_null() {
        return Ok(None);
    }
    let mut values = Vec::with_capacity(array.len(env)?);
    for index in 0..array.len(env)? {
        let element = array.get_element(env, index)?;
        if element.is_null() {
            return Err(Error::InvalidInput(format!("label {index} is null")).into());
        }
        let text = env.cast_local::<JString>(element)?;
        values.push(string(env, &text)?);
        env.delete_local_ref(text);
    }
    Ok(Some(values))
}

/// A crop rectangle passed as `int[] {x, y, width, height}` (null: the whole frame).
fn crop(env: &Env<'_>, array: &JIntArray<'_>) -> CallResult<Option<Rect>> {
    if array.is_null() {
        return Ok(None);
    }
    let mut values = [0; 4];
    if array.len(env)? != 4 {
        return Err(Error::InvalidInput("a crop is four ints: x, y, width, height".into()).into());
    }
    array.get_region(env, 0, &mut values)?;
    let [x, y, width, height] = values.map(i64::from);
    Ok(Some(Rect::from_signed(x, y, width, height)?))
}

/// The cancellation token behind `token` (0: a call that cannot be cancelled).
fn cancel_token(token: jlong) -> CancelToken {
    if token == 0 {
        CancelToken::new()
    } else {
        // SAFETY: Kotlin passes tokens from `newCancelToken` that it frees only after the
        // calls they were passed to have returned.
        unsafe { &*(token as *const CancelToken) }.clone()
    }
}

/// Classifies `input` with the classifier behind `handle`, cancelled through `token`.
fn classify(handle: jlong, input: ImageInput<'_>, token: jlong) -> CallResult<efficientformer::classify::Classification> {
    Ok(handle::borrow(handle)?.classify_cancellable(input, &cancel_token(token))?)
}

/// Runs a `load*` native: reads the options, loads with `load`, returns the new handle.
fn load<'local>(
    env: &mut EnvUnowned<'local>,
    options: &JObject<'_>,
    load: impl FnOnce(&mut Env<'local>, ClassifierOptions) -> CallResult<Classifier>,
) -> jlong {
    env.with_env(|env| -> CallResult<jlong> {
        let options = classifier_options(env, options)?;
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

fn pixels<'a>(
    data: &'a [u8],
    [width, height, row_stride, format, orientation]: [jint; 5],
    crop: Option<Rect>,
) -> CallResult<ImageInput<'a>> {
    let format = PixelFormat::from_code(format as u32)?;
    let mut pixels = PixelBuffer::from_signed(data, width.into(), height.into(), row_stride.into(), format, orientation.into())?;
    pixels.crop = crop;
    Ok(ImageInput::Pixels(pixels))
}

#[unsafe(no_mangle)]
pub extern "system" fn Java_com_efficientformer_NativeBridge_loadPath<'local>(
    mut env: EnvUnowned<'local>,
    _class: JClass<'local>,
    path: JString<'local>,
    options: JObject<'local>,
) -> jlong {
    load(&mut env, &options, |env, options| Ok(Classifier::from_path(Path::new(&string(env, &path)?), options)?))
}

#[unsafe(no_mangle)]
pub extern "system" fn Java_com_efficientformer_NativeBridge_loadBytes<'local>(
    mut env: EnvUnowned<'local>,
    _class: JClass<'local>,
    bytes: JByteArray<'local>,
    options: JObject<'local>,
) -> jlong {
    load(&mut env, &options, |env, options| Ok(Classifier::from_bytes(&env.convert_byte_array(&bytes)?, options)?))
}

#[unsafe(no_mangle)]
pub extern "system" fn Java_com_efficientformer_NativeBridge_loadBuffer<'local>(
    mut env: EnvUnowned<'local>,
    _class: JClass<'local>,
    buffer: JByteBuffer<'local>,
    offset: jint,
    length: jint,
    options: JObject<'local>,
) -> jlong {
    load(&mut env, &options, |env, options| Ok(Classifier::from_bytes(direct_bytes(env, &buffer, offset, length)?, options)?))
}

#[unsafe(no_mangle)]
pub extern "system" fn Java_com_efficientformer_NativeBridge_loadEmbeddedDefault<'local>(
    mut env: EnvUnowned<'local>,
    _class: JClass<'local>,
    options: JObject<'local>,
) -> jlong {
    load(&mut env, &options, |_env, options| Ok(Classifier::embedded_default(options)?))
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
    cancel: jlong,
) -> JObject<'local> {
    env.with_env(|env| -> CallResult<JObject<'local>> {
        let bytes = env.convert_byte_array(&bytes)?;
        let result = classify(handle, ImageInput::Encoded(&bytes), cancel)?;
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
    crop_rect: JIntArray<'local>,
    orientation: jint,
    cancel: jlong,
) -> JObject<'local> {
    env.with_env(|env| -> CallResult<JObject<'local>> {
        let data = direct_bytes(env, &buffer, offset, length)?;
        let input = pixels(data, [width, height, row_stride, format, orientation], crop(env, &crop_rect)?)?;
        let result = classify(handle, input, cancel)?;
        Ok(to_java::classification(env, &result)?)
    })
    .resolve::<ThrowSdkException>()
}

#[unsafe(no_mangle)]
pub extern "system" fn Java_com_efficientformer_NativeBridge_classifyPixelArray<'local>(
    mut env: EnvUnowned<'local>,
    _class: JClass<'local>,
    handle: jlong,
    data: JByteArray<'local>,
    width: jint,
    height: jint,
    row_stride: jint,
    format: jint,
    crop_rect: JIntArray<'local>,
    orientation: jint,
    cancel: jlong,
) -> JObject<'local> {
    env.with_env(|env| -> CallResult<JObject<'local>> {
        let data = env.convert_byte_array(&data)?;
        let input = pixels(&data, [width, height, row_stride, format, orientation], crop(env, &crop_rect)?)?;
        let result = classify(handle, input, cancel)?;
        Ok(to_java::classification(env, &result)?)
    })
    .resolve::<ThrowSdkException>()
}

/// One YUV plane: a direct buffer between `offset` and `offset + length`, read in place.
fn yuv_plane<'a>(env: &Env<'_>, buffer: &'a JByteBuffer<'_>, [offset, length, row_stride, pixel_stride]: [jint; 4]) -> CallResult<YuvPlane<'a>> {
    let data = direct_bytes(env, buffer, offset, length)?;
    Ok(YuvPlane::from_signed(data, row_stride.into(), pixel_stride.into())?)
}

/// `geometry` is `{width, height, matrix (0 BT.601, 1 BT.709), range (0 full, 1 video),
/// orientation}`; each `*_plane` is `{offset, length, rowStride, pixelStride}` of its buffer.
#[unsafe(no_mangle)]
pub extern "system" fn Java_com_efficientformer_NativeBridge_classifyYuv<'local>(
    mut env: EnvUnowned<'local>,
    _class: JClass<'local>,
    handle: jlong,
    y: JByteBuffer<'local>,
    u: JByteBuffer<'local>,
    v: JByteBuffer<'local>,
    planes: JIntArray<'local>,
    geometry: JIntArray<'local>,
    crop_rect: JIntArray<'local>,
    cancel: jlong,
) -> JObject<'local> {
    env.with_env(|env| -> CallResult<JObject<'local>> {
        let read = |array: &JIntArray<'_>, values: &mut [jint]| -> CallResult<()> {
            if array.len(env)? != values.len() {
                return Err(Error::InvalidInput(format!("expected {} ints", values.len())).into());
            }
            Ok(array.get_region(env, 0, values)?)
        };
        let (mut plane, mut shape) = ([0; 12], [0; 5]);
        read(&planes, &mut plane)?;
        read(&geometry, &mut shape)?;
        let [width, height, matrix, range, orientation] = shape;
        let frame = YuvImage {
            y: yuv_plane(env, &y, plane[0..4].try_into().expect("four ints"))?,
            u: yuv_plane(env, &u, plane[4..8].try_into().expect("four ints"))?,
            v: yuv_plane(env, &v, plane[8..12].try_into().expect("four ints"))?,
            width: image_input::geometry(width.into(), "width")?,
            height: image_input::geometry(height.into(), "height")?,
            matrix: if matrix == 1 { YuvMatrix::Bt709 } else { YuvMatrix::Bt601 },
            range: if range == 1 { YuvRange::Video } else { YuvRange::Full },
            crop: crop(env, &crop_rect)?,
            orientation: exif_code(orientation.into())?,
        };
        let result = classify(handle, ImageInput::Yuv(frame), cancel)?;
        Ok(to_java::classification(env, &result)?)
    })
    .resolve::<ThrowSdkException>()
}

#[unsafe(no_mangle)]
pub extern "system" fn Java_com_efficientformer_NativeBridge_newCancelToken<'local>(
    mut env: EnvUnowned<'local>,
    _class: JClass<'local>,
) -> jlong {
    env.with_env(|_env| -> CallResult<jlong> { Ok(Box::into_raw(Box::new(CancelToken::new())) as jlong) })
        .resolve::<ThrowSdkException>()
}

#[unsafe(no_mangle)]
pub extern "system" fn Java_com_efficientformer_NativeBridge_cancel<'local>(
    mut env: EnvUnowned<'local>,
    _class: JClass<'local>,
    token: jlong,
) {
    env.with_env(|_env| -> CallResult<()> {
        cancel_token(token).cancel();
        Ok(())
    })
    .resolve::<ThrowSdkException>()
}

#[unsafe(no_mangle)]
pub extern "system" fn Java_com_efficientformer_NativeBridge_freeCancelToken<'local>(
    mut env: EnvUnowned<'local>,
    _class: JClass<'local>,
    token: jlong,
) {
    env.with_env(|_env| -> CallResult<()> {
        if token != 0 {
            // SAFETY: `token` came from `newCancelToken`, and Kotlin frees each token once,
            // after every call it was passed to has returned.
            drop(unsafe { Box::from_raw(token as *mut CancelToken) });
        }
        Ok(())
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

/// `variants`, `backends` and `precisions` are comma-separated names; `model` may be null;
/// `threads < 0` means one per core.
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
    precisions: JString<'local>,
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
        .with_names(&names(string(env, &variants)?), &names(string(env, &backends)?), &names(string(env, &precisions)?))?;
        let report = probe::run(&options)?;
        Ok(to_java::probe_report(env, &report)?)
    })
    .resolve::<ThrowSdkException>()
}
