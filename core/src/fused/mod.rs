//! The network's fused operations, as a burn 0.22.1 backend extension
//! (`#[backend_extension]`): each is one call in `model/`, composed from burn's own ops by
//! default (burn-ndarray, the reference CPU path), implemented with the hand-written
//! channels-last kernels of [`crate::kernels`] on burn-flex ([`flex`]) and with the CubeCL
//! kernels of [`crate::cube_kernels`] on burn-wgpu ([`cube`]).
//!
//! On burn-flex the fused ops hand channels-last maps to each other: a tensor keeps its
//! logical `[B, C, H, W]` shape with `NHWC` strides, so any burn op that reads it still sees
//! the same values, and the next fused op reads it without a copy.

// burn-ndarray is deprecated upstream; it stays as the SDK's reference CPU path.
#![allow(deprecated)]

mod composed;
#[cfg(feature = "gpu")]
mod cube;
#[cfg(feature = "cpu")]
mod flex;
#[cfg(feature = "cpu")]
mod recycled;

use burn::backend::tensor::FloatTensor;
use burn::backend::{Backend, Dispatch, backend_extension};
use burn::tensor::{FloatDType, Tensor};

/// Fused operations of EfficientFormerV2's blocks.
#[backend_extension(Flex: cfg(feature = "cpu"), NdArray: cfg(feature = "reference"), Cube: cfg(feature = "gpu"))]
pub trait FusedOps: Backend {
    /// A convolution weight `[out, in / groups, k, k]` laid out for this backend's kernels,
    /// once at load time; only this backend's convolution ops read it. burn-flex stores
    /// a 1x1 or dense 3x3 weight in panels of 16 (`f32`) or 32 (`f16`) output channels (a
    /// `[columns / 16, in, 16, k · k]` tensor, `columns` the output count rounded up to whole
    /// panels, the last one padded; its ops read the output count from the bias, and their
    /// fallback unpacks it), a depthwise one `[k, k, in, out]` (the same logical tensor with
    /// other strides), so that no kernel reorders a weight on every call.
    fn pack_conv_weight(weight: FloatTensor<Self>) -> FloatTensor<Self> {
        weight
    }

    /// `act(conv2d(x, weight, bias))` with padding `k / 2`: a timm `ConvNorm` / `ConvNormAct`
    /// (BatchNorm folded), optionally followed by GELU. It replaces the convolutions of
    /// `Stem4`, `Downsample`, `ConvMlpWithNorm.fc1/mid`, and `q`, `k`, `v`, `v_local`,
    /// `stride_conv` of the attention modules.
    fn conv_bias_act(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        bias: FloatTensor<Self>,
        stride: usize,
        groups: usize,
        gelu: bool,
    ) -> FloatTensor<Self> {
        composed::conv_bias_act::<Self>(x, weight, bias, stride, groups, gelu)
    }

    /// `Attention2d`'s `q`, `k` and `v`: three 1x1 `ConvNorm`s of the same input, as one launch
    /// where a backend can (on the CPU they stay three products).
    #[allow(clippy::too_many_arguments)]
    fn query_key_value(
        x: FloatTensor<Self>,
        q_weight: FloatTensor<Self>,
        q_bias: FloatTensor<Self>,
        k_weight: FloatTensor<Self>,
        k_bias: FloatTensor<Self>,
        v_weight: FloatTensor<Self>,
        v_bias: FloatTensor<Self>,
    ) -> (FloatTensor<Self>, FloatTensor<Self>, FloatTensor<Self>) {
        (
            Self::conv_bias_act(x.clone(), q_weight, q_bias, 1, 1, false),
            Self::conv_bias_act(x.clone(), k_weight, k_bias, 1, 1, false),
            Self::conv_bias_act(x, v_weight, v_bias, 1, 1, false),
        )
    }

    /// `residual + conv2d(x, weight, bias)`: a branch's last `ConvNorm` and its residual add,
    /// `ConvMlpWithNorm.fc2` with the block's `x + ls2 * mlp(x)`, `Attention2d.proj` with
    /// `x + ls1 * attn(x)`, and `Attention2dDownsample.proj` with `Downsample`'s `attn(x) +
    /// conv(x)`.
    fn conv_bias_add(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        bias: FloatTensor<Self>,
        residual: FloatTensor<Self>,
        stride: usize,
        groups: usize,
    ) -> FloatTensor<Self> {
        let y = composed::conv_bias_act::<Self>(x, weight, bias, stride, groups, false);
        Self::float_add(residual, y)
    }

