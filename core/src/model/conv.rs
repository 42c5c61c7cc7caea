//! Convolutions with their BatchNorm folded in at load time (timm `ConvNorm`/`ConvNormAct`),
//! as candle-transformers' `repvgg.rs` does in `fuse_conv_bn`: the forward pass runs no
//! normalisation op.

use burn::tensor::{Device, Tensor, TensorData};

use super::placement::Placement;
use crate::config::BATCH_NORM_EPS;
use crate::fused;
use crate::error::Result;
use crate::weights::state_dict::{HostTensor, StateDict};

/// A convolution on the host, before it is placed on a device; the load-time folds act here.
#[derive(Debug, Clone)]
pub struct HostConv {
    /// `[out, in / groups, k, k]`.
    pub weight: HostTensor,
    /// `[out]`.
    pub bias: Vec<f32>,
    /// Stride (both axes).
    pub stride: usize,
    /// Groups (`out` for a depthwise convolution).
    pub groups: usize,
}

impl HostConv {
    /// Reads `{prefix}.weight` and `{prefix}.bias` of an `nn.Conv2d`.
    pub fn load(
        state: &mut StateDict,
        prefix: &str,
        [out, input, kernel]: [usize; 3],
        stride: usize,
        groups: usize,
    ) -> Result<HostConv> {
        let weight = state.take(&format!("{prefix}.weight"), &[out, input / groups, kernel, kernel])?;
        let bias = state.take(&format!("{prefix}.bias"), &[out])?.values;
        Ok(HostConv { weight, bias, stride, groups })
    }

    /// Reads a timm `ConvNorm` (`{prefix}.conv`, `{prefix}.bn`) and folds the BatchNorm.
    pub fn load_conv_norm(
        state: &mut StateDict,
        prefix: &str,
        shape: [usize; 3],
        stride: usize,
        groups: usize,
    ) -> Result<HostConv> {
        let mut conv = HostConv::load(state, &format!("{prefix}.conv"), shape, stride, groups)?;
        let norm = BatchNorm::load(state, &format!("{prefix}.bn"), shape[0])?;
        conv.fold(&norm);
        Ok(conv)
    }

    /// Output channels.
    pub fn out_channels(&self) -> usize {
        self.weight.shape[0]
    }

    /// Multiplies output channel `o` by `scale[o]`: `conv(x) * s == conv_{w*s, b*s}(x)`.
    pub fn scale_outputs(&mut self, scale: &[f32]) {
        let per_output = self.weight.values.len() / self.out_channels();
        for (o, &s) in scale.iter().enumerate() {
            self.weight.values[o * per_output..(o + 1) * per_output]
                .iter_mut()
                .for_each(|w| *w *= s);
            self.bias[o] *= s;
        }
    }

    /// `bn(conv(x))` as one convolution: `w' = w·γ/√(σ²+ε)`, `b' = (b−μ)·γ/√(σ²+ε) + β`.
    pub fn fold(&mut self, norm: &BatchNorm) {
        let (scale, shift) = norm.scale_shift();
        for (bias, mean) in self.bias.iter_mut().zip(&norm.running_mean) {
            *bias -= mean;
        }
        self.scale_outputs(&scale);
        for (bias, shift) in self.bias.iter_mut().zip(shift) {
            *bias += shift;
        }
    }

    /// The weight on `device`, in `f32`.
    pub fn weight_on(&self, device: &Device) -> Tensor<4> {
        Tensor::from_data(TensorData::new(self.weight.values.clone(), self.weight.shape.clone()), device)
    }

    /// The bias on `device`, in `f32`.
    pub fn bias_on(&self, device: &Device) -> Tensor<1> {
        Tensor::from_data(TensorData::new(self.bias.clone(), [self.bias.len()]), device)
    }

    /// Places the convolution on `placement`'s device in its precision, the weight laid out for
    /// the backend's kernels.
    pub fn to_device(&self, placement: &Placement) -> Conv {
        Conv {
            weight: fused::pack_conv_weight(placement.cast(self.weight_on(placement))),
            bias: placement.cast(self.bias_on(placement)),
            stride_groups: [self.stride, self.groups],
        }
    }
}

/// An inference BatchNorm's parameters.
#[derive(Debug, Clone)]
pub struct BatchNorm {
    /// γ.
    pub weight: Vec<f32>,
    /// β.
    pub bias: Vec<f32>,
    /// μ.
    pub running_mean: Vec<f32>,
    /// σ².
    pub running_var: Vec<f32>,
}

