//! One classifier shared by 8 threads gives the results of sequential calls; the thread count
//! and the batch an image is in do not change its logits by a bit.

mod common;

use std::sync::Arc;

use efficientformer::classify::{BackendChoice, Classifier, ClassifierOptions};
use efficientformer::Backend;

fn assert_send_sync<T: Send + Sync>() {}

#[test]
fn eight_threads_agree_with_sequential_calls() {
    assert_send_sync::<Classifier>();
    let options = ClassifierOptions { backend: BackendChoice::Exact(Backend::Flex), cpu_threads: Some(2), ..ClassifierOptions::default() };
    let classifier = Arc::new(Classifier::embedded_default(options).unwrap());
    let images: Vec<Vec<u8>> = ["chelsea.png", "rocket.jpg"]
        .iter()
        .map(|name| std::fs::read(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/images").join(name)).unwrap())
        .collect();
    let sequential: Vec<Vec<f32>> = images.iter().map(|img| classifier.classify_encoded(img).unwrap().logits).collect();
    let threads: Vec<_> = (0..8)
        .map(|t| {
            let classifier = Arc::clone(&classifier);
            let images = images.clone();
            std::thread::spawn(move || {
                (0..3).map(|round| {
                    let i = (t + round) % images.len();
                    (i, classifier.classify_encoded(&images[i]).unwrap().logits)
                }).collect::<Vec<_>>()
            })
        })
        .collect();
    for thread in threads {
        for (i, logits) in thread.join().unwrap() {
            assert_eq!(logits, sequential[i], "image {i}: concurrent result differs");
        }
    }
}

/// The CPU kernels sum every output in an order fixed by the layer alone (see
/// `kernels::microkernel`; the head's mean is `kernels::pool`'s), so 1, 2, 3 or 4 threads,
/// alone or in a batch of two, agree exactly, logits and embedding. (On aarch64 the head once
/// ran through burn-flex's mean and `gemm`, whose results there changed with the batch.)
#[test]
fn thread_count_and_batch_do_not_change_the_logits() {
    let image = 3 * 224 * 224;
    let tensor: Vec<f32> = (0..2 * image).map(|i| (i % 17) as f32 / 17.0 - 0.5).collect();
    let logits = |threads: usize, batch: usize| {
        let options = ClassifierOptions {
            backend: BackendChoice::Exact(Backend::Flex),
            cpu_threads: Some(threads),
            embedding: true,
            ..ClassifierOptions::default()
        };
        let classifier = Classifier::embedded_default(options).unwrap();
        let first = classifier.classify_tensor(&tensor[..batch * image], batch).unwrap().swap_remove(0);
        (first.logits, first.embedding)
    };
    let reference = logits(1, 1);
    for threads in [1, 2, 3, 4] {
        for batch in [1, 2] {
            assert_eq!(logits(threads, batch), reference, "{threads} threads, batch {batch}");
        }
    }
}
