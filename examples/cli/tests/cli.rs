//! The command-line tool as users run it: JSON shapes, conversion, info, and errors.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

fn repo(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").join(rel)
}

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_efficientformer")).args(args).output().unwrap()
}

fn json(args: &[&str]) -> Value {
    let output = run(args);
    assert!(output.status.success(), "{args:?}: {}", String::from_utf8_lossy(&output.stderr));
    serde_json::from_slice(&output.stdout).unwrap()
}

#[test]
fn classify_json_with_the_embedded_default() {
    let image = repo("examples/images/chelsea.png");
    let out = json(&["classify", image.to_str().unwrap(), "--backend", "cpu", "--top-k", "3", "--json", "--logits"]);
    assert_eq!(out["schema"], "efficientformer.classify/1");
    assert_eq!(out["model"]["variant"], "s0");
    assert_eq!(out["model"]["untrained"], true);
    assert_eq!(out["model"]["parameters"], 3_600_256);
    assert_eq!(out["model"]["gmacs"], 0.3961);
    let result = &out["results"][0];
    assert_eq!(result["top"].as_array().unwrap().len(), 3);
    assert_eq!(result["logits"].as_array().unwrap().len(), 1000);
    let scores: Vec<f64> = result["top"].as_array().unwrap().iter().map(|p| p["score"].as_f64().unwrap()).collect();
    assert!(scores.windows(2).all(|w| w[0] >= w[1]), "ranked: {scores:?}");
}

#[test]
fn human_output_says_the_default_is_untrained() {
    let image = repo("examples/images/rocket.jpg");
    let output = run(&["classify", image.to_str().unwrap(), "--backend", "cpu"]);
    assert!(output.status.success());
    let text = String::from_utf8(output.stdout).unwrap();
    assert!(text.contains("UNTRAINED"), "{text}");
    assert!(text.contains("rocket.jpg"), "{text}");
}

#[test]
fn convert_then_info_then_classify() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("tiny_f16.safetensors");
    let official = repo("core/tests/fixtures/tiny/official.pth");
    let converted = run(&["convert", official.to_str().unwrap(), "--out", out.to_str().unwrap(), "--dtype", "f16"]);
    assert!(converted.status.success(), "{}", String::from_utf8_lossy(&converted.stderr));
    let info = json(&["info", out.to_str().unwrap(), "--json"]);
    assert_eq!(info["schema"], "efficientformer.info/1");
    assert_eq!(info["variant"], "custom");
    assert_eq!(info["num_classes"], 10);
    assert_eq!(info["dtype"], "f16");
    assert_eq!(info["metadata"]["source"], "official.pth");
    assert_eq!(info["metadata"]["format"], "efficientformer-sdk");
    let image = repo("examples/images/chelsea.png");
    let classified = json(&["classify", image.to_str().unwrap(), "--model", out.to_str().unwrap(), "--backend", "cpu", "--json"]);
    assert_eq!(classified["model"]["untrained"], false);
    assert_eq!(classified["results"][0]["top"][0]["label"].as_str().unwrap().split(' ').next(), Some("class"));
}

