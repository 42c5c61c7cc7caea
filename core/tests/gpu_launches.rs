//! Kernel launches per forward pass on the GPU path: every kernel issued during one warm
//! forward of a batch of one (ours and anything burn still launches), counted by CubeCL's
//! launch observer on the issuing thread. The count depends on the network and the kernels'
//! dispatch, not on the adapter (llvmpipe counts what a phone's GPU would run), so CI holds
//! S0 to it: a change that adds launches fails here. The other variants are `#[ignore]`d
//! (minutes on llvmpipe); `--include-ignored --nocapture` prints all four.

mod common;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use common::{gpu_backend, seeded_images, values};
use cubecl::logging::{LaunchObservation, LaunchObserver};
use efficientformer::model::placement::Placement;
use efficientformer::weights::seeded::{self, DEFAULT_SEED};
use efficientformer::{EfficientFormerV2, Precision, Variant};

/// Launches per kernel name.
#[derive(Default)]
struct Launches(Mutex<BTreeMap<&'static str, usize>>);

impl LaunchObserver for Launches {
    fn launched(&self, kernel: &'static str) {
        *self.0.lock().unwrap().entry(kernel).or_default() += 1;
    }
}

/// The launches of one warm forward pass of `variant` in what `precision` resolves to, after
/// one that compiles (and tunes).
fn launches(variant: Variant, precision: Precision) -> usize {
    // The observer sees the whole process's launches: one count at a time.
    static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());
    let _counting = ONE_AT_A_TIME.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let backend = gpu_backend();
    let device = backend.device().unwrap();
    let precision = precision.resolve(backend, &device);
    let config = variant.config().unwrap();
    let model = EfficientFormerV2::load(seeded::state_dict(&config, DEFAULT_SEED), Placement { device, precision }).unwrap();
    let forward = || values(model.forward(seeded_images(backend, 1)).unwrap());
    forward();
    let counts = Arc::new(Launches::default());
    let observation = LaunchObservation::new(counts.clone());
    forward();
    drop(observation);
    let counts = counts.0.lock().unwrap();
    let total = counts.values().sum();
    println!("{variant} on {backend} in {}: {total} launches per forward", precision.name());
    for (kernel, count) in counts.iter() {
        println!("  {count:4} {}", cubecl::config::type_name_format(kernel, cubecl::config::TypeNameFormatLevel::Short));
    }
    total
}

#[test]
fn s0_launches_per_forward() {
    let total = launches(Variant::S0, Precision::F32);
    assert!(total <= S0_LAUNCHES, "S0: {total} launches per forward, more than the {S0_LAUNCHES} it took");
}

/// `f16` adds two: the input's conversion to `f16` and the logits' back to `f32`.
#[test]
fn s0_launches_per_forward_in_f16() {
    let total = launches(Variant::S0, Precision::F16);
    assert!(total <= S0_LAUNCHES + 2, "S0 in f16: {total} launches per forward, more than the {} it took", S0_LAUNCHES + 2);
}

/// What S0's forward pass launches today; lower it when a fusion removes launches.
const S0_LAUNCHES: usize = 57;

#[test]
#[ignore = "minutes on llvmpipe"]
fn s1_s2_l_launches_per_forward() {
    for variant in [Variant::S1, Variant::S2, Variant::L] {
        launches(variant, Precision::F32);
    }
}