impl BatchNorm {
    /// Reads `{prefix}.weight`, `.bias`, `.running_mean`, `.running_var`.
    pub fn load(state: &mut StateDict, prefix: &str, channels: usize) -> Result<BatchNorm> {
        let mut read = |leaf: &str| Ok(state.take(&format!("{prefix}.{leaf}"), &[channels])?.values);
        Ok(BatchNorm {
            weight: read("weight")?,
            bias: read("bias")?,
            running_mean: read("running_mean")?,
            running_var: read("running_var")?,
        })
    }

    /// Per-channel `(γ/√(σ²+ε), β)`, so that `bn(x) = (x − μ)·scale + shift`.
    pub fn scale_shift(&self) -> (Vec<f32>, Vec<f32>) {
        let scale = self
            .weight
            .iter()
            .zip(&self.running_var)
            .map(|(&g, &v)| (f64::from(g) / (f64::from(v) + BATCH_NORM_EPS).sqrt()) as f32)
            .collect();
        (scale, self.bias.clone())
    }
}

/// A convolution on a device, padding `k / 2` on every side (timm's default for odd kernels),
/// run through [`fused::conv_bias_act`].
#[derive(Debug, Clone)]
pub struct Conv {
    weight: Tensor<4>,
    bias: Tensor<1>,
    stride_groups: [usize; 2],
}

impl Conv {
    /// `conv2d(x, weight, bias)` (timm `ConvNorm`).
    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        fused::conv_bias_act(x, &self.weight, &self.bias, self.stride_groups, false)
    }

    /// `gelu(conv2d(x, weight, bias))` (timm `ConvNormAct` with `nn.GELU`).
    pub fn forward_gelu(&self, x: Tensor<4>) -> Tensor<4> {
        fused::conv_bias_act(x, &self.weight, &self.bias, self.stride_groups, true)
    }

    /// `residual + conv2d(x, weight, bias)`: a branch's last convolution and its residual add.
    pub fn forward_residual(&self, x: Tensor<4>, residual: Tensor<4>) -> Tensor<4> {
        fused::conv_bias_add(x, &self.weight, &self.bias, residual, self.stride_groups)
    }

    /// The weight (as [`fused::pack_conv_weight`] laid it out) and the folded bias, for a fused
    /// op that runs this convolution among others.
    pub fn weight_bias(&self) -> (&Tensor<4>, &Tensor<1>) {
        (&self.weight, &self.bias)
    }
}

#[cfg(all(test, feature = "cpu"))]
mod tests {
    use burn::tensor::module::batch_norm;

    use super::*;
    use crate::weights::seeded::uniform;

    fn host(key: &str, shape: &[usize], range: (f64, f64)) -> HostTensor {
        HostTensor::new(shape.to_vec(), uniform(key, shape.iter().product(), 7, range))
    }

    fn on(device: &Device, t: &HostTensor) -> Tensor<1> {
        Tensor::from_data(TensorData::new(t.values.clone(), [t.values.len()]), device)
    }

    /// Folding changes no output beyond rounding: `bn(conv(x))` with burn's own batch-norm op
    /// against the folded convolution, for a dense and a depthwise kernel.
    #[test]
    fn folded_batch_norm_equals_conv_then_batch_norm() {
        let device = Placement::f32(Device::flex());
        for (groups, in_per_group) in [(1, 6), (6, 1)] {
            let weight = host("w", &[6, in_per_group, 3, 3], (-0.5, 0.5));
            let bias = host("b", &[6], (-0.1, 0.1));
            let gamma = host("g", &[6], (0.5, 1.5));
            let beta = host("beta", &[6], (-0.2, 0.2));
            let mean = host("m", &[6], (-0.5, 0.5));
            let var = host("v", &[6], (0.5, 2.0));
            let x: Tensor<4> = Tensor::from_data(
                TensorData::new(uniform("x", 2 * 6 * 9 * 9, 7, (-2.0, 2.0)), [2, 6, 9, 9]),
                &device.device,
            );
            let conv = HostConv { weight, bias: bias.values.clone(), stride: 1, groups };
            let reference = batch_norm(
                conv.to_device(&device).forward(x.clone()),
                on(&device, &gamma),
                on(&device, &beta),
                on(&device, &mean),
                on(&device, &var),
                BATCH_NORM_EPS,
            );
            let mut folded = conv.clone();
            folded.fold(&BatchNorm {
                weight: gamma.values,
                bias: beta.values,
                running_mean: mean.values,
                running_var: var.values,
            });
            let diff = (folded.to_device(&device).forward(x) - reference).abs().max().into_scalar::<f32>();
            assert!(diff < 1e-5, "groups {groups}: max |diff| {diff}");
        }
    }
}
