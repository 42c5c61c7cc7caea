//! timm `Attention2d`: multi-head self-attention on a 7x7 token grid with learned relative
//! position biases, talking heads before and after the softmax, a depthwise-conv "local value"
//! branch, and GELU before the output projection (paper Sec. 3.2-3.3, Fig. 2 (d)). In stage 2
//! (`stride=2`) the 14x14 map is first subsampled by a depthwise stride-2 conv and the result
//! upsampled back bilinearly (`nn.Upsample(scale_factor=2, mode='bilinear')`,
//! `align_corners=False`). The upsample is [`fused::bilinear_upsample`] with a fixed
//! interpolation matrix ([`bilinear_matrix`]; two small matmuls on the composed path) rather than
//! burn's `interpolate`: burn-wgpu 0.22.1's bilinear
//! kernel does not honour `align_corners=False` (measured on wgpu's GL backend: max |diff| 0.44
//! against burn-flex, which matches PyTorch), and the matmul form is exact on every backend.
//!
//! Load-time folds: the `key_dim ** -0.5` scale into `q`, the attention biases into
//! `talking_head1` (it is linear across heads, so `th1(qk + B) = th1(qk) + th1(B)`), and the
//! block's `ls1` layer scale into `proj`.

use burn::tensor::{Tensor, TensorData};

use super::bias_index::{self, ATTENTION_GRID, ATTENTION_TOKENS};
use super::conv::{Conv, HostConv};
use super::placement::Placement;
use crate::config::{ATTENTION_KEY_DIM, ATTENTION_RATIO, NUM_HEADS};
use crate::error::Result;
use crate::fused::{self, TalkingHeads};
use crate::weights::state_dict::StateDict;

const KEY_CHANNELS: usize = ATTENTION_KEY_DIM * NUM_HEADS;
const VALUE_DIM: usize = ATTENTION_KEY_DIM * ATTENTION_RATIO;
const VALUE_CHANNELS: usize = VALUE_DIM * NUM_HEADS;

/// The attention token mixer of one block.
#[derive(Debug, Clone)]
pub struct Attention2d {
    stride_conv: Option<Conv>,
    q: Conv,
    k: Conv,
    v: Conv,
    v_local: Conv,
    /// `talking_head1`, with the expanded position biases through it plus its bias, and
    /// `talking_head2`.
    talking_heads: TalkingHeads,
    /// `[7, 14]`: the transposed 7 -> 14 bilinear interpolation matrix (strided mixers only).
    upsample: Option<Tensor<2>>,
    proj: Conv,
}

impl Attention2d {
    /// Loads the token mixer at `prefix`; `layer_scale` is the block's `ls1.gamma`.
    pub fn load(
        state: &mut StateDict,
        device: &Placement,
        prefix: &str,
        dim: usize,
        strided: bool,
        layer_scale: &[f32],
    ) -> Result<Attention2d> {
        let key = |name: &str| format!("{prefix}.{name}");
        let biases = state.take(&key("attention_biases"), &[NUM_HEADS, ATTENTION_TOKENS])?;
        let stride_conv = if strided {
            Some(HostConv::load_conv_norm(state, &key("stride_conv"), [dim, dim, 3], 2, dim)?)
        } else {
            None
        };
        let mut q = HostConv::load_conv_norm(state, &key("q"), [KEY_CHANNELS, dim, 1], 1, 1)?;
        q.scale_outputs(&[(ATTENTION_KEY_DIM as f32).powf(-0.5); KEY_CHANNELS]);
        let k = HostConv::load_conv_norm(state, &key("k"), [KEY_CHANNELS, dim, 1], 1, 1)?;
        let v = HostConv::load_conv_norm(state, &key("v"), [VALUE_CHANNELS, dim, 1], 1, 1)?;
        let v_local_shape = [VALUE_CHANNELS, VALUE_CHANNELS, 3];
        let v_local = HostConv::load_conv_norm(state, &key("v_local"), v_local_shape, 1, VALUE_CHANNELS)?;
        let talking_head1 = HostConv::load(state, &key("talking_head1"), [NUM_HEADS, NUM_HEADS, 1], 1, 1)?;
        let position_bias = bias_index::gather(&biases.values, ATTENTION_TOKENS, &bias_index::attention());
        let talking_head1_bias = mix_heads(&talking_head1, &position_bias);
        let talking_head2 =
            HostConv::load(state, &key("talking_head2"), [NUM_HEADS, NUM_HEADS, 1], 1, 1)?;
        let mut proj = HostConv::load_conv_norm(state, &key("proj"), [dim, VALUE_CHANNELS, 1], 1, 1)?;
        proj.scale_outputs(layer_scale);
        Ok(Attention2d {
            stride_conv: stride_conv.map(|c| c.to_device(device)),
            q: q.to_device(device),
            k: k.to_device(device),
            v: v.to_device(device),
            v_local: v_local.to_device(device),
            talking_heads: TalkingHeads {
                talking_head1: talking_head1.weight_on(device),
                bias: Tensor::from_data(
                    TensorData::new(talking_head1_bias, [1, NUM_HEADS, ATTENTION_TOKENS, ATTENTION_TOKENS]),
                    &device.device,
                ),
                talking_head2: talking_head2.weight_on(device),
                talking_head2_bias: talking_head2.bias_on(device),
            },
            upsample: strided.then(|| {
                let side = 2 * ATTENTION_GRID;
                let matrix = transpose(&bilinear_matrix(ATTENTION_GRID, side), side, ATTENTION_GRID);
                Tensor::from_data(TensorData::new(matrix, [ATTENTION_GRID, side]), &device.device)
            }),
            proj: proj.to_device(device),
        })
    }

