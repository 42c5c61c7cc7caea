//! The attention core in one launch: timm's `Attention2d.forward` from `attn = q @ k` to
//! `x = attn @ v + v_local(v)` (scores, talking head 1, position biases, softmax, talking head
//! 2, value product, and the local branch's depthwise 3x3 convolution, nine taps of `v` per
//! output), and the same without talking heads for `Attention2dDownsample` (its local branch
//! with stride 2), each optionally followed by `proj`'s leading GELU. One cube per (query
//! token, image, slice of the output channels):
//! its row of scores for every head stays in shared memory from the first product to the
//! last. Each slice's cube computes the row again (a few hundred multiply-adds per thread),
//! so that the value product, the longest part, is spread over four times as many cubes and
//! the GPU has more than one cube per query.

use burn::backend::TensorMetadata;
use burn::tensor::Shape;
use burn_cubecl::kernel::into_contiguous;
use burn_cubecl::tensor::CubeTensor;
use cubecl::prelude::*;

use super::empty_output;
use super::gelu::gelu;

/// Largest `heads · keys` a cube holds (two rows of scores in shared memory: 24 KiB in f32,
/// under Metal's 32 KiB). The network needs 8 · 196.
pub const MAX_SCORES: usize = 3072;

/// Threads per cube: also the output channels of a slice.
const THREADS: u32 = 256;

/// The talking-head weights of `Attention2d`: `talking_head1.weight` `[heads, heads]`,
/// `talking_head2.weight` `[heads, heads]` and `talking_head2.bias` `[heads]`.
#[derive(Debug, Clone)]
pub struct HeadMixing {
    pub mix1: CubeTensor,
    pub mix2: CubeTensor,
    pub mix2_bias: CubeTensor,
}

/// `q: [B, heads·kd, N]`, `k: [B, heads·kd, M]`, `v: [B, heads·vd, M]`, `output: [B, heads·vd,
/// N]` (square maps: `N` is `query_side²`, `M` is `key_side²`), `local_weight: [heads·vd, 9]`,
/// `local_bias: [heads·vd]` (the depthwise 3x3, padding 1, `local_stride` 1 or 2, from `v`'s
/// map onto `q`'s), `bias: [heads, N, M]` (with talking heads: `talking_head1` of the position
/// biases plus its bias), all row-major. The maps are stored in `F`, the biases and mixing
/// weights in `f32` (as the model keeps them in either precision), and everything is computed
/// in `f32`: in `f16` a score of 10 is only known to 5e-3, which softmax turns into a relative
/// error of its probability.
#[cube(launch)]
fn attention_kernel<F: Float>(
    q: &Tensor<F>,
    k: &Tensor<F>,
    v: &Tensor<F>,
    local_weight: &Tensor<F>,
    local_bias: &Tensor<F>,
    bias: &Tensor<f32>,
    mix1: &Tensor<f32>,
    mix2: &Tensor<f32>,
    mix2_bias: &Tensor<f32>,
    output: &mut Tensor<F>,
    key_dim: u32,
    value_dim: u32,
    query_side: u32,
    key_side: u32,
    local_stride: u32,
    #[comptime] heads: u32,
    #[comptime] scores_len: u32,
    #[comptime] talking_heads: bool,
    #[comptime] apply_gelu: bool,
    #[define(F)] _dtype: ElemType,
) {
    let query = CUBE_POS_X as usize;
    let image = CUBE_POS_Y as usize;
    let slice = CUBE_POS_Z as usize;
    let unit = UNIT_POS_X as usize;
    let threads = CUBE_DIM_X as usize;
    let heads = heads as usize;
    let len = scores_len as usize;
    let (key_dim, value_dim) = (key_dim as usize, value_dim as usize);
    let (query_side, key_side, local_stride) = (query_side as usize, key_side as usize, local_stride as usize);
    let (queries, keys) = (query_side * query_side, key_side * key_side);
    let mut raw = Shared::<[f32]>::new_slice(len);
    let mut scores = Shared::<[f32]>::new_slice(len);

    // q · k for every head: raw[h · M + j].
    let mut t = unit;
    while t < len {
        let head = t / keys;
        let key = t % keys;
        let row = image * heads * key_dim + head * key_dim;
        let mut sum = 0.0_f32;
        for d in 0..key_dim {
            sum += f32::cast_from(q[(row + d) * queries + query]) * f32::cast_from(k[(row + d) * keys + key]);
        }
        raw[t] = sum;
        t += threads;
    }
    sync_cube();

    // talking_head1 (a 1x1 convolution across heads) and the position biases.
    let mut t = unit;
    while t < len {
        let head = t / keys;
        let key = t % keys;
        let mut sum = bias[(head * queries + query) * keys + key];
        if talking_heads {
            for h in 0..heads {
                sum += mix1[head * heads + h] * raw[h * keys + key];
            }
        } else {
            sum += raw[t];
        }
        scores[t] = sum;
        t += threads;
    }
    sync_cube();

    // Softmax over the keys, one head per thread (as burn's: subtract the maximum).
    if unit < heads {
        let start = unit * keys;
        let mut max = scores[start];
        for j in 1..keys {
            let value = scores[start + j];
            if value > max {
                max = value;
            }
        }
        let mut total = 0.0_f32;
        for j in 0..keys {
            let e = (scores[start + j] - max).exp();
            scores[start + j] = e;
            total += e;
        }
        for j in 0..keys {
            scores[start + j] = scores[start + j] / total;
        }
    }
    sync_cube();

    // talking_head2 with its bias.
    if talking_heads {
        let mut t = unit;
        while t < len {
            let head = t / keys;
            let key = t % keys;
            let mut sum = mix2_bias[head];
            for h in 0..heads {
                sum += mix2[head * heads + h] * scores[h * keys + key];
            }
            raw[t] = sum;
            t += threads;
        }
        sync_cube();
        let mut t = unit;
        while t < len {
            scores[t] = raw[t];
            t += threads;
        }
        sync_cube();
    }

    // attn @ v + v_local(v), one output channel of this cube's slice per thread.
    let channels = heads * value_dim;
    let (query_y, query_x) = (query / query_side, query % query_side);
    let mut end = (slice + 1) * threads;
    if end > channels {
        end = channels;
    }
    let mut c = slice * threads + unit;
    while c < end {
        let head = c / value_dim;
        let plane = image * channels + c;
        // The local branch: padded coordinates, `padded - 1` the row (column) of `v`'s map.
        let mut sum = f32::cast_from(local_bias[c]);
        #[unroll]
        for ky in 0..3 {
            let padded_y = query_y * local_stride + ky;
            if padded_y >= 1 && padded_y <= key_side {
                #[unroll]
                for kx in 0..3 {
                    let padded_x = query_x * local_stride + kx;
                    if padded_x >= 1 && padded_x <= key_side {
                        let tap = v[plane * keys + (padded_y - 1) * key_side + padded_x - 1];
                        sum += f32::cast_from(local_weight[c * 9 + ky * 3 + kx]) * f32::cast_from(tap);
                    }
                }
            }
        }
        for j in 0..keys {
            sum += scores[head * keys + j] * f32::cast_from(v[plane * keys + j]);
        }
        if apply_gelu {
            sum = gelu::<f32>(sum);
        }
        output[plane * queries + query] = F::cast_from(sum);
        c += threads;
    }
}

