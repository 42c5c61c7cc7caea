//! The GPU self-check behind `BackendChoice::Auto`/`Gpu`: a small conv + GELU + matmul run on
//! the device must agree with the same computation done on the host, so a driver that
//! initialises but computes wrongly is not used. The convolution is the network's own fused
//! 1x1 convolution with GELU ([`fused::conv_bias_act`]), so the kernel it compiles is one the
//! first inference needs anyway.

use burn::tensor::{Device, Tensor, TensorData};

use crate::fused;
use crate::weights::seeded::uniform;

const CHANNELS: usize = 8;
const SIDE: usize = 6;

/// Runs the check; `Err` says what went wrong.
pub fn run(device: &Device) -> Result<(), String> {
    let input = uniform("self-check input", CHANNELS * SIDE * SIDE, 1, (-1.0, 1.0));
    let weight = uniform("self-check weight", CHANNELS * CHANNELS, 1, (-0.5, 0.5));
    let expected = host(&input, &weight);
    let check = std::panic::catch_unwind(|| {
        let x: Tensor<4> = Tensor::from_data(TensorData::new(input.clone(), [1, CHANNELS, SIDE, SIDE]), device);
        let w: Tensor<4> = Tensor::from_data(TensorData::new(weight.clone(), [CHANNELS, CHANNELS, 1, 1]), device);
        let bias: Tensor<1> = Tensor::zeros([CHANNELS], device);
        let y = fused::conv_bias_act(x, &w, &bias, [1, 1], true);
        let y = y.reshape([CHANNELS, SIDE * SIDE]);
        let gram = y.clone().matmul(y.transpose());
        gram.try_into_data().map_err(|e| format!("{e:?}"))?.try_to_vec::<f32>().map_err(|e| format!("{e:?}"))
    });
    let got = match check {
        Ok(result) => result?,
        Err(_) => return Err("the device panicked running the self-check".into()),
    };
    let worst = got.iter().zip(&expected).map(|(a, b)| (a - b).abs() / b.abs().max(1.0)).fold(0.0f32, f32::max);
    if got.len() == expected.len() && worst <= 1e-3 {
        Ok(())
    } else {
        Err(format!("self-check result differs from the host by {worst:e}"))
    }
}

/// The same computation on the host, in f64.
fn host(input: &[f32], weight: &[f32]) -> Vec<f32> {
    let plane = SIDE * SIDE;
    let gelu = |x: f64| 0.5 * x * (1.0 + erf(x / std::f64::consts::SQRT_2));
    let y: Vec<f64> = (0..CHANNELS * plane)
        .map(|i| {
            let (o, p) = (i / plane, i % plane);
            gelu((0..CHANNELS).map(|c| f64::from(weight[o * CHANNELS + c]) * f64::from(input[c * plane + p])).sum())
        })
        .collect();
    (0..CHANNELS * CHANNELS)
        .map(|i| {
            let (a, b) = (i / CHANNELS, i % CHANNELS);
            (0..plane).map(|p| y[a * plane + p] * y[b * plane + p]).sum::<f64>() as f32
        })
        .collect()
}

/// Abramowitz-Stegun 7.1.26 (|error| < 1.5e-7, ample for a 1e-3 check).
fn erf(x: f64) -> f64 {
    let t = 1.0 / (1.0 + 0.327_591_1 * x.abs());
    let poly = t * (0.254_829_592 + t * (-0.284_496_736 + t * (1.421_413_741 + t * (-1.453_152_027 + t * 1.061_405_429))));
    (1.0 - poly * (-x * x).exp()).copysign(x)
}