#[test]
fn errors_exit_2_with_the_stable_code() {
    let output = run(&["classify", "/nonexistent.jpg", "--backend", "cpu"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("(code 1)"));
    let output = run(&["info", repo("examples/images/rocket.jpg").to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("(code 2)"));
}

/// The U8 tensor `key` of a fixture safetensors file (8-byte header length, JSON header, data).
fn fixture_bytes(name: &str, key: &str) -> Vec<u8> {
    let bytes = std::fs::read(repo("core/tests/fixtures").join(name)).unwrap();
    let length = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    let header: Value = serde_json::from_slice(&bytes[8..8 + length]).unwrap();
    let offsets = &header[key]["data_offsets"];
    let (start, end) = (offsets[0].as_u64().unwrap() as usize, offsets[1].as_u64().unwrap() as usize);
    bytes[8 + length + start..8 + length + end].to_vec()
}

fn logits(out: &Value) -> Vec<f64> {
    out["results"][0]["logits"].as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).collect()
}

/// A raw NV21 dump of the test photo (`core/tests/fixtures/yuv`) classifies as the raw RGB dump
/// of its published BT.601 conversion, with the same crop and orientation.
#[test]
fn raw_frames_classify_like_their_rgb_conversion() {
    let width = 451;
    let (y, u, v, rgb) = ["y", "u", "v", "rgb"].map(|key| fixture_bytes("yuv/photo.safetensors", key)).into();
    let stride = width + 1;
    let mut nv21 = Vec::new();
    for row in y.chunks(width) {
        nv21.extend_from_slice(row);
        nv21.push(0);
    }
    for (v_row, u_row) in v.chunks(width.div_ceil(2)).zip(u.chunks(width.div_ceil(2))) {
        nv21.extend(v_row.iter().zip(u_row).flat_map(|(&v, &u)| [v, u]));
    }
    let dir = tempfile::tempdir().unwrap();
    let (yuv_path, rgb_path) = (dir.path().join("frame.nv21"), dir.path().join("frame.rgb"));
    std::fs::write(&yuv_path, &nv21).unwrap();
    std::fs::write(&rgb_path, &rgb).unwrap();
    let common = ["--width", "451", "--height", "300", "--crop", "20,10,400,280", "--orientation", "6", "--backend", "cpu", "--json", "--logits"];
    let args = |path: &Path, format: &str, extra: &[&str]| -> Vec<String> {
        let mut args = vec!["classify".to_string(), "--raw".into(), path.to_str().unwrap().into(), "--pixel-format".into(), format.into()];
        args.extend(common.iter().chain(extra).map(|s| s.to_string()));
        args
    };
    let json_of = |args: Vec<String>| json(&args.iter().map(String::as_str).collect::<Vec<_>>());
    let from_yuv = json_of(args(&yuv_path, "nv21", &["--row-stride", &stride.to_string()]));
    let from_rgb = json_of(args(&rgb_path, "rgb8", &[]));
    assert_eq!(logits(&from_yuv), logits(&from_rgb));
    let uncropped = json(&["classify", "--raw", rgb_path.to_str().unwrap(), "--pixel-format", "rgb8", "--width", "451", "--height", "300", "--backend", "cpu", "--json", "--logits"]);
    assert_ne!(logits(&uncropped), logits(&from_rgb), "the crop and orientation were applied");

    let short = run(&["classify", "--raw", yuv_path.to_str().unwrap(), "--pixel-format", "i420", "--width", "900", "--height", "300", "--backend", "cpu"]);
    assert_eq!(short.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&short.stderr).contains("(code 18)"), "{}", String::from_utf8_lossy(&short.stderr));
}

/// Labels stored by `convert --labels` name the classes; `--threshold` and `--embedding` shape
/// the JSON.
#[test]
fn labels_threshold_and_embedding() {
    let dir = tempfile::tempdir().unwrap();
    let labels = dir.path().join("labels.txt");
    std::fs::write(&labels, (0..10).map(|i| format!("part {i}\n")).collect::<String>()).unwrap();
    let model = dir.path().join("tiny.safetensors");
    let official = repo("core/tests/fixtures/tiny/official.pth");
    let converted = run(&["convert", official.to_str().unwrap(), "--out", model.to_str().unwrap(), "--labels", labels.to_str().unwrap()]);
    assert!(converted.status.success(), "{}", String::from_utf8_lossy(&converted.stderr));
    let image = repo("examples/images/chelsea.png");
    let args = ["classify", image.to_str().unwrap(), "--model", model.to_str().unwrap(), "--backend", "cpu", "--json", "--top-k", "10"];
    let all = json(&args);
    let top = all["results"][0]["top"].as_array().unwrap();
    assert_eq!(top.len(), 10);
    assert!(top.iter().all(|p| p["label"] == format!("part {}", p["class_index"])), "{top:?}");
    let threshold = top[1]["score"].as_f64().unwrap();
    let kept = json(&[&args[..], &["--threshold", &threshold.to_string(), "--embedding"]].concat());
    let result = &kept["results"][0];
    assert!(result["top"].as_array().unwrap().iter().all(|p| p["score"].as_f64().unwrap() >= threshold));
    assert_eq!(result["embedding"].as_array().unwrap().len(), 32, "the tiny model's last width");
}
