//! timm `ConvMlpWithNorm` with `mid_conv=True`: 1x1 expand + BN + GELU, depthwise 3x3 + BN +
//! GELU, 1x1 project + BN (the paper's FFN with depthwise convolution, Sec. 3.1).

use burn::tensor::Tensor;

use super::conv::{Conv, HostConv};
use super::placement::Placement;
use crate::error::Result;
use crate::fused;
use crate::weights::state_dict::StateDict;

/// The FFN of one block, its output already multiplied by the block's `ls2` layer scale.
#[derive(Debug, Clone)]
pub struct ConvMlpWithNorm {
    fc1: Conv,
    mid: Conv,
    fc2: Conv,
}

impl ConvMlpWithNorm {
    /// Loads `{prefix}.fc1`, `.mid`, `.fc2` and folds `layer_scale` into `fc2`.
    pub fn load(
        state: &mut StateDict,
        device: &Placement,
        prefix: &str,
        dim: usize,
        hidden: usize,
        layer_scale: &[f32],
    ) -> Result<ConvMlpWithNorm> {
        let fc1 = HostConv::load_conv_norm(state, &format!("{prefix}.fc1"), [hidden, dim, 1], 1, 1)?;
        let mid =
            HostConv::load_conv_norm(state, &format!("{prefix}.mid"), [hidden, hidden, 3], 1, hidden)?;
        let mut fc2 = HostConv::load_conv_norm(state, &format!("{prefix}.fc2"), [dim, hidden, 1], 1, 1)?;
        fc2.scale_outputs(layer_scale);
        Ok(ConvMlpWithNorm {
            fc1: fc1.to_device(device),
            mid: mid.to_device(device),
            fc2: fc2.to_device(device),
        })
    }

    /// `x + fc2(gelu(mid(gelu(fc1(x))))) * ls2`: the FFN with its block's residual, one fused
    /// op ([`fused::conv_mlp_residual`]).
    pub fn forward_residual(&self, x: Tensor<4>) -> Tensor<4> {
        fused::conv_mlp_residual(x, [self.fc1.weight_bias(), self.mid.weight_bias(), self.fc2.weight_bias()])
    }
}
