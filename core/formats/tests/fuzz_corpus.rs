//! Every input the fuzzers saved (`fuzz/corpus/<target>/`, minimised) and every input that once
//! crashed a target (`fuzz/regressions/<target>/`), plus the fixtures the corpora were seeded
//! from, run through the fuzz target bodies: the sanitizer build stays out of CI, the inputs it
//! found do not.

use std::path::{Path, PathBuf};

use efficientformer_formats::fuzzing;

fn files(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else { return Vec::new() };
    entries.map(|e| e.unwrap().path()).filter(|p| p.is_file()).collect()
}

/// Runs `body` on every saved input of `target` and on `seeds`; fails naming the input that
/// panicked, and fails if there is nothing to replay (a moved corpus must not pass silently).
fn replay(target: &str, body: fn(&[u8]), seeds: &[&str]) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let fuzz = root.join("fuzz");
    let mut inputs = files(&fuzz.join("corpus").join(target));
    let saved = inputs.len();
    inputs.extend(files(&fuzz.join("regressions").join(target)));
    for seed in seeds {
        inputs.extend(files(&root.join(seed)));
    }
    assert!(saved > 0, "no saved corpus for {target} under {}", fuzz.display());
    for input in &inputs {
        let data = std::fs::read(input).unwrap();
        let outcome = std::panic::catch_unwind(|| body(&data));
        assert!(outcome.is_ok(), "{target} panicked on {}", input.display());
    }
}

#[test]
fn model_bytes_corpus() {
    replay("model_bytes", fuzzing::model_bytes, &["../tests/fixtures/tiny"]);
}

#[test]
fn encoded_image_corpus() {
    replay("encoded_image", fuzzing::encoded_image, &["../../examples/images", "../tests/fixtures/classify"]);
}

#[test]
fn pixel_buffer_corpus() {
    replay("pixel_buffer", fuzzing::pixel_buffer, &[]);
}

#[test]
fn yuv_frame_corpus() {
    replay("yuv_frame", fuzzing::yuv_frame, &[]);
}
