//! timm `Attention2dDownsample` with `LocalGlobalQuery`: the stride-2 attention that opens the
//! last stage (paper Sec. 3.4, "attention downsampling"). Keys and values come from the full
//! 14x14 map; queries from a depthwise stride-2 conv plus a stride-2 sampling of the input
//! (`nn.AvgPool2d(1, 2, 0)`); a depthwise stride-2 "local value" conv is added before GELU and
//! the output projection. No talking heads here.
//!
//! Load-time folds: the 1x1 stride-2 pool picks exactly the input pixel under the centre tap
//! of the 3x3 stride-2 `local` conv, so `local(x) + pool(x)` is `local` with 1 added to its
//! centre tap; the `key_dim ** -0.5` scale goes into `q.proj`.

use burn::tensor::{Tensor, TensorData};

use super::bias_index::{self, DOWNSAMPLE_KEY_TOKENS, DOWNSAMPLE_QUERY_TOKENS};
use super::conv::{Conv, HostConv};
use super::placement::Placement;
use crate::config::{ATTENTION_RATIO, DOWNSAMPLE_KEY_DIM, NUM_HEADS};
use crate::error::Result;
use crate::fused;
use crate::weights::state_dict::StateDict;

const KEY_CHANNELS: usize = DOWNSAMPLE_KEY_DIM * NUM_HEADS;
const VALUE_DIM: usize = DOWNSAMPLE_KEY_DIM * ATTENTION_RATIO;
const VALUE_CHANNELS: usize = VALUE_DIM * NUM_HEADS;

/// The attention half of the last stage's downsample.
#[derive(Debug, Clone)]
pub struct Attention2dDownsample {
    q_local: Conv,
    q_proj: Conv,
    k: Conv,
    v: Conv,
    v_local: Conv,
    /// `attention_biases[:, attention_bias_idxs]`: `[1, heads, 49, 196]`.
    position_bias: Tensor<4>,
    proj: Conv,
}

impl Attention2dDownsample {
    /// Loads `{prefix}` (`stages.3.downsample.attn`).
    pub fn load(
        state: &mut StateDict,
        device: &Placement,
        prefix: &str,
        dim: usize,
        out_dim: usize,
    ) -> Result<Attention2dDownsample> {
        let key = |name: &str| format!("{prefix}.{name}");
        let biases = state.take(&key("attention_biases"), &[NUM_HEADS, DOWNSAMPLE_KEY_TOKENS])?;
        let position_bias =
            bias_index::gather(&biases.values, DOWNSAMPLE_KEY_TOKENS, &bias_index::attention_downsample());
        let mut q_local = HostConv::load(state, &key("q.local"), [dim, dim, 3], 2, dim)?;
        let centre_tap = 4; // index of (1, 1) in a 3x3 kernel
        q_local.weight.values.iter_mut().skip(centre_tap).step_by(9).for_each(|w| *w += 1.0);
        let mut q_proj = HostConv::load_conv_norm(state, &key("q.proj"), [KEY_CHANNELS, dim, 1], 1, 1)?;
        q_proj.scale_outputs(&[(DOWNSAMPLE_KEY_DIM as f32).powf(-0.5); KEY_CHANNELS]);
        let k = HostConv::load_conv_norm(state, &key("k"), [KEY_CHANNELS, dim, 1], 1, 1)?;
        let v = HostConv::load_conv_norm(state, &key("v"), [VALUE_CHANNELS, dim, 1], 1, 1)?;
        let v_local_shape = [VALUE_CHANNELS, VALUE_CHANNELS, 3];
        let v_local = HostConv::load_conv_norm(state, &key("v_local"), v_local_shape, 2, VALUE_CHANNELS)?;
        let proj = HostConv::load_conv_norm(state, &key("proj"), [out_dim, VALUE_CHANNELS, 1], 1, 1)?;
        Ok(Attention2dDownsample {
            q_local: q_local.to_device(device),
            q_proj: q_proj.to_device(device),
            k: k.to_device(device),
            v: v.to_device(device),
            v_local: v_local.to_device(device),
            position_bias: Tensor::from_data(
                TensorData::new(position_bias, [1, NUM_HEADS, DOWNSAMPLE_QUERY_TOKENS, DOWNSAMPLE_KEY_TOKENS]),
                &device.device,
            ),
            proj: proj.to_device(device),
        })
    }

    /// `residual + Attention2dDownsample(x)`: `[B, dim, 14, 14] -> [B, out_dim, 7, 7]`, added to
    /// `Downsample.conv`'s output.
    pub fn forward_residual(&self, x: Tensor<4>, residual: Tensor<4>) -> Tensor<4> {
        let q = self.q_proj.forward(self.q_local.forward(x.clone()));
        let k = self.k.forward(x.clone());
        let v = self.v.forward(x);
        // `proj` starts with a GELU, applied by the attention core.
        let x = fused::biased_attention([q, k, v], self.v_local.weight_bias(), &self.position_bias, NUM_HEADS, true);
        self.proj.forward_residual(x, residual)
    }
}
