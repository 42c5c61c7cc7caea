//! The classifier: timm `forward_head` after `forward_features`' final `norm`:
//! `(head(x̄) + head_dist(x̄)) / 2` with `x̄` the spatial mean of `norm(x)`.
//!
//! All of it is affine, so it folds at load time into one linear layer on the spatial mean of
//! the last stage: the BatchNorm commutes with the mean, and the two heads average into one.

use burn::tensor::module::linear;
use burn::tensor::{Device, Tensor, TensorData};

use super::conv::BatchNorm;
use crate::error::Result;
use crate::weights::state_dict::StateDict;

/// Norm + pooled distillation-averaged classifier.
#[derive(Debug, Clone)]
pub struct ClassifierHead {
    /// `[channels, classes]` (burn's `linear` takes `x @ w`).
    weight: Tensor<2>,
    bias: Tensor<1>,
}

impl ClassifierHead {
    /// Loads `norm`, `head`, `head_dist` and folds them.
    pub fn load(
        state: &mut StateDict,
        device: &Device,
        channels: usize,
        classes: usize,
    ) -> Result<ClassifierHead> {
        let norm = BatchNorm::load(state, "norm", channels)?;
        let head_weight = state.take("head.weight", &[classes, channels])?.values;
        let head_bias = state.take("head.bias", &[classes])?.values;
        let dist_weight = state.take("head_dist.weight", &[classes, channels])?.values;
        let dist_bias = state.take("head_dist.bias", &[classes])?.values;

        let (scale, beta) = norm.scale_shift();
        let mut weight = vec![0f32; channels * classes];
        let mut bias = Vec::with_capacity(classes);
        for class in 0..classes {
            let mut b = (f64::from(head_bias[class]) + f64::from(dist_bias[class])) / 2.0;
            for c in 0..channels {
                let i = class * channels + c;
                let w = (f64::from(head_weight[i]) + f64::from(dist_weight[i])) / 2.0;
                weight[c * classes + class] = (w * f64::from(scale[c])) as f32;
                let shift = f64::from(beta[c]) - f64::from(norm.running_mean[c]) * f64::from(scale[c]);
                b += w * shift;
            }
            bias.push(b as f32);
        }
        Ok(ClassifierHead {
            weight: Tensor::from_data(TensorData::new(weight, [channels, classes]), device),
            bias: Tensor::from_data(TensorData::new(bias, [classes]), device),
        })
    }

    /// `[B, C, H, W] -> [B, classes]` logits.
    pub fn forward(&self, x: Tensor<4>) -> Tensor<2> {
        let [batch, channels, _, _] = x.dims();
        let pooled = x.mean_dims(&[2, 3]).reshape([batch, channels]);
        linear(pooled, self.weight.clone(), Some(self.bias.clone()))
    }
}
