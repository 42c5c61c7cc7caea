//! Seeded, non-trivial weights and inputs, bit-identical to `core/reference/seeded_weights.py`
//! (which filled the PyTorch models that produced the committed reference outputs).
//!
//! Each tensor has its own counter-based stream: seed = FNV-1a 64 of its timm key XOR the
//! global seed; element `i` is splitmix64's output function of state `seed + (i+1)·γ`, turned
//! into `u = (z >> 11)·2⁻⁵³ ∈ [0, 1)`, and the value is `f32(lo + (hi − lo)·u)` computed in
//! `f64`. The ranges ([`value_range`]) keep every branch visible in the logits: layer scales
//! 0.1–0.5 (timm's 1e-5 init would hide a broken token mixer), attention biases of order one,
//! BatchNorm statistics far from identity.
//!
//! These weights are untrained: they exist so that the SDK runs without a download and so
//! that Rust and PyTorch can be compared exactly. Predictions from them mean nothing.

use std::collections::BTreeMap;

use super::spec::expected_tensors;
use super::state_dict::{HostTensor, StateDict, WeightDtype};
use crate::config::Config;

/// The global seed of the committed fixtures and of the embedded default model.
pub const DEFAULT_SEED: u64 = 0x5EED_EF2_0000_0001;
const GOLDEN_GAMMA: u64 = 0x9E37_79B9_7F4A_7C15;

/// FNV-1a, 64-bit.
pub fn fnv1a64(text: &str) -> u64 {
    text.bytes().fold(0xCBF2_9CE4_8422_2325, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01B3))
}

fn splitmix64(state: u64) -> u64 {
    let mut z = state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// `count` values uniform in `[lo, hi)` from the stream of `key`.
pub fn uniform(key: &str, count: usize, seed: u64, (lo, hi): (f64, f64)) -> Vec<f32> {
    let base = fnv1a64(key) ^ seed;
    (1..=count as u64)
        .map(|i| {
            let z = splitmix64(base.wrapping_add(i.wrapping_mul(GOLDEN_GAMMA)));
            let u = (z >> 11) as f64 * (1.0 / (1u64 << 53) as f64);
            (lo + (hi - lo) * u) as f32
        })
        .collect()
}

fn is_norm_module(module: &str) -> bool {
    module.ends_with(".bn") || module == "norm"
}

/// The `[lo, hi)` a tensor is drawn from (mirrors `value_range` in `seeded_weights.py`).
pub fn value_range(key: &str, shape: &[usize]) -> (f64, f64) {
    let (module, leaf) = key.rsplit_once('.').unwrap_or(("", key));
    match leaf {
        "running_mean" => (-0.5, 0.5),
        "running_var" => (0.5, 2.0),
        "gamma" => (0.1, 0.5),
        "attention_biases" => (-1.0, 1.0),
        "weight" if is_norm_module(module) => (0.5, 1.5),
        "bias" if is_norm_module(module) => (-0.2, 0.2),
        "bias" => (-0.1, 0.1),
        _ => {
            let fan_in: usize = shape[1..].iter().product();
            let bound = (3.0 / fan_in as f64).sqrt();
            (-bound, bound)
        }
    }
}

/// Every tensor of `config`, seeded.
pub fn state_dict(config: &Config, seed: u64) -> StateDict {
    let tensors: BTreeMap<String, HostTensor> = expected_tensors(config)
        .into_iter()
        .map(|spec| {
            let count = spec.shape.iter().product();
            let values = uniform(&spec.key, count, seed, value_range(&spec.key, &spec.shape));
            (spec.key, HostTensor::new(spec.shape, values))
        })
        .collect();
    StateDict { tensors, dtype: WeightDtype::F32, metadata: Default::default() }
}

/// The seeded test images, `[batch, 3, 224, 224]` uniform in `[-2, 2)` (the range of
/// normalised pixels), as the reference generator's `seeded_input`.
pub fn input(batch: usize, seed: u64) -> Vec<f32> {
    let side = crate::config::IMAGE_SIZE;
    uniform("input", batch * 3 * side * side, seed, (-2.0, 2.0))
}
