//! One classifier shared by 8 threads gives the results of sequential calls.

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
