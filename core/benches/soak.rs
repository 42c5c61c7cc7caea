//! Soak: many threads hammer one shared [`Classifier`] with valid and invalid inputs
//! interleaved, while a sampler records the process's resident memory.
//! `cargo bench --bench soak [-- THREADS CALLS_PER_THREAD]` (default 8 x 500).
//!
//! Not a CI test (it runs for minutes on 2 cores): it shows that a long-lived classifier
//! neither leaks nor wedges under concurrent misuse. Prints calls/s, outcomes by error code,
//! and RSS at start, peak and end.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use efficientformer::Backend;
use efficientformer::classify::{BackendChoice, Classifier, ClassifierOptions, PixelBuffer, PixelFormat};

/// Resident set size in bytes (Linux `/proc/self/statm`; 0 elsewhere).
fn rss() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: u64 = statm.split_whitespace().nth(1).and_then(|p| p.parse().ok()).unwrap_or(0);
    pages * 4096
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

/// One call of the mix: `index` picks the kind, so every thread cycles through all of them.
/// Returns the error code (0 for success).
fn call(classifier: &Classifier, index: usize, photo: &[u8], pixels: &[u8]) -> u32 {
    let buffer = |data, width, height, row_stride, orientation| PixelBuffer {
        data,
        width,
        height,
        row_stride,
        format: PixelFormat::Rgba8,
        orientation,
        crop: None,
    };
    let result = match index % 8 {
        0 => classifier.classify_encoded(photo).map(drop),
        1 => classifier.classify_encoded(&photo[..photo.len() / 3]).map(drop),
        2 => classifier.classify_pixels(&buffer(pixels, 320, 240, 320 * 4, 6)).map(drop),
        3 => classifier.classify_pixels(&buffer(&pixels[..1000], 320, 240, 320 * 4, 1)).map(drop),
        4 => classifier.classify_pixels(&buffer(pixels, 320, 240, 100, 1)).map(drop),
        5 => classifier.classify_tensor(&[f32::NAN; 3 * 224 * 224], 1).map(drop),
        6 => classifier.classify_encoded(b"not an image at all").map(drop),
        _ => classifier.classify_tensor(&vec![0.25; 3 * 224 * 224], 1).map(drop),
    };
    result.map_or_else(|e| e.code(), |()| 0)
}

fn main() {
    let args: Vec<usize> = std::env::args().skip(1).filter_map(|a| a.parse().ok()).collect();
    let threads = args.first().copied().unwrap_or(8);
    let calls = args.get(1).copied().unwrap_or(500);
    let photo = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/images/chelsea.png")).unwrap();
    let pixels: Vec<u8> = (0..320 * 240 * 4).map(|i| (i * 7 % 251) as u8).collect();
    let options = ClassifierOptions { backend: BackendChoice::Exact(Backend::Flex), ..ClassifierOptions::default() };
    let classifier = Classifier::embedded_default(options).expect("the embedded model loads");
    call(&classifier, 0, &photo, &pixels);

    let start_rss = rss();
    let done = Arc::new(AtomicBool::new(false));
    let samples = Arc::new(Mutex::new(vec![start_rss]));
    let sampler = {
        let (done, samples) = (done.clone(), samples.clone());
        std::thread::spawn(move || {
            while !done.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(250));
                samples.lock().unwrap().push(rss());
            }
        })
    };
    let start = Instant::now();
    let outcomes: BTreeMap<u32, usize> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|t| {
                let (classifier, photo, pixels) = (&classifier, &photo, &pixels);
                scope.spawn(move || {
                    let mut counts = BTreeMap::new();
                    for i in 0..calls {
                        *counts.entry(call(classifier, i + t, photo, pixels)).or_insert(0) += 1;
                    }
                    counts
                })
            })
            .collect();
        let mut total = BTreeMap::new();
        for worker in workers {
            for (code, n) in worker.join().expect("no call panics") {
                *total.entry(code).or_insert(0) += n;
            }
        }
        total
    });
    let elapsed = start.elapsed();
    done.store(true, Ordering::Relaxed);
    sampler.join().unwrap();
    let samples = samples.lock().unwrap();
    let total: usize = outcomes.values().sum();

    let pool = classifier.info().cpu_threads.map_or("the global rayon pool".into(), |n| format!("{n} inference threads"));
    println!("soak: {threads} threads x {calls} calls on one classifier (S0, flex, {pool})");
    println!("{total} calls in {:.1} s: {:.1} calls/s", elapsed.as_secs_f64(), total as f64 / elapsed.as_secs_f64());
    for (code, n) in &outcomes {
        println!("  code {code:>2} ({}): {n}", if *code == 0 { "ok" } else { "error" });
    }
    let peak = samples.iter().copied().max().unwrap_or(0);
    let end = samples.last().copied().unwrap_or(0);
    println!("RSS start {:.1} MiB, peak {:.1} MiB, end {:.1} MiB ({} samples)", mib(start_rss), mib(peak), mib(end), samples.len());
}