    /// `x + fc2(gelu(mid(gelu(fc1(x)))))`: timm's `ConvMlpWithNorm` (`mid_conv=True`: 1x1
    /// expand, depthwise 3x3, 1x1 project, each with its folded BatchNorm) with its block's
    /// `x + ls2 * mlp(x)` (`ls2` folded into `fc2`). By default the three convolutions of
    /// [`FusedOps::conv_bias_act`] and [`FusedOps::conv_bias_add`].
    #[allow(clippy::too_many_arguments)]
    fn conv_mlp_residual(
        x: FloatTensor<Self>,
        fc1_weight: FloatTensor<Self>,
        fc1_bias: FloatTensor<Self>,
        mid_weight: FloatTensor<Self>,
        mid_bias: FloatTensor<Self>,
        fc2_weight: FloatTensor<Self>,
        fc2_bias: FloatTensor<Self>,
    ) -> FloatTensor<Self> {
        composed::conv_mlp_residual::<Self>(x, [fc1_weight, fc1_bias], [mid_weight, mid_bias], [fc2_weight, fc2_bias])
    }

    /// Bilinear upsampling of `x: [B, C, n, n]` to `[B, C, m, m]` by the transposed per-axis
    /// interpolation matrix `matrix_t: [n, m]`: `Attention2d`'s `nn.Upsample(scale_factor=2,
    /// mode='bilinear')` after the stride-2 attention (`align_corners=False` is in the matrix),
    /// then `proj`'s leading GELU when `gelu` is set (so that it costs no pass of its own).
    fn bilinear_upsample(x: FloatTensor<Self>, matrix_t: FloatTensor<Self>, gelu: bool) -> FloatTensor<Self> {
        composed::bilinear_upsample::<Self>(x, matrix_t, gelu)
    }

    /// `x` stored as `dtype`: a model's weights and input images in its precision
    /// ([`crate::model::placement::Placement`]), and its logits, embedding and stage maps back
    /// in `f32`. burn-flex converts a vector at a time ([`crate::kernels::lanes::narrowed`],
    /// [`crate::kernels::lanes::widened`]); its own cast converts a value per call into
    /// `half`: on aarch64 the image's conversion took 1.8 M of the 11.2 M instructions of S0's
    /// stem in `f16` (`core/scripts/aarch64-insn.sh`, `-cpu max`), the logits' 36 thousand of
    /// the head's 225 thousand.
    fn convert(x: FloatTensor<Self>, dtype: FloatDType) -> FloatTensor<Self> {
        Self::float_cast(x, dtype)
    }

    /// The mean over the map of `x: [B, C, H, W]`, as `[B, C, 1, 1]`: timm's `forward_head`
    /// pooling (`x.mean((2, 3))`), which the folded classifier, a 1x1 convolution, reads.
    fn spatial_mean(x: FloatTensor<Self>) -> FloatTensor<Self> {
        composed::spatial_mean::<Self>(x)
    }

    /// Exact (erf) GELU, keeping the input's memory layout.
    fn gelu_exact(x: FloatTensor<Self>) -> FloatTensor<Self> {
        Self::gelu(x)
    }

    /// The core of timm's `Attention2d`: `th2(softmax(th1(q·k) + bias)) · v + v_local(v)`
    /// (`q, k: [B, heads·kd, 7, 7]`, `v: [B, heads·vd, 7, 7]`, `th1, th2: [heads, heads, 1,
    /// 1]`, `bias: [1, heads, N, N]`: the position biases through `th1`, plus its bias;
    /// `v_local` the depthwise 3x3 `ConvNorm` `local_weight: [heads·vd, 1, 3, 3]` (as
    /// [`FusedOps::pack_conv_weight`] laid it out), `local_bias`, stride 1), then `proj`'s
    /// leading GELU when `gelu` is set (the attention without a stride; with one, the
    /// upsampling comes first and takes the GELU).
    #[allow(clippy::too_many_arguments)]
    fn talking_head_attention(
        q: FloatTensor<Self>,
        k: FloatTensor<Self>,
        v: FloatTensor<Self>,
        local_weight: FloatTensor<Self>,
        local_bias: FloatTensor<Self>,
        talking_head1: FloatTensor<Self>,
        bias: FloatTensor<Self>,
        talking_head2: FloatTensor<Self>,
        talking_head2_bias: FloatTensor<Self>,
        heads: usize,
        gelu: bool,
    ) -> FloatTensor<Self> {
        let local = local_value::<Self>(&q, v.clone(), local_weight, local_bias);
        composed::talking_head_attention::<Self>(
            q,
            k,
            v,
            local,
            talking_head1,
            bias,
            talking_head2,
            talking_head2_bias,
            heads,
            gelu,
        )
    }

