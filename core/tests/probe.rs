//! The probe's JSON against its documented schema (`core/src/probe/schema.json`), on a short
//! protocol; tests never assert timings.

use efficientformer::classify::BackendChoice;
use efficientformer::probe::{self, ProbeOptions};
use efficientformer::{Backend, Variant};
use serde_json::Value;

/// The subset of JSON Schema the schema file uses: type (one or several), const, enum,
/// required, properties, items; every key of an object must be described.
fn validate(value: &Value, schema: &Value, path: &str) {
    let types: Vec<&str> = match &schema["type"] {
        Value::String(t) => vec![t.as_str()],
        Value::Array(ts) => ts.iter().map(|t| t.as_str().unwrap()).collect(),
        _ => panic!("{path}: schema without type"),
    };
    let matches = |t: &str| match t {
        "object" => value.is_object(),
        "array" => value.is_array(),
        "string" => value.is_string(),
        "integer" => value.is_u64() || value.is_i64(),
        "number" => value.is_number(),
        "null" => value.is_null(),
        "boolean" => value.is_boolean(),
        other => panic!("{path}: unknown type {other}"),
    };
    assert!(types.iter().any(|t| matches(t)), "{path}: {value} is not {types:?}");
    if let Some(expected) = schema.get("const") {
        assert_eq!(value, expected, "{path}");
    }
    if let Some(Value::Array(allowed)) = schema.get("enum") {
        assert!(allowed.contains(value), "{path}: {value} not in {allowed:?}");
    }
    if let Value::Object(fields) = value {
        for key in schema["required"].as_array().into_iter().flatten() {
            assert!(fields.contains_key(key.as_str().unwrap()), "{path}: missing {key}");
        }
        for (key, field) in fields {
            let sub = schema["properties"].get(key).unwrap_or_else(|| panic!("{path}: undocumented key {key}"));
            validate(field, sub, &format!("{path}.{key}"));
        }
    }
    if let Value::Array(items) = value {
        for (i, item) in items.iter().enumerate() {
            validate(item, &schema["items"], &format!("{path}[{i}]"));
        }
    }
}

#[test]
fn short_probe_report_validates_against_the_schema() {
    let options = ProbeOptions {
        variants: vec![Variant::S0, Variant::S1],
        backends: vec![BackendChoice::Exact(Backend::Flex), BackendChoice::Exact(Backend::NdArray), BackendChoice::Gpu],
        warmup: 3,
        runs: 5,
        ..ProbeOptions::default()
    };
    let report = probe::run(&options).unwrap();
    let schema: Value = serde_json::from_str(include_str!("../src/probe/schema.json")).unwrap();
    let json: Value = serde_json::from_str(&report.to_json()).unwrap();
    validate(&json, &schema, "$");

    assert_eq!(report.rows.len() + report.skipped.len(), 6, "every variant x backend is measured or explained");
    let s1 = report.rows.iter().find(|r| r.variant == "s1" && r.backend == "flex").unwrap();
    assert_eq!((s1.parameters, s1.paper_iphone12_ms, s1.paper_ratio_to_s0), (6_185_560, Some(1.1), Some(1.22)));
    assert_eq!(format!("{:.4}", s1.gmacs), "0.6523");
    assert!(s1.ratio_to_s0.is_some());
    assert!(report.to_markdown().contains("| S1 | flex | f32 | 6185560 | 6.0925 | 0.6523 | 1.1 |"));
    let tflite = report.to_tflite_summary();
    assert!(tflite.lines().any(|l| l.starts_with("count=5 first=")), "{tflite}");
    assert!(tflite.contains("Inference timings in us: Init: "));
}

/// `--profile`: every module of S0 is booked once per pass, to the right stage and kind.
#[test]
fn profile_books_every_module_of_s0() {
    let options = ProbeOptions {
        variants: vec![Variant::S0],
        backends: vec![BackendChoice::Exact(Backend::Flex)],
        warmup: 1,
        runs: 3,
        profile: true,
        ..ProbeOptions::default()
    };
    let report = probe::run(&options).unwrap();
    let schema: Value = serde_json::from_str(include_str!("../src/probe/schema.json")).unwrap();
    validate(&serde_json::from_str(&report.to_json()).unwrap(), &schema, "$");
    let profile = report.rows[0].profile.as_ref().unwrap();
    let layers: Vec<(Option<usize>, &str, usize)> = profile.iter().map(|e| (e.stage, e.kind, e.count)).collect();
    // S0: depths (2, 2, 6, 4), attention in the last two blocks of stages 2 and 3.
    assert_eq!(
        layers,
        [
            (None, "stem", 1),
            (Some(0), "ffn", 2),
            (Some(1), "downsample", 1),
            (Some(1), "ffn", 2),
            (Some(2), "downsample", 1),
            (Some(2), "ffn", 6),
            (Some(2), "attention", 2),
            (Some(3), "attention_downsample", 1),
            (Some(3), "ffn", 4),
            (Some(3), "attention", 2),
            (None, "head", 1),
        ]
    );
    let share: f64 = profile.iter().map(|e| e.share).sum();
    assert!((share - 1.0).abs() < 1e-9 && profile.iter().all(|e| e.mean_ms >= 0.0));
    assert!(report.to_markdown().contains("Where the time goes: S0 on flex"));
}
