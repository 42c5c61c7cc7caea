//! timm `Stem4`: two 3x3 stride-2 `ConvNormAct` (GELU), 224x224 -> 56x56.

use burn::tensor::Tensor;

use super::conv::{Conv, HostConv};
use super::placement::Placement;
use crate::error::Result;
use crate::weights::state_dict::StateDict;

/// The stride-4 stem.
#[derive(Debug, Clone)]
pub struct Stem4 {
    conv1: Conv,
    conv2: Conv,
}

impl Stem4 {
    /// Loads `stem.conv1` (3 -> `out_chs / 2`) and `stem.conv2` (-> `out_chs`).
    pub fn load(state: &mut StateDict, device: &Placement, out_chs: usize) -> Result<Stem4> {
        let half = out_chs / 2;
        let conv1 = HostConv::load_conv_norm(state, "stem.conv1", [half, 3, 3], 2, 1)?;
        let conv2 = HostConv::load_conv_norm(state, "stem.conv2", [out_chs, half, 3], 2, 1)?;
        Ok(Stem4 { conv1: conv1.to_device(device), conv2: conv2.to_device(device) })
    }

    /// `gelu(conv2(gelu(conv1(x))))`.
    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        self.conv2.forward_gelu(self.conv1.forward_gelu(x))
    }
}
