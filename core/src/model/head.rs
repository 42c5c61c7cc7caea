//! The classifier: timm `forward_head` after `forward_features`' final `norm`:
//! `(head(x̄) + head_dist(x̄)) / 2` with `x̄` the spatial mean of `norm(x)`.
//!
//! All of it is affine, so it folds at load time into one linear layer on the spatial mean of
//! the last stage: the BatchNorm commutes with the mean, and the two heads average into one.
//! That layer runs as a 1x1 convolution on the pooled `[B, C, 1, 1]` map ([`fused`]), so each
//! backend runs it on its own convolution kernel, and on the CPU an image's logits never
//! depend on the batch it is in. The embedding (timm `forward_head(x, pre_logits=True)`, what
//! `num_classes=0` returns) is the norm applied to that mean: one scale and shift per channel.
//! Both come out in `f32` whatever the network's precision.

use burn::tensor::{FloatDType, Tensor, TensorData};

use super::conv::{BatchNorm, Conv, HostConv};
use super::placement::Placement;
use crate::error::Result;
use crate::fused;
use crate::weights::state_dict::{HostTensor, StateDict};

/// Norm + pooled distillation-averaged classifier.
#[derive(Debug, Clone)]
pub struct ClassifierHead {
    /// `(head + head_dist) / 2` with the norm folded in, as a 1x1 convolution `[classes,
    /// channels, 1, 1]`.
    classifier: Conv,
    /// `[1, channels]`: the norm's `gamma / sqrt(var + eps)`.
    norm_scale: Tensor<2>,
    /// `[1, channels]`: the norm's `beta - mean * scale`.
    norm_shift: Tensor<2>,
}

/// Logits `[B, classes]`, and the pooled features `[B, channels]` when asked for.
#[derive(Debug, Clone)]
pub struct HeadOutput {
    /// `(head + head_dist) / 2`.
    pub logits: Tensor<2>,
    /// `norm(x)` averaged over the map.
    pub embedding: Option<Tensor<2>>,
}

impl ClassifierHead {
    /// Loads `norm`, `head`, `head_dist` and folds them.
    pub fn load(
        state: &mut StateDict,
        device: &Placement,
        channels: usize,
        classes: usize,
    ) -> Result<ClassifierHead> {
        let norm = BatchNorm::load(state, "norm", channels)?;
        let head_weight = state.take("head.weight", &[classes, channels])?.values;
        let head_bias = state.take("head.bias", &[classes])?.values;
        let dist_weight = state.take("head_dist.weight", &[classes, channels])?.values;
        let dist_bias = state.take("head_dist.bias", &[classes])?.values;

        let (scale, beta) = norm.scale_shift();
        let mut weight = vec![0f32; classes * channels];
        let mut bias = Vec::with_capacity(classes);
        for class in 0..classes {
            let mut b = (f64::from(head_bias[class]) + f64::from(dist_bias[class])) / 2.0;
            for c in 0..channels {
                let i = class * channels + c;
                let w = (f64::from(head_weight[i]) + f64::from(dist_weight[i])) / 2.0;
                weight[i] = (w * f64::from(scale[c])) as f32;
                let shift = f64::from(beta[c]) - f64::from(norm.running_mean[c]) * f64::from(scale[c]);
                b += w * shift;
            }
            bias.push(b as f32);
        }
        let norm_shift: Vec<f32> = (beta.iter().zip(&norm.running_mean).zip(&scale))
            .map(|((&b, &m), &s)| (f64::from(b) - f64::from(m) * f64::from(s)) as f32)
            .collect();
        let classifier = HostConv { weight: HostTensor::new(vec![classes, channels, 1, 1], weight), bias, stride: 1, groups: 1 };
        Ok(ClassifierHead {
            classifier: classifier.to_device(device),
            norm_scale: Tensor::from_data(TensorData::new(scale, [1, channels]), &device.device),
            norm_shift: Tensor::from_data(TensorData::new(norm_shift, [1, channels]), &device.device),
        })
    }

    /// `[B, C, H, W] -> [B, classes]` logits.
    pub fn forward(&self, x: Tensor<4>) -> Tensor<2> {
        self.forward_with(x, false).logits
    }

    /// Logits, and the embedding when `embed` is set.
    pub fn forward_with(&self, x: Tensor<4>, embed: bool) -> HeadOutput {
        let [batch, channels, _, _] = x.dims();
        let pooled = fused::spatial_mean(x);
        let embedding =
            embed.then(|| fused::convert(pooled.clone().reshape([batch, channels]), FloatDType::F32) * self.norm_scale.clone() + self.norm_shift.clone());
        let logits = self.classifier.forward(pooled);
        let classes = logits.dims()[1];
        HeadOutput { logits: fused::convert(logits.reshape([batch, classes]), FloatDType::F32), embedding }
    }
}
