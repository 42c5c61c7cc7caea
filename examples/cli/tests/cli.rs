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
