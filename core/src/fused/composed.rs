//! The fused operations composed from burn's own backend ops: what every backend without a
//! hand-written kernel runs, and the reference the kernels are tested against. Each mirrors
//! the timm lines named in [`super::FusedOps`].

use burn::backend::tensor::FloatTensor;
use burn::backend::{Backend, TensorMetadata};
use burn::tensor::Shape;
use burn::tensor::ops::ConvOptions;

use super::FusedOps;

/// `act(conv2d(x, weight, bias))`, padding `k / 2`.
pub fn conv_bias_act<B: Backend>(
    x: FloatTensor<B>,
    weight: FloatTensor<B>,
    bias: FloatTensor<B>,
    stride: usize,
    groups: usize,
    gelu: bool,
) -> FloatTensor<B> {
    let padding = weight.shape()[2] / 2;
    let options = ConvOptions::new([stride; 2], [padding; 2], [1, 1], groups);
    maybe_gelu::<B>(B::conv2d(x, weight, Some(bias), options), gelu)
}

/// timm's `ConvMlpWithNorm` and its residual as the three convolutions of `B`'s own fused ops
/// (`fc1` and `mid` with GELU, `fc2` added to `x`), each `[weight, bias]`; `mid` is depthwise
/// (as many groups as its bias has channels).
pub fn conv_mlp_residual<B: FusedOps>(
    x: FloatTensor<B>,
    [fc1_weight, fc1_bias]: [FloatTensor<B>; 2],
    [mid_weight, mid_bias]: [FloatTensor<B>; 2],
    [fc2_weight, fc2_bias]: [FloatTensor<B>; 2],
) -> FloatTensor<B> {
    let hidden_channels = mid_bias.shape()[0];
    let hidden = B::conv_bias_act(x.clone(), fc1_weight, fc1_bias, 1, 1, true);
    let hidden = B::conv_bias_act(hidden, mid_weight, mid_bias, 1, hidden_channels, true);
    B::conv_bias_add(hidden, fc2_weight, fc2_bias, x, 1, 1)
}

/// The mean over the map, `[B, C, H, W] -> [B, C, 1, 1]`.
pub fn spatial_mean<B: Backend>(x: FloatTensor<B>) -> FloatTensor<B> {
    let shape = x.shape();
    let (batch, channels) = (shape[0], shape[1]);
    let flat = B::float_reshape(x, Shape::new([batch, channels, shape[2] * shape[3]]));
    B::float_reshape(B::float_mean_dim(flat, 2), Shape::new([batch, channels, 1, 1]))
}

/// Bilinear upsampling as two matmuls with `matrix_t: [n, m]`, rows then columns (the matmul
/// form is exact on every backend; burn-wgpu 0.22.1's `interpolate` ignores
/// `align_corners=False`), then `Attention2d.proj`'s leading GELU when `gelu` is set.
pub fn bilinear_upsample<B: Backend>(x: FloatTensor<B>, matrix_t: FloatTensor<B>, gelu: bool) -> FloatTensor<B> {
    let shape = x.shape();
    let (batch, channels, rows, cols) = (shape[0], shape[1], shape[2], shape[3]);
    let size = matrix_t.shape()[1];
    let wide = B::float_matmul(B::float_reshape(x, Shape::new([batch * channels * rows, cols])), matrix_t.clone());
    let wide = B::float_swap_dims(B::float_reshape(wide, Shape::new([batch, channels, rows, size])), 2, 3);
    let full = B::float_matmul(B::float_reshape(wide, Shape::new([batch * channels * size, rows])), matrix_t);
    maybe_gelu::<B>(B::float_swap_dims(B::float_reshape(full, Shape::new([batch, channels, size, size])), 2, 3), gelu)
}

/// `x.reshape([B, heads, per_head, tokens])`.
fn split_heads<B: Backend>(x: FloatTensor<B>, heads: usize) -> FloatTensor<B> {
    let shape = x.shape();
    let (batch, channels, tokens) = (shape[0], shape[1], shape[2] * shape[3]);
    B::float_reshape(x, Shape::new([batch, heads, channels / heads, tokens]))
}

/// `softmax(x, 3)` as burn's `activation::softmax` computes it.
fn softmax_last<B: Backend>(x: FloatTensor<B>) -> FloatTensor<B> {
    let max = B::float_max_dim(x.clone(), 3);
    let e = B::float_exp(B::float_sub(x, max));
    let sum = B::float_sum_dim(e.clone(), 3);
    B::float_div(e, sum)
}

/// `scores · v + local`, with `scores: [B, heads, N, M]`, back to `local`'s `[B, C, H, W]`.
fn attend<B: Backend>(scores: FloatTensor<B>, v: FloatTensor<B>, local: FloatTensor<B>, heads: usize) -> FloatTensor<B> {
    let v = B::float_swap_dims(split_heads::<B>(v, heads), 2, 3);
    let x = B::float_swap_dims(B::float_matmul(scores, v), 2, 3);
    let x = B::float_reshape(x, local.shape());
    B::float_add(x, local)
}

/// `q·k` per head: `[B, heads, N, M]`.
fn scores<B: Backend>(q: FloatTensor<B>, k: FloatTensor<B>, heads: usize) -> FloatTensor<B> {
    let q = B::float_swap_dims(split_heads::<B>(q, heads), 2, 3);
    B::float_matmul(q, split_heads::<B>(k, heads))
}

/// `gelu(x)` when `gelu` is set.
fn maybe_gelu<B: Backend>(x: FloatTensor<B>, gelu: bool) -> FloatTensor<B> {
    if gelu { B::gelu(x) } else { x }
}

/// timm `Attention2d.forward` from `attn = q @ k` to `x = attn @ v + v_local`, then `proj`'s
/// leading GELU when `gelu` is set.
#[allow(clippy::too_many_arguments)]
pub fn talking_head_attention<B: Backend>(
    q: FloatTensor<B>,
    k: FloatTensor<B>,
    v: FloatTensor<B>,
    local: FloatTensor<B>,
    talking_head1: FloatTensor<B>,
    bias: FloatTensor<B>,
    talking_head2: FloatTensor<B>,
    talking_head2_bias: FloatTensor<B>,
    heads: usize,
    gelu: bool,
) -> FloatTensor<B> {
    let options = || ConvOptions::new([1, 1], [0, 0], [1, 1], 1);
    let attn = B::conv2d(scores::<B>(q, k, heads), talking_head1, None, options());
    let attn = softmax_last::<B>(B::float_add(attn, bias));
    let attn = B::conv2d(attn, talking_head2, Some(talking_head2_bias), options());
    maybe_gelu::<B>(attend::<B>(attn, v, local, heads), gelu)
}

/// timm `Attention2dDownsample.forward` from `attn = q @ k` to `x = attn @ v + v_local`, then
/// `proj`'s leading GELU when `gelu` is set.
pub fn biased_attention<B: Backend>(
    q: FloatTensor<B>,
    k: FloatTensor<B>,
    v: FloatTensor<B>,
    local: FloatTensor<B>,
    bias: FloatTensor<B>,
    heads: usize,
    gelu: bool,
) -> FloatTensor<B> {
    let attn = softmax_last::<B>(B::float_add(scores::<B>(q, k, heads), bias));
    maybe_gelu::<B>(attend::<B>(attn, v, local, heads), gelu)
}