    /// The core of timm's `Attention2dDownsample`: `softmax(q·k + bias) · v + v_local(v)` (`q:
    /// [B, heads·kd, 7, 7]`, `k: [B, heads·kd, 14, 14]`, `v: [B, heads·vd, 14, 14]`, `bias: [1,
    /// heads, 49, 196]`, `v_local` the depthwise 3x3 stride-2 `ConvNorm` `local_weight`,
    /// `local_bias`), then `proj`'s leading GELU when `gelu` is set.
    #[allow(clippy::too_many_arguments)]
    fn biased_attention(
        q: FloatTensor<Self>,
        k: FloatTensor<Self>,
        v: FloatTensor<Self>,
        local_weight: FloatTensor<Self>,
        local_bias: FloatTensor<Self>,
        bias: FloatTensor<Self>,
        heads: usize,
        gelu: bool,
    ) -> FloatTensor<Self> {
        let local = local_value::<Self>(&q, v.clone(), local_weight, local_bias);
        composed::biased_attention::<Self>(q, k, v, local, bias, heads, gelu)
    }
}

/// The attention's local branch `v_local(v)`, a depthwise 3x3 convolution onto `q`'s map:
/// stride 1 when `v` is as large as `q` (`Attention2d`), 2 when it is twice
/// (`Attention2dDownsample`).
fn local_value<B: FusedOps>(q: &FloatTensor<B>, v: FloatTensor<B>, weight: FloatTensor<B>, bias: FloatTensor<B>) -> FloatTensor<B> {
    use burn::backend::TensorMetadata;
    let stride = if v.shape()[2] == q.shape()[2] { 1 } else { 2 };
    let channels = bias.shape().num_elements();
    B::conv_bias_act(v, weight, bias, stride, channels, false)
}

#[cfg(feature = "reference")]
impl FusedOps for burn::backend::NdArray {}

/// [`FusedOps::pack_conv_weight`] on a tensor.
pub fn pack_conv_weight(weight: Tensor<4>) -> Tensor<4> {
    Tensor::from_dispatch(<Dispatch as FusedOps>::pack_conv_weight(weight.into_dispatch()))
}

/// [`FusedOps::conv_bias_act`] on tensors.
pub fn conv_bias_act(x: Tensor<4>, weight: &Tensor<4>, bias: &Tensor<1>, [stride, groups]: [usize; 2], gelu: bool) -> Tensor<4> {
    Tensor::from_dispatch(<Dispatch as FusedOps>::conv_bias_act(
        x.into_dispatch(),
        weight.clone().into_dispatch(),
        bias.clone().into_dispatch(),
        stride,
        groups,
        gelu,
    ))
}

/// [`FusedOps::query_key_value`] on tensors: `[q, k, v]` for `convs` `[(weight, bias); 3]`.
pub fn query_key_value(x: Tensor<4>, [q, k, v]: [(&Tensor<4>, &Tensor<1>); 3]) -> [Tensor<4>; 3] {
    let (q, k, v) = <Dispatch as FusedOps>::query_key_value(
        x.into_dispatch(),
        q.0.clone().into_dispatch(),
        q.1.clone().into_dispatch(),
        k.0.clone().into_dispatch(),
        k.1.clone().into_dispatch(),
        v.0.clone().into_dispatch(),
        v.1.clone().into_dispatch(),
    );
    [q, k, v].map(Tensor::from_dispatch)
}

/// [`FusedOps::conv_bias_add`] on tensors.
pub fn conv_bias_add(
    x: Tensor<4>,
    weight: &Tensor<4>,
    bias: &Tensor<1>,
    residual: Tensor<4>,
    [stride, groups]: [usize; 2],
) -> Tensor<4> {
    Tensor::from_dispatch(<Dispatch as FusedOps>::conv_bias_add(
        x.into_dispatch(),
        weight.clone().into_dispatch(),
        bias.clone().into_dispatch(),
        residual.into_dispatch(),
        stride,
        groups,
    ))
}