/// Whether [`launch`] takes these sizes.
pub fn fits(heads: usize, keys: usize) -> bool {
    heads > 0 && heads * keys <= MAX_SCORES
}

/// The attention core for `q, k, v: [B, C, H, W]` (square maps), `local: [weight, bias]` of the
/// depthwise 3x3 `v_local` (`[C_v, 1, 3, 3]`, `[C_v]`; stride 1 when `v`'s map is `q`'s, else
/// 2) and `bias: [1, heads, N, M]`, GELU on the result when `gelu` is set.
pub fn launch(
    [q, k, v]: [CubeTensor; 3],
    [local_weight, local_bias]: [CubeTensor; 2],
    bias: CubeTensor,
    talking_heads: Option<HeadMixing>,
    heads: usize,
    gelu: bool,
    dtype: ElemType,
) -> CubeTensor {
    let [batch, key_channels, query_side, _] = q.shape().dims::<4>();
    let [_, value_channels, key_side, _] = v.shape().dims::<4>();
    let local_stride = if key_side == query_side { 1 } else { 2 };
    let [q, k, v, local_weight, local_bias, bias] = [q, k, v, local_weight, local_bias, bias].map(into_contiguous);
    let output = empty_output(&v, Shape::new([batch, value_channels, query_side, query_side]));
    let client = q.client.clone();
    let has_talking_heads = talking_heads.is_some();
    // Without talking heads the kernel never reads the mixing arguments; the bias stands in.
    let [mix1, mix2, mix2_bias] = match talking_heads {
        Some(t) => [t.mix1, t.mix2, t.mix2_bias].map(into_contiguous),
        None => [bias.clone(), bias.clone(), bias.clone()],
    };
    let threads = THREADS.min(client.properties().hardware.max_cube_dim.0);
    attention_kernel::launch(
        &client,
        CubeCount::Static((query_side * query_side) as u32, batch as u32, value_channels.div_ceil(threads as usize) as u32),
        CubeDim::new_1d(threads),
        q.into_tensor_arg(),
        k.into_tensor_arg(),
        v.into_tensor_arg(),
        local_weight.into_tensor_arg(),
        local_bias.into_tensor_arg(),
        bias.into_tensor_arg(),
        mix1.into_tensor_arg(),
        mix2.into_tensor_arg(),
        mix2_bias.into_tensor_arg(),
        output.clone().into_tensor_arg(),
        (key_channels / heads) as u32,
        (value_channels / heads) as u32,
        query_side as u32,
        key_side as u32,
        local_stride as u32,
        heads as u32,
        (heads * key_side * key_side) as u32,
        has_talking_heads,
        gelu,
        dtype,
    );
    output
}
