//! Builds the Kotlin result objects (`com.efficientformer.*`) from the core's results through
//! their internal JNI constructors. Local references are released per element so that large
//! batches stay inside Android's local-reference table.

use efficientformer::classify::{Classification, ModelInfo};
use efficientformer::probe::{ProbeReport, ProbeRow};
use jni::objects::{JFloatArray, JObject, JObjectArray, JValue};
use jni::{Env, jni_sig, jni_str};

type JniResult<T> = jni::errors::Result<T>;

fn float_array<'local>(env: &mut Env<'local>, values: &[f32]) -> JniResult<JFloatArray<'local>> {
    let array = env.new_float_array(values.len())?;
    array.set_region(env, 0, values)?;
    Ok(array)
}

fn string_array<'local, 'v>(
    env: &mut Env<'local>,
    values: impl ExactSizeIterator<Item = &'v str>,
) -> JniResult<JObjectArray<'local>> {
    let array = env.new_object_array(values.len() as i32, jni_str!("java/lang/String"), JObject::null())?;
    for (index, value) in values.enumerate() {
        let string = env.new_string(value)?;
        array.set_element(env, index, &string)?;
        env.delete_local_ref(string);
    }
    Ok(array)
}

fn nullable_string<'local>(env: &mut Env<'local>, value: Option<&str>) -> JniResult<JObject<'local>> {
    match value {
        Some(value) => Ok(env.new_string(value)?.into()),
        None => Ok(JObject::null()),
    }
}

/// `Classification(int[] classIndices, String[] labels, float[] scores, float[] probabilities,
/// float[] logits, float[] embedding, String precision)` (`embedding` null unless asked for).
pub fn classification<'local>(env: &mut Env<'local>, result: &Classification) -> JniResult<JObject<'local>> {
    let indices: Vec<i32> = result.top.iter().map(|p| p.class_index as i32).collect();
    let scores: Vec<f32> = result.top.iter().map(|p| p.score).collect();
    let index_array = env.new_int_array(indices.len())?;
    index_array.set_region(env, 0, &indices)?;
    let label_array = string_array(env, result.top.iter().map(|p| p.label.as_str()))?;
    let score_array = float_array(env, &scores)?;
    let probabilities = float_array(env, &result.probabilities)?;
    let logits = float_array(env, &result.logits)?;
    let embedding: JObject = match &result.embedding {
        Some(values) => float_array(env, values)?.into(),
        None => JObject::null(),
    };
    let precision = env.new_string(result.precision.name())?;
    env.new_object(
        jni_str!("com/efficientformer/Classification"),
        jni_sig!("([I[Ljava/lang/String;[F[F[F[FLjava/lang/String;)V"),
        &[
            JValue::Object(&index_array),
            JValue::Object(&label_array),
            JValue::Object(&score_array),
            JValue::Object(&probabilities),
            JValue::Object(&logits),
            JValue::Object(&embedding),
            JValue::Object(&precision),
        ],
    )
}

/// `Classification[]`, one local frame per element.
pub fn classifications<'local>(env: &mut Env<'local>, results: &[Classification]) -> JniResult<JObjectArray<'local>> {
    let array =
        env.new_object_array(results.len() as i32, jni_str!("com/efficientformer/Classification"), JObject::null())?;
    for (index, result) in results.iter().enumerate() {
        env.with_local_frame(16, |env| -> JniResult<()> {
            let element = classification(env, result)?;
            array.set_element(env, index, &element)
        })?;
    }
    Ok(array)
}

