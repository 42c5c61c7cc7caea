//! One forward pass per variant per CPU backend, batch 1, 224x224.
//! `cargo bench --bench forward [-- VARIANT...]`
//!
//! A plain harness (criterion's dependency tree would change the features burn is built with
//! and force a second 25-minute burn build): 10 warm-up passes, then 50 timed ones; prints
//! mean, median and min per variant and backend, and the flex/ndarray ratio.

use std::time::{Duration, Instant};

use efficientformer::burn::tensor::{Tensor, TensorData};
use efficientformer::weights::seeded::{self, DEFAULT_SEED};
use efficientformer::{Backend, EfficientFormerV2, Variant};

const WARMUP: usize = 10;
const RUNS: usize = 50;

fn time_forward(backend: Backend, variant: Variant) -> Vec<Duration> {
    let device = backend.device().expect("CPU backends always open");
    let state = seeded::state_dict(&variant.config().expect("published"), DEFAULT_SEED);
    let model = EfficientFormerV2::load(state, &device).expect("seeded weights load");
    let input = seeded::input(1, DEFAULT_SEED);
    let pass = || {
        let images = Tensor::<4>::from_data(TensorData::new(input.clone(), [1, 3, 224, 224]), &device);
        model.forward(images).expect("valid input").into_data()
    };
    (0..WARMUP).for_each(|_| drop(pass()));
    (0..RUNS)
        .map(|_| {
            let start = Instant::now();
            drop(pass());
            start.elapsed()
        })
        .collect()
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn main() {
    let filter: Vec<Variant> = std::env::args().skip(1).filter_map(|a| Variant::from_name(&a)).collect();
    let variants = if filter.is_empty() { Variant::PUBLISHED.to_vec() } else { filter };
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!("forward pass, batch 1, 224x224, {threads} threads, {WARMUP} warm-up + {RUNS} timed runs");
    println!("{:<8} {:<8} {:>9} {:>9} {:>9}", "variant", "backend", "mean ms", "median", "min");
    for variant in variants {
        let mut means = Vec::new();
        for backend in Backend::all().into_iter().filter(|b| !b.is_gpu()) {
            let mut times = time_forward(backend, variant);
            times.sort();
            let mean = times.iter().map(|&t| ms(t)).sum::<f64>() / times.len() as f64;
            println!("{:<8} {:<8} {mean:>9.2} {:>9.2} {:>9.2}", variant.name(), backend.name(), ms(times[RUNS / 2]), ms(times[0]));
            means.push((backend, mean));
        }
        if let [(a, mean_a), (b, mean_b)] = means[..] {
            println!("{:<8} {b}/{a} time ratio {:.2}", variant.name(), mean_b / mean_a);
        }
    }
}