    /// `x + ls1 * Attention2d(x)` for `x: [B, dim, H, W]`: the token mixer with its block's
    /// residual.
    pub fn forward_residual(&self, x: Tensor<4>) -> Tensor<4> {
        let shortcut = x.clone();
        let x = match &self.stride_conv {
            Some(conv) => conv.forward(x),
            None => x,
        };
        let [q, k, v] = fused::query_key_value(x, [self.q.weight_bias(), self.k.weight_bias(), self.v.weight_bias()]);
        let local = self.v_local.weight_bias();
        // `proj` starts with a GELU: the last kernel before it applies it.
        let x = match &self.upsample {
            Some(matrix) => {
                let x = fused::talking_head_attention([q, k, v], local, &self.talking_heads, NUM_HEADS, false);
                fused::bilinear_upsample(x, matrix, true)
            }
            None => fused::talking_head_attention([q, k, v], local, &self.talking_heads, NUM_HEADS, true),
        };
        self.proj.forward_residual(x, shortcut)
    }
}

/// `[to, from]` weights of PyTorch's `upsample_bilinear2d` along one axis with
/// `align_corners=False`: output `o` samples `max(0, (o + 0.5)·from/to − 0.5)` linearly.
pub fn bilinear_matrix(from: usize, to: usize) -> Vec<f32> {
    let mut matrix = vec![0f32; to * from];
    for o in 0..to {
        let source = ((o as f64 + 0.5) * from as f64 / to as f64 - 0.5).max(0.0);
        let low = (source.floor() as usize).min(from - 1);
        let high = (low + 1).min(from - 1);
        let frac = (source - low as f64) as f32;
        matrix[o * from + low] += 1.0 - frac;
        matrix[o * from + high] += frac;
    }
    matrix
}

fn transpose(matrix: &[f32], rows: usize, cols: usize) -> Vec<f32> {
    (0..cols).flat_map(|c| (0..rows).map(move |r| matrix[r * cols + c])).collect()
}

/// `talking_head1(B)` for position biases `B: [heads, N, N]` — a 1x1 conv across heads.
fn mix_heads(talking_head: &HostConv, position_bias: &[f32]) -> Vec<f32> {
    let plane = position_bias.len() / NUM_HEADS;
    let mut mixed = Vec::with_capacity(position_bias.len());
    for out in 0..NUM_HEADS {
        let weights = &talking_head.weight.values[out * NUM_HEADS..(out + 1) * NUM_HEADS];
        mixed.extend((0..plane).map(|i| {
            let sum: f64 = weights
                .iter()
                .enumerate()
                .map(|(h, &w)| f64::from(w) * f64::from(position_bias[h * plane + i]))
                .sum();
            (sum + f64::from(talking_head.bias[out])) as f32
        }));
    }
    mixed
}

#[cfg(test)]
mod tests {
    use super::bilinear_matrix;

    /// `F.interpolate(torch.eye(7)[None, None], size=(14, 7), mode='bilinear')` rows: 0.75/0.25
    /// blends, clamped at the borders.
    #[test]
    fn doubling_weights_match_pytorch() {
        let m = bilinear_matrix(7, 14);
        assert_eq!(&m[0..7], &[1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]);
        assert_eq!(&m[7..14], &[0.75, 0.25, 0.0, 0.0, 0.0, 0.0, 0.0]);
        assert_eq!(&m[14..21], &[0.25, 0.75, 0.0, 0.0, 0.0, 0.0, 0.0]);
        assert_eq!(&m[13 * 7..], &[0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0]);
    }
}