/// `ModelInfo(String variant, String backend, String adapter, String? backendNote, long
/// parameters, double gmacs, String weightDtype, boolean untrained, int numClasses, String
/// precision)`.
pub fn model_info<'local>(env: &mut Env<'local>, info: &ModelInfo) -> JniResult<JObject<'local>> {
    let variant = env.new_string(info.variant.name())?;
    let backend = env.new_string(info.backend.name())?;
    let adapter = env.new_string(&info.adapter)?;
    let note = nullable_string(env, info.backend_note.as_deref())?;
    let dtype = env.new_string(info.weight_dtype.name())?;
    let precision = env.new_string(info.precision.name())?;
    env.new_object(
        jni_str!("com/efficientformer/ModelInfo"),
        jni_sig!("(Ljava/lang/String;Ljava/lang/String;Ljava/lang/String;Ljava/lang/String;JDLjava/lang/String;ZILjava/lang/String;)V"),
        &[
            JValue::Object(&variant),
            JValue::Object(&backend),
            JValue::Object(&adapter),
            JValue::Object(&note),
            JValue::Long(info.parameters as i64),
            JValue::Double(info.gmacs),
            JValue::Object(&dtype),
            JValue::Bool(info.untrained.into()),
            JValue::Int(info.config.num_classes as i32),
            JValue::Object(&precision),
        ],
    )
}

/// `ProbeRow(...)`: names, then numbers; an absent paper value is NaN, an unknown RSS -1.
fn probe_row<'local>(env: &mut Env<'local>, row: &ProbeRow) -> JniResult<JObject<'local>> {
    let variant = env.new_string(&row.variant)?;
    let backend = env.new_string(&row.backend)?;
    let adapter = env.new_string(&row.adapter)?;
    let (precision, requested) = (env.new_string(row.precision)?, env.new_string(row.requested_precision)?);
    let latency = &row.latency;
    env.new_object(
        jni_str!("com/efficientformer/ProbeRow"),
        jni_sig!("(Ljava/lang/String;Ljava/lang/String;Ljava/lang/String;Ljava/lang/String;Ljava/lang/String;IJDDDDDDDDDDDJ)V"),
        &[
            JValue::Object(&variant),
            JValue::Object(&backend),
            JValue::Object(&precision),
            JValue::Object(&requested),
            JValue::Object(&adapter),
            JValue::Int(row.threads.map_or(-1, |n| n as i32)),
            JValue::Long(row.parameters as i64),
            JValue::Double(row.gmacs),
            JValue::Double(row.paper_iphone12_ms.unwrap_or(f64::NAN)),
            JValue::Double(row.load_ms),
            JValue::Double(row.cold_ms),
            JValue::Double(latency.mean_ms),
            JValue::Double(latency.median_ms),
            JValue::Double(latency.p90_ms),
            JValue::Double(latency.p99_ms),
            JValue::Double(latency.min_ms),
            JValue::Double(latency.std_ms),
            JValue::Double(latency.runs_per_s),
            JValue::Long(row.peak_rss_bytes.map_or(-1, |n| n as i64)),
        ],
    )
}

/// `ProbeReport(ProbeRow[] rows, String[] skipped, String json, String markdown, String
/// tfliteSummary)`.
pub fn probe_report<'local>(env: &mut Env<'local>, report: &ProbeReport) -> JniResult<JObject<'local>> {
    let rows = env.new_object_array(report.rows.len() as i32, jni_str!("com/efficientformer/ProbeRow"), JObject::null())?;
    for (index, row) in report.rows.iter().enumerate() {
        env.with_local_frame(8, |env| -> JniResult<()> {
            let element = probe_row(env, row)?;
            rows.set_element(env, index, &element)
        })?;
    }
    let skipped: Vec<String> = report.skipped.iter().map(ToString::to_string).collect();
    let skipped = string_array(env, skipped.iter().map(String::as_str))?;
    let json = env.new_string(report.to_json())?;
    let markdown = env.new_string(report.to_markdown())?;
    let tflite = env.new_string(report.to_tflite_summary())?;
    env.new_object(
        jni_str!("com/efficientformer/ProbeReport"),
        jni_sig!("([Lcom/efficientformer/ProbeRow;[Ljava/lang/String;Ljava/lang/String;Ljava/lang/String;Ljava/lang/String;)V"),
        &[
            JValue::Object(&rows),
            JValue::Object(&skipped),
            JValue::Object(&json),
            JValue::Object(&markdown),
            JValue::Object(&tflite),
        ],
    )
}