/// [`FusedOps::conv_mlp_residual`] on tensors, each convolution as its `(weight, bias)`.
pub fn conv_mlp_residual(x: Tensor<4>, [fc1, mid, fc2]: [(&Tensor<4>, &Tensor<1>); 3]) -> Tensor<4> {
    Tensor::from_dispatch(<Dispatch as FusedOps>::conv_mlp_residual(
        x.into_dispatch(),
        fc1.0.clone().into_dispatch(),
        fc1.1.clone().into_dispatch(),
        mid.0.clone().into_dispatch(),
        mid.1.clone().into_dispatch(),
        fc2.0.clone().into_dispatch(),
        fc2.1.clone().into_dispatch(),
    ))
}

/// [`FusedOps::bilinear_upsample`] on tensors.
pub fn bilinear_upsample(x: Tensor<4>, matrix_t: &Tensor<2>, gelu: bool) -> Tensor<4> {
    Tensor::from_dispatch(<Dispatch as FusedOps>::bilinear_upsample(x.into_dispatch(), matrix_t.clone().into_dispatch(), gelu))
}

/// [`FusedOps::convert`] on a tensor.
pub fn convert<const D: usize>(x: Tensor<D>, dtype: FloatDType) -> Tensor<D> {
    if x.dtype() == dtype.into() {
        return x;
    }
    Tensor::from_dispatch(<Dispatch as FusedOps>::convert(x.into_dispatch(), dtype))
}

/// [`FusedOps::spatial_mean`] on a tensor.
pub fn spatial_mean(x: Tensor<4>) -> Tensor<4> {
    Tensor::from_dispatch(<Dispatch as FusedOps>::spatial_mean(x.into_dispatch()))
}

/// [`FusedOps::gelu_exact`] on a tensor.
pub fn gelu<const D: usize>(x: Tensor<D>) -> Tensor<D> {
    Tensor::from_dispatch(<Dispatch as FusedOps>::gelu_exact(x.into_dispatch()))
}

/// The weights of [`FusedOps::talking_head_attention`].
#[derive(Debug, Clone)]
pub struct TalkingHeads {
    /// `talking_head1.weight`, `[heads, heads, 1, 1]`.
    pub talking_head1: Tensor<4>,
    /// `talking_head1(position biases) + talking_head1.bias`, `[1, heads, N, N]`.
    pub bias: Tensor<4>,
    /// `talking_head2.weight`, `[heads, heads, 1, 1]`.
    pub talking_head2: Tensor<4>,
    /// `talking_head2.bias`, `[heads]`.
    pub talking_head2_bias: Tensor<1>,
}

/// [`FusedOps::talking_head_attention`] on tensors, `local` the `v_local` convolution's
/// `(weight, bias)`.
pub fn talking_head_attention(
    [q, k, v]: [Tensor<4>; 3],
    local: (&Tensor<4>, &Tensor<1>),
    mixing: &TalkingHeads,
    heads: usize,
    gelu: bool,
) -> Tensor<4> {
    Tensor::from_dispatch(<Dispatch as FusedOps>::talking_head_attention(
        q.into_dispatch(),
        k.into_dispatch(),
        v.into_dispatch(),
        local.0.clone().into_dispatch(),
        local.1.clone().into_dispatch(),
        mixing.talking_head1.clone().into_dispatch(),
        mixing.bias.clone().into_dispatch(),
        mixing.talking_head2.clone().into_dispatch(),
        mixing.talking_head2_bias.clone().into_dispatch(),
        heads,
        gelu,
    ))
}

/// [`FusedOps::biased_attention`] on tensors, `local` the `v_local` convolution's `(weight,
/// bias)`.
pub fn biased_attention([q, k, v]: [Tensor<4>; 3], local: (&Tensor<4>, &Tensor<1>), bias: &Tensor<4>, heads: usize, gelu: bool) -> Tensor<4> {
    Tensor::from_dispatch(<Dispatch as FusedOps>::biased_attention(
        q.into_dispatch(),
        k.into_dispatch(),
        v.into_dispatch(),
        local.0.clone().into_dispatch(),
        local.1.clone().into_dispatch(),
        bias.clone().into_dispatch(),
        heads,
        gelu,
    ))
}
