//! [`FusedOps`] on burn-flex: channels-last maps in and out, the kernels of
//! [`crate::kernels`] in between. Shapes or dtypes the kernels do not cover fall back to the
//! composed ops.

use std::borrow::Cow;

use burn::backend::flex::{FlexTensor, Layout};
use burn::backend::ops::{ActivationOps, FloatTensorOps};
use burn::backend::{Bytes, DType, Flex, TensorMetadata};
use burn::tensor::{FloatDType, Shape};
use half::f16;

use super::{FusedOps, composed, local_value, recycled};
use crate::kernels::attention::{AttentionShape, ScoreMixing, attention};
use crate::kernels::buffers;
use crate::kernels::conv_mlp::{MlpWeights, conv_mlp_residual};
use crate::kernels::dense::dense_conv3x3;
use crate::kernels::depthwise::{Geometry, depthwise_conv3x3};
use crate::kernels::gelu::gelu_in_place;
use crate::kernels::lanes::{Element, narrowed, widened};
use crate::kernels::matmul::{Epilogue, Matrix};
use crate::kernels::microkernel::{NARROW_PANEL, pack_panels, packed_columns, panel_width};
use crate::kernels::parallel;
use crate::kernels::pointwise::{PackedWeight, pointwise_conv, pointwise_conv_new};
use crate::kernels::pool::spatial_mean;
use crate::kernels::transpose::nchw_to_nhwc;
use crate::kernels::upsample::bilinear_upsample;

/// Elements per task of a standalone GELU.
const GELU_CHUNK: usize = 4096;
/// Maps at least this wide run their FFN as one fused walk over rows
/// ([`crate::kernels::conv_mlp`]): the 56x56 and 28x28 stages, whose expanded maps outgrow
/// L2. Narrower maps fit in it whole, and a walk would read the product weights once per row
/// of 14 or 7 pixels.
const FUSED_MLP_MIN_WIDTH: usize = 28;

/// A value type the kernels run on, as burn-flex stores it: `f32`, or `f16` for
/// `Precision::F16` (every tensor of a call in the same type; the attention's position biases
/// and mixing weights, the upsampling matrix and the head's norm stay `f32`).
pub trait Stored: Element + burn::tensor::Element {
    const DTYPE: DType;
}

impl Stored for f32 {
    const DTYPE: DType = DType::F32;
}

impl Stored for f16 {
    const DTYPE: DType = DType::F16;
}

/// Runs `$op::<E>` with `E` the stored type of the tensor `$x` (`f32` or `f16`), or evaluates
/// `$otherwise` for any other dtype.
macro_rules! by_dtype {
    ($x:expr, $op:ident ($($arg:expr),*), $otherwise:expr) => {
        match $x.dtype() {
            DType::F32 => $op::<f32>($($arg),*),
            DType::F16 => $op::<f16>($($arg),*),
            _ => $otherwise,
        }
    };
}

/// `[B, C, H, W]` of a 4-D tensor.
fn dims(x: &FlexTensor) -> [usize; 4] {
    let shape = x.shape();
    [shape[0], shape[1], shape[2], shape[3]]
}

/// The map as a contiguous `[B, H, W, C]` tensor: a view of a channels-last map, a
/// transposed copy of a row-major one (the input image), a strided copy otherwise.
fn channels_last<E: Stored>(x: &FlexTensor) -> FlexTensor {
    let view = x.permute(&[0, 2, 3, 1]);
    if view.as_slice::<E>().is_some() {
        return view;
    }
    let Some(planes) = x.as_slice::<E>() else { return view.to_contiguous() };
    let [b, c, h, w] = dims(x);
    let out = nchw_to_nhwc(planes, [b, c, h, w]);
    FlexTensor::new(recycled::bytes(out), Layout::contiguous(Shape::new([b, h, w, c])), E::DTYPE)
}

/// The values of a tensor in row-major order (weights are contiguous; this copies otherwise).
fn row_major<E: Stored>(x: &FlexTensor) -> FlexTensor {
    if x.as_slice::<E>().is_some() { x.clone() } else { x.to_contiguous() }
}

/// Slice of a tensor of `E` known to be contiguous.
fn values<E: Stored>(x: &FlexTensor) -> &[E] {
    x.as_slice::<E>().expect("contiguous tensor of the kernel's type")
}

/// The values of a small `f32` tensor (position biases, mixing weights, the upsampling
/// matrix), in row-major order, whatever type it is stored in.
fn f32_values(x: &FlexTensor) -> Cow<'_, [f32]> {
    match x.dtype() {
        DType::F32 if x.as_slice::<f32>().is_some() => Cow::Borrowed(values::<f32>(x)),
        _ => Cow::Owned(x.clone().into_data().convert::<f32>().to_vec::<f32>().expect("float tensor")),
    }
}

/// A `[B, C, H, W]` tensor over channels-last `data` (a kernel's output; its buffer is
/// recycled when the tensor is dropped).
fn from_channels_last<E: Stored>(data: Vec<E>, [b, c, h, w]: [usize; 4]) -> FlexTensor {
    let strides = vec![(h * w * c) as isize, 1, (w * c) as isize, c as isize];
    FlexTensor::new(recycled::bytes(data), Layout::new(Shape::new([b, c, h, w]), strides, 0), E::DTYPE)
}

/// Whether `x`'s storage holds its elements and nothing else, in any order (row-major,
/// channels-last): a kernel may then map over the storage as it lies.
fn dense_storage(x: &FlexTensor) -> bool {
    x.layout().start_offset() == 0 && x.bytes().len() == x.shape().num_elements() * x.dtype().size()
}

/// `x` as a channels-last map whose storage this call owns alone (so a kernel may write the
/// result into it): `x` itself when it already is one, else a copy.
fn owned_channels_last<E: Stored>(mut x: FlexTensor) -> FlexTensor {
    let shape = dims(&x);
    if dense_storage(&x) && x.layout().permute(&[0, 2, 3, 1]).is_contiguous() && x.try_storage_mut::<E>().is_some() {
        return x;
    }
    let mut copy = buffers::take(x.shape().num_elements());
    copy.extend_from_slice(values::<E>(&channels_last::<E>(&x)));
    from_channels_last(copy, shape)
}

/// Strides of a convolution weight `[O, I, KH, KW]` stored `[KH, KW, I, O]` (HWIO): each
/// kernel tap is an `[in, out]` matrix, row-major.
fn hwio_strides([o, i, _, kw]: [usize; 4]) -> Vec<isize> {
    vec![1, o as isize, (kw * i * o) as isize, (i * o) as isize]
}

/// A convolution weight's values in HWIO order: its storage when it was packed at load
/// ([`FusedOps::pack_conv_weight`]), a reordered copy otherwise.
fn hwio<E: Stored>(weight: &FlexTensor) -> Cow<'_, [E]> {
    let shape = dims(weight);
    let [o, i, kh, kw] = shape;
    let layout = weight.layout();
    if layout.start_offset() == 0 && layout.strides() == hwio_strides(shape) && weight.bytes().len() == o * i * kh * kw * size_of::<E>() {
        return Cow::Borrowed(weight.storage::<E>());
    }
    let row_major = row_major::<E>(weight);
    let mut packed = vec![E::ZERO; o * i * kh * kw];
    for (out_channel, filter) in values::<E>(&row_major).chunks_exact(i * kh * kw).enumerate() {
        for (in_channel, taps) in filter.chunks_exact(kh * kw).enumerate() {
            for (tap, &w) in taps.iter().enumerate() {
                packed[(tap * i + in_channel) * o + out_channel] = w;
            }
        }
    }
    Cow::Owned(packed)
}

/// Output channels of a convolution: its bias's length. (A packed weight's shape counts
/// panels; the convolutions that take one always take its bias too.)
fn out_channels(bias: &FlexTensor) -> usize {
    bias.shape().num_elements()
}

/// A weight packed in panels by [`FusedOps::pack_conv_weight`] for `out_channels` outputs,
/// and its kernel size: stored as a contiguous `[columns / NARROW_PANEL, in, NARROW_PANEL, taps]`
/// tensor (`columns` the panels' [`packed_columns`], taps 1 for a 1x1 kernel, 9 for a 3x3 one),
/// a shape no square convolution kernel has.
fn panels<E: Stored>(weight: &FlexTensor, out_channels: usize) -> Option<(PackedWeight<'_, E>, usize)> {
    let [narrow_panels, in_channels, width, taps] = dims(weight);
    if weight.dtype() != E::DTYPE || width != NARROW_PANEL || !matches!(taps, 1 | 9) || packed_columns::<E>(out_channels) != narrow_panels * NARROW_PANEL {
        return None;
    }
    let panels = weight.as_slice::<E>()?;
    let kernel = if taps == 1 { 1 } else { 3 };
    Some((PackedWeight { panels, depth: taps * in_channels, out_channels }, kernel))
}

/// A weight `[out, in, k, k]` packed in panels over the depth `(ky, kx, in)`, stored as
/// [`panels`] reads it.
fn packed<E: Stored>(weight: &FlexTensor) -> FlexTensor {
    let [out, input, kernel, _] = dims(weight);
    let taps = kernel * kernel;
    let plain = row_major::<E>(weight);
    // PyTorch's `[out, (in, ky, kx)]`, reordered to `[out, (ky, kx, in)]` for a 3x3 kernel.
    let by_output = match taps {
        1 => Cow::Borrowed(values::<E>(&plain)),
        _ => Cow::Owned(
            values::<E>(&plain).chunks_exact(input * taps).flat_map(|filter| (0..taps).flat_map(move |t| (0..input).map(move |c| filter[c * taps + t]))).collect(),
        ),
    };
    let panels: Vec<E> = pack_panels(Matrix::transposed(&by_output, input * taps, out));
    let shape = Shape::new([packed_columns::<E>(out) / NARROW_PANEL, input, NARROW_PANEL, taps]);
    FlexTensor::new(Bytes::from_elems(panels), Layout::contiguous(shape), E::DTYPE)
}

/// A 1x1 or dense 3x3 weight in panels: as it was packed at load time, or packed now (a
/// weight handed to the op as PyTorch lays it out).
fn in_panels<E: Stored>(weight: &FlexTensor, out_channels: usize) -> Cow<'_, FlexTensor> {
    match panels::<E>(weight, out_channels) {
        Some(_) => Cow::Borrowed(weight),
        None => Cow::Owned(packed::<E>(weight)),
    }
}

/// `[out, in / groups, k, k]` of a convolution weight with `bias`, packed or not.
fn conv_dims<E: Stored>(weight: &FlexTensor, bias: &FlexTensor) -> [usize; 4] {
    match panels::<E>(weight, out_channels(bias)) {
        Some((packed, kernel)) => [packed.out_channels, packed.depth / (kernel * kernel), kernel, kernel],
        None => dims(weight),
    }
}

/// The weight as burn's own ops read it (`[out, in / groups, k, k]`), for the composed
/// fallback: a packed weight unpacked, any other as it is.
fn unpacked(weight: FlexTensor, out_channels: usize) -> FlexTensor {
    by_dtype!(weight, unpacked_as(weight, out_channels), weight)
}

fn unpacked_as<E: Stored>(weight: FlexTensor, out_channels: usize) -> FlexTensor {
    let Some((PackedWeight { panels, depth, .. }, kernel)) = panels::<E>(&weight, out_channels) else { return weight };
    let (taps, in_channels) = (kernel * kernel, depth / (kernel * kernel));
    let mut plain = vec![E::ZERO; out_channels * depth];
    for first in (0..out_channels).step_by(E::PANEL) {
        let width = panel_width::<E>(out_channels, first);
        for (p, row) in panels[first * depth..][..depth * width].chunks_exact(width).enumerate() {
            // Depth index `p` is tap `p / in`, input channel `p % in`.
            let (tap, input) = (p / in_channels, p % in_channels);
            for (lane, &w) in row.iter().enumerate().take(out_channels - first) {
                plain[((first + lane) * in_channels + input) * taps + tap] = w;
            }
        }
    }
    let shape = Shape::new([out_channels, in_channels, kernel, kernel]);
    FlexTensor::new(Bytes::from_elems(plain), Layout::contiguous(shape), E::DTYPE)
}

/// Whether every tensor holds `E`.
fn all_of<E: Stored>(tensors: &[&FlexTensor]) -> bool {
    tensors.iter().all(|t| t.dtype() == E::DTYPE)
}

/// Which kernel runs a convolution, if any.
enum ConvKernel {
    Pointwise,
    Depthwise,
    Dense,
}

fn conv_kernel<E: Stored>(x: &FlexTensor, weight: &FlexTensor, bias: &FlexTensor, stride: usize, groups: usize) -> Option<ConvKernel> {
    let [_, channels, _, _] = dims(x);
    let [out, in_per_group, kernel, kernel_w] = conv_dims::<E>(weight, bias);
    if !all_of::<E>(&[x, weight, bias]) || kernel != kernel_w || out_channels(bias) != out {
        return None;
    }
    match (kernel, stride, groups) {
        (1, 1, 1) => Some(ConvKernel::Pointwise),
        (3, 1 | 2, g) if g == channels && in_per_group == 1 && out == channels => Some(ConvKernel::Depthwise),
        (3, 1 | 2, 1) => Some(ConvKernel::Dense),
        _ => None,
    }
}

/// `act(conv2d(x, weight, bias))` by `kernel`, into a new channels-last map.
fn run_conv<E: Stored>(kernel: ConvKernel, x: FlexTensor, weight: &FlexTensor, bias: &FlexTensor, stride: usize, gelu: bool) -> FlexTensor {
    let [batch, channels, height, width] = dims(&x);
    let out = out_channels(bias);
    let geometry = Geometry { batch, height, width, channels, stride };
    let (out_h, out_w) = geometry.output_size();
    let input = channels_last::<E>(&x);
    let bias = row_major::<E>(bias);
    let output = match kernel {
        ConvKernel::Depthwise => depthwise_conv3x3(values::<E>(&input), geometry, &hwio::<E>(weight), values(&bias), gelu),
        ConvKernel::Pointwise | ConvKernel::Dense => {
            let weight = in_panels::<E>(weight, out);
            let (packed, _) = panels::<E>(&weight, out).expect("weight in panels");
            match kernel {
                ConvKernel::Pointwise => pointwise_conv_new(values(&input), packed, values(&bias), gelu),
                _ => dense_conv3x3(values(&input), geometry, packed, values(&bias), gelu),
            }
        }
    };
    from_channels_last(output, [batch, out, out_h, out_w])
}

/// `residual += conv1x1(input, weight) + bias` in the storage of `residual`, an owned
/// channels-last map; `input` is `[B, H, W, C]` ([`channels_last`]).
fn pointwise_add_into<E: Stored>(input: &FlexTensor, weight: &FlexTensor, bias: &FlexTensor, mut residual: FlexTensor) -> FlexTensor {
    let out = out_channels(bias);
    let bias = row_major::<E>(bias);
    let epilogue = Epilogue { bias: Some(values::<E>(&bias)), accumulate: true, gelu: false };
    let weight = in_panels::<E>(weight, out);
    let (packed, _) = panels::<E>(&weight, out).expect("weight in panels");
    pointwise_conv(values(input), packed, residual.try_storage_mut::<E>().expect("owned storage"), epilogue);
    residual
}

impl FusedOps for Flex {
    fn pack_conv_weight(weight: FlexTensor) -> FlexTensor {
        if weight.shape().num_dims() != 4 {
            return weight;
        }
        by_dtype!(weight, pack_conv_weight_as(weight), weight)
    }

    fn conv_bias_act(x: FlexTensor, weight: FlexTensor, bias: FlexTensor, stride: usize, groups: usize, gelu: bool) -> FlexTensor {
        by_dtype!(x, conv_bias_act_as(x, weight, bias, stride, groups, gelu), conv_bias_act_composed(x, weight, bias, stride, groups, gelu))
    }

    fn conv_bias_add(
        x: FlexTensor,
        weight: FlexTensor,
        bias: FlexTensor,
        residual: FlexTensor,
        stride: usize,
        groups: usize,
    ) -> FlexTensor {
        by_dtype!(x, conv_bias_add_as(x, weight, bias, residual, stride, groups), conv_bias_add_composed(x, weight, bias, residual, stride, groups))
    }

    fn conv_mlp_residual(
        x: FlexTensor,
        fc1_weight: FlexTensor,
        fc1_bias: FlexTensor,
        mid_weight: FlexTensor,
        mid_bias: FlexTensor,
        fc2_weight: FlexTensor,
        fc2_bias: FlexTensor,
    ) -> FlexTensor {
        let convs = [fc1_weight, fc1_bias, mid_weight, mid_bias, fc2_weight, fc2_bias];
        let composed = |x, [fc1_weight, fc1_bias, mid_weight, mid_bias, fc2_weight, fc2_bias]: [FlexTensor; 6]| {
            composed::conv_mlp_residual::<Flex>(x, [fc1_weight, fc1_bias], [mid_weight, mid_bias], [fc2_weight, fc2_bias])
        };
        by_dtype!(x, conv_mlp_residual_as(x, convs), composed(x, convs))
    }

    fn bilinear_upsample(x: FlexTensor, matrix_t: FlexTensor, gelu: bool) -> FlexTensor {
        let [_, _, rows, cols] = dims(&x);
        if rows != cols || matrix_t.shape()[0] != rows {
            return composed::bilinear_upsample::<Flex>(x, matrix_t, gelu);
        }
        by_dtype!(x, bilinear_upsample_as(x, matrix_t, gelu), composed::bilinear_upsample::<Flex>(x, matrix_t, gelu))
    }

    fn convert(x: FlexTensor, dtype: FloatDType) -> FlexTensor {
        // A dense tensor (row-major or channels-last) is converted over its storage as it lies,
        // and keeps its layout; anything else goes through burn's cast.
        let dense = dense_storage(&x);
        match (x.dtype(), dtype) {
            (DType::F32, FloatDType::F16) if dense => {
                let half: Vec<f16> = narrowed(x.storage::<f32>());
                FlexTensor::new(recycled::bytes(half), x.layout().clone(), DType::F16)
            }
            (DType::F16, FloatDType::F32) if dense => {
                let wide = widened(x.storage::<f16>()).into_owned();
                FlexTensor::new(recycled::bytes(wide), x.layout().clone(), DType::F32)
            }
            _ => Flex::float_cast(x, dtype),
        }
    }

    fn spatial_mean(x: FlexTensor) -> FlexTensor {
        let [batch, channels, _, _] = dims(&x);
        if batch * channels == 0 {
            return composed::spatial_mean::<Flex>(x);
        }
        by_dtype!(x, spatial_mean_as(x), composed::spatial_mean::<Flex>(x))
    }

    fn gelu_exact(x: FlexTensor) -> FlexTensor {
        by_dtype!(x, gelu_as(x), Flex::gelu(x))
    }

    fn talking_head_attention(
        q: FlexTensor,
        k: FlexTensor,
        v: FlexTensor,
        local_weight: FlexTensor,
        local_bias: FlexTensor,
        talking_head1: FlexTensor,
        bias: FlexTensor,
        talking_head2: FlexTensor,
        talking_head2_bias: FlexTensor,
        heads: usize,
        gelu: bool,
    ) -> FlexTensor {
        // The local branch is the depthwise kernel's, into the map the products accumulate on.
        let local = local_value::<Flex>(&q, v.clone(), local_weight, local_bias);
        let maps = [q, k, v, local];
        let Some(shape) = attention_shape(&maps, heads) else {
            let [q, k, v, local] = maps;
            return composed::talking_head_attention::<Flex>(
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
            );
        };
        let (th1, bias, th2, th2_bias) = (f32_values(&talking_head1), f32_values(&bias), f32_values(&talking_head2), f32_values(&talking_head2_bias));
        let mixing = ScoreMixing::TalkingHeads { th1: &th1, bias: &bias, th2: &th2, th2_bias: &th2_bias };
        by_dtype!(maps[0], run_attention(maps, shape, mixing, gelu), unreachable!("attention_shape checks the maps' type"))
    }

    fn biased_attention(
        q: FlexTensor,
        k: FlexTensor,
        v: FlexTensor,
        local_weight: FlexTensor,
        local_bias: FlexTensor,
        bias: FlexTensor,
        heads: usize,
        gelu: bool,
    ) -> FlexTensor {
        let local = local_value::<Flex>(&q, v.clone(), local_weight, local_bias);
        let maps = [q, k, v, local];
        let Some(shape) = attention_shape(&maps, heads) else {
            let [q, k, v, local] = maps;
            return composed::biased_attention::<Flex>(q, k, v, local, bias, heads, gelu);
        };
        let bias = f32_values(&bias);
        by_dtype!(maps[0], run_attention(maps, shape, ScoreMixing::Bias(&bias), gelu), unreachable!("attention_shape checks the maps' type"))
    }
}

fn pack_conv_weight_as<E: Stored>(weight: FlexTensor) -> FlexTensor {
    let shape = dims(&weight);
    match shape {
        [_, _, 1, 1] => return packed::<E>(&weight),
        // Dense 3x3 (the stem, the downsamplings; not depthwise, whose `in` is 1); an
        // unpacked one is packed on every call.
        [_, input, 3, 3] if input > 1 => return packed::<E>(&weight),
        _ => {}
    }
    let packed = hwio::<E>(&weight).into_owned();
    FlexTensor::new(Bytes::from_elems(packed), Layout::new(Shape::new(shape), hwio_strides(shape), 0), E::DTYPE)
}

fn conv_bias_act_as<E: Stored>(x: FlexTensor, weight: FlexTensor, bias: FlexTensor, stride: usize, groups: usize, gelu: bool) -> FlexTensor {
    match conv_kernel::<E>(&x, &weight, &bias, stride, groups) {
        Some(kernel) => run_conv::<E>(kernel, x, &weight, &bias, stride, gelu),
        None => conv_bias_act_composed(x, weight, bias, stride, groups, gelu),
    }
}

/// [`FusedOps::conv_bias_act`] by burn's own ops, on the weight unpacked.
fn conv_bias_act_composed(x: FlexTensor, weight: FlexTensor, bias: FlexTensor, stride: usize, groups: usize, gelu: bool) -> FlexTensor {
    let weight = unpacked(weight, out_channels(&bias));
    composed::conv_bias_act::<Flex>(x, weight, bias, stride, groups, gelu)
}

fn conv_bias_add_composed(x: FlexTensor, weight: FlexTensor, bias: FlexTensor, residual: FlexTensor, stride: usize, groups: usize) -> FlexTensor {
    Flex::float_add(residual, conv_bias_act_composed(x, weight, bias, stride, groups, false))
}

fn conv_bias_add_as<E: Stored>(
    x: FlexTensor,
    weight: FlexTensor,
    bias: FlexTensor,
    residual: FlexTensor,
    stride: usize,
    groups: usize,
) -> FlexTensor {
    let [batch, _, height, width] = dims(&x);
    let out = out_channels(&bias);
    let kernel = conv_kernel::<E>(&x, &weight, &bias, stride, groups)
        .filter(|_| residual.dtype() == E::DTYPE && dims(&residual)[..2] == [batch, out]);
    match kernel {
        Some(ConvKernel::Pointwise) if dims(&residual) == [batch, out, height, width] => {
            // The product accumulates straight into the residual's storage.
            pointwise_add_into::<E>(&channels_last::<E>(&x), &weight, &bias, owned_channels_last::<E>(residual))
        }
        Some(kernel) => {
            let out = run_conv::<E>(kernel, x, &weight, &bias, stride, false);
            if out.shape() == residual.shape() {
                add_channels_last::<E>(out, residual)
            } else {
                Flex::float_add(residual, out)
            }
        }
        None => conv_bias_add_composed(x, weight, bias, residual, stride, groups),
    }
}

fn conv_mlp_residual_as<E: Stored>(x: FlexTensor, convs: [FlexTensor; 6]) -> FlexTensor {
    let [batch, channels, height, width] = dims(&x);
    let [fc1_weight, fc1_bias, mid_weight, mid_bias, fc2_weight, fc2_bias] = &convs;
    let pointwise = |weight, bias| panels::<E>(weight, out_channels(bias)).and_then(|(packed, kernel)| (kernel == 1).then_some(packed));
    let (fc1, fc2) = (pointwise(fc1_weight, fc1_bias), pointwise(fc2_weight, fc2_bias));
    let hidden = out_channels(fc1_bias);
    let shapes = width >= FUSED_MLP_MIN_WIDTH
        && all_of::<E>(&[&x, fc1_bias, mid_weight, mid_bias, fc2_bias])
        && fc1.is_some_and(|fc1| fc1.depth == channels)
        && fc2.is_some_and(|fc2| fc2.depth == hidden && fc2.out_channels == channels)
        && dims(mid_weight) == [hidden, 1, 3, 3]
        && out_channels(mid_bias) == hidden;
    let (Some(fc1), Some(fc2), true) = (fc1, fc2, shapes) else {
        let [fc1_weight, fc1_bias, mid_weight, mid_bias, fc2_weight, fc2_bias] = convs;
        return composed::conv_mlp_residual::<Flex>(x, [fc1_weight, fc1_bias], [mid_weight, mid_bias], [fc2_weight, fc2_bias]);
    };
    let input = channels_last::<E>(&x);
    let (fc1_bias, mid_bias, fc2_bias) = (row_major::<E>(fc1_bias), row_major::<E>(mid_bias), row_major::<E>(fc2_bias));
    let weights = MlpWeights {
        fc1,
        fc1_bias: values(&fc1_bias),
        mid: &hwio::<E>(mid_weight),
        mid_bias: values(&mid_bias),
        fc2,
        fc2_bias: values(&fc2_bias),
    };
    let out = conv_mlp_residual(values(&input), [batch, height, width], weights);
    from_channels_last(out, [batch, channels, height, width])
}

fn bilinear_upsample_as<E: Stored>(x: FlexTensor, matrix_t: FlexTensor, gelu: bool) -> FlexTensor {
    let [batch, channels, rows, _] = dims(&x);
    let size = matrix_t.shape()[1];
    let input = channels_last::<E>(&x);
    let out = bilinear_upsample(values::<E>(&input), batch, rows, channels, &f32_values(&matrix_t));
    let out = from_channels_last(out, [batch, channels, size, size]);
    // A fresh dense map: GELU runs over it in place.
    if gelu { gelu_as::<E>(out) } else { out }
}

fn spatial_mean_as<E: Stored>(x: FlexTensor) -> FlexTensor {
    let [batch, channels, _, _] = dims(&x);
    let means = spatial_mean(values::<E>(&channels_last::<E>(&x)), batch, channels);
    FlexTensor::new(Bytes::from_elems(means), Layout::contiguous(Shape::new([batch, channels, 1, 1])), E::DTYPE)
}

fn gelu_as<E: Stored>(x: FlexTensor) -> FlexTensor {
    // A dense tensor (row-major or channels-last) is mapped over its storage as it lies,
    // copied first only when shared; anything else is made contiguous.
    let mut out = if dense_storage(&x) { x } else { x.to_contiguous() };
    parallel::for_each_chunk(out.storage_mut::<E>(), GELU_CHUNK, |_, chunk| gelu_in_place(chunk));
    out
}

/// The kernel's sizes, when the four maps hold the same type (`f32` or `f16`) and agree with
/// each other and with `heads`.
fn attention_shape([q, k, v, local]: &[FlexTensor; 4], heads: usize) -> Option<AttentionShape> {
    let ([b, qc, qh, qw], [kb, kc, kh, kw], [vb, vc, vh, vw], [lb, lc, lh, lw]) = (dims(q), dims(k), dims(v), dims(local));
    let consistent = heads > 0
        && matches!(q.dtype(), DType::F32 | DType::F16)
        && [k, v, local].iter().all(|t| t.dtype() == q.dtype())
        && [kb, vb, lb] == [b; 3]
        && qc == kc
        && qc % heads == 0
        && vc % heads == 0
        && lc == vc
        && [vh, vw] == [kh, kw]
        && [lh, lw] == [qh, qw];
    consistent.then(|| AttentionShape {
        batch: b,
        heads,
        queries: qh * qw,
        keys: kh * kw,
        key_dim: qc / heads,
        value_dim: vc / heads,
    })
}

fn run_attention<E: Stored>([q, k, v, local]: [FlexTensor; 4], shape: AttentionShape, mixing: ScoreMixing, gelu: bool) -> FlexTensor {
    let [q, k, v] = [&q, &k, &v].map(channels_last::<E>);
    // The products accumulate straight into the local value's storage.
    let mut out = owned_channels_last::<E>(local);
    attention(values::<E>(&q), values(&k), values(&v), out.try_storage_mut::<E>().expect("owned storage"), shape, mixing, gelu);
    out
}

/// `a + b` for a channels-last `a` (consumed) and any `b` of the same shape.
fn add_channels_last<E: Stored>(a: FlexTensor, b: FlexTensor) -> FlexTensor {
    let mut a = owned_channels_last::<E>(a);
    let b = channels_last::<E>(&b);
    let dst = a.try_storage_mut::<E>().expect("owned storage");
    dst.iter_mut().zip(values::<E>(&b)).for_each(|(d, v)| *d = E::from_f32(d.to_f32() + v.to_f32()));
    a
}

#[cfg(test)]
mod tests {
    //! Each kernel against the same op composed from burn-flex's own ops, on shapes that are
    //! awkward for it: channel counts that are no multiple of a SIMD width, 1x1 and 7x7 maps,
    //! batch 2, odd sizes under stride 2, and inputs in both memory layouts.

    use burn::tensor::TensorData;

    use super::*;
    use crate::weights::seeded::uniform;

    fn tensor(key: &str, shape: &[usize]) -> FlexTensor {
        let values = uniform(key, shape.iter().product(), 11, (-1.0, 1.0));
        FlexTensor::from_data(TensorData::new(values, shape.to_vec()))
    }

    /// The same values, stored channels-last.
    fn as_channels_last(x: &FlexTensor) -> FlexTensor {
        from_channels_last(values::<f32>(&channels_last::<f32>(x)).to_vec(), dims(x))
    }

    fn assert_close(got: FlexTensor, want: FlexTensor, what: &str) {
        assert_eq!(got.shape(), want.shape(), "{what}: shape");
        let (got, want) = (got.into_data().to_vec::<f32>().unwrap(), want.into_data().to_vec::<f32>().unwrap());
        for (i, (g, w)) in got.iter().zip(&want).enumerate() {
            assert!((g - w).abs() <= 1e-5 * w.abs().max(1.0), "{what}: element {i}: {g} vs {w}");
        }
    }

/// Convolutions: (batch, in, out, side, kernel, stride, groups).
const CONV_CASES: [(usize, usize, usize, usize, usize, usize, usize); 16] = [
        // Up to the next comment, no packed weight fills a whole panel: the 1x1 ones have
        // 21, 3 and 33 outputs (a last panel 5, 3 and 1 wide), the dense 3x3 ones 10 and 17.
        (2, 13, 21, 7, 1, 1, 1),
        (1, 5, 3, 1, 1, 1, 1),
        (2, 3, 10, 9, 3, 2, 1),
        (1, 19, 19, 7, 3, 1, 19),
        (2, 11, 11, 1, 3, 1, 11),
        (2, 11, 11, 9, 3, 2, 11),
        (1, 6, 17, 14, 3, 2, 1),
        (1, 7, 33, 60, 1, 1, 1),
        // Larger 1x1 weights: split by rows (13x13 = 169 pixels, not a multiple of the
        // 6-row tile) and by panels (3x3, batch 2, a depth of three blocks), and S1's 120
        // outputs (a last panel 8 wide) on its 14x14 map.
        (1, 97, 256, 13, 1, 1, 1),
        (2, 700, 48, 3, 1, 1, 1),
        (2, 64, 120, 14, 1, 1, 1),
        // Dense 3x3 weights in panels: the stem's 3 input channels on an odd map, batch 2
        // at stride 1 with two panels and a depth of 9 x 29, and 40 outputs (L's stem).
        (1, 3, 16, 17, 3, 2, 1),
        (2, 29, 32, 6, 3, 1, 1),
        (1, 20, 40, 9, 3, 2, 1),
        // Depthwise with a pixel pitch of 2 KiB, read through the padded copy: batch 2 at
        // stride 2 on an odd side, and stride 1.
        (2, 512, 512, 7, 3, 2, 512),
        (1, 512, 512, 4, 3, 1, 512),
    ];

    #[test]
    fn conv_bias_act_matches_composed_ops() {
        let pool = crate::kernels::parallel::ThreadPool::new(2).unwrap();
        let cases = CONV_CASES;
        for (case, &(batch, cin, cout, side, kernel, stride, groups)) in cases.iter().enumerate() {
            let x = tensor(&format!("x{case}"), &[batch, cin, side, side]);
            let weight = tensor(&format!("w{case}"), &[cout, cin / groups, kernel, kernel]);
            let bias = tensor(&format!("b{case}"), &[cout]);
            let out_side = (side - 1) / stride + 1;
            let residual = tensor(&format!("r{case}"), &[batch, cout, out_side, out_side]);
            let packed = Flex::pack_conv_weight(weight.clone());
            let inputs = [
                ("nchw", x.clone(), weight.clone()),
                ("nhwc", as_channels_last(&x), weight.clone()),
                ("nhwc packed", as_channels_last(&x), packed.clone()),
            ];
            // The composed ops read the packed weight, unpacked (the fallback for shapes no kernel takes).
            let packed_plain = composed::conv_bias_act::<Flex>(x.clone(), unpacked(packed.clone(), cout), bias.clone(), stride, groups, false);
            let plain = composed::conv_bias_act::<Flex>(x.clone(), weight.clone(), bias.clone(), stride, groups, false);
            assert_close(packed_plain, plain, &format!("case {case} composed ops on a packed weight"));
            for (layout, input, kernel_weight) in inputs {
                for gelu in [false, true] {
                    let want = composed::conv_bias_act::<Flex>(x.clone(), weight.clone(), bias.clone(), stride, groups, gelu);
                    let got = crate::kernels::parallel::install(&pool, || Flex::conv_bias_act(input.clone(), kernel_weight.clone(), bias.clone(), stride, groups, gelu));
                    assert_close(got, want, &format!("case {case} {layout} gelu {gelu}"));
                }
                let plain = composed::conv_bias_act::<Flex>(x.clone(), weight.clone(), bias.clone(), stride, groups, false);
                let want = Flex::float_add(residual.clone(), plain);
                for (residual_layout, r) in [("nchw", residual.clone()), ("nhwc", as_channels_last(&residual))] {
                    let got = crate::kernels::parallel::install(&pool, || Flex::conv_bias_add(input.clone(), kernel_weight.clone(), bias.clone(), r, stride, groups));
                    assert_close(got, want.clone(), &format!("case {case} {layout} + {residual_layout} residual"));
                }
            }
        }
    }

    /// The FFN with its residual: fused walks with `fc2` in whole panels (16 channels) and in a
    /// last panel 8 wide (40), on 28-wide maps (batch 2, odd height), and the unfused path on a
    /// narrower map.
    #[test]
    fn conv_mlp_residual_matches_composed_ops() {
        let pool = crate::kernels::parallel::ThreadPool::new(2).unwrap();
        // (batch, channels, height, width)
        for (case, &(batch, c, height, width)) in [(2, 16, 5, 28), (1, 40, 3, 30), (1, 32, 7, 7)].iter().enumerate() {
            let hidden = 4 * c;
            let x = tensor(&format!("mx{case}"), &[batch, c, height, width]);
            let convs = [[hidden, c, 1], [hidden, 1, 3], [c, hidden, 1]].map(|[o, i, k]| {
                (tensor(&format!("mw{case}{o}{i}"), &[o, i, k, k]), tensor(&format!("mb{case}{o}{i}"), &[o]))
            });
            let [(w1, b1), (w2, b2), (w3, b3)] = convs.clone();
            let want = composed::conv_mlp_residual::<Flex>(x.clone(), [w1, b1], [w2, b2], [w3, b3]);
            let [(w1, b1), (w2, b2), (w3, b3)] = convs.map(|(w, b)| (Flex::pack_conv_weight(w), b));
            let got = crate::kernels::parallel::install(&pool, || Flex::conv_mlp_residual(as_channels_last(&x), w1, b1, w2, b2, w3, b3));
            assert_close(got, want, &format!("conv mlp case {case}"));
        }
    }

    #[test]
    fn bilinear_upsample_matches_composed_ops() {
        let matrix = crate::model::attention::bilinear_matrix(5, 10);
        let matrix_t: Vec<f32> = (0..5).flat_map(|i| (0..10).map(move |o| (i, o))).map(|(i, o)| matrix[o * 5 + i]).collect();
        let matrix_t = FlexTensor::from_data(TensorData::new(matrix_t, [5, 10]));
        let x = tensor("u", &[2, 13, 5, 5]);
        for gelu in [false, true] {
            let want = composed::bilinear_upsample::<Flex>(x.clone(), matrix_t.clone(), gelu);
            assert_close(Flex::bilinear_upsample(as_channels_last(&x), matrix_t.clone(), gelu), want, &format!("upsample, gelu {gelu}"));
        }
    }

    #[test]
    fn gelu_matches_composed_op_in_both_layouts() {
        let x = tensor("g", &[2, 13, 5, 3]);
        let want = Flex::gelu(x.clone());
        assert_close(Flex::gelu_exact(x.clone()), want.clone(), "nchw");
        assert_close(Flex::gelu_exact(as_channels_last(&x)), want, "nhwc");
    }

    #[test]
    fn attention_matches_composed_ops() {
        // (batch, heads, key_dim, value_dim, query side, key side)
        for (case, &(batch, heads, kd, vd, qs, ks)) in [(2, 3, 5, 7, 7, 7), (1, 2, 4, 3, 3, 6), (2, 1, 9, 2, 1, 1)].iter().enumerate() {
            let q = tensor(&format!("q{case}"), &[batch, heads * kd, qs, qs]);
            let k = tensor(&format!("k{case}"), &[batch, heads * kd, ks, ks]);
            let v = tensor(&format!("v{case}"), &[batch, heads * vd, ks, ks]);
            // `v_local`: depthwise 3x3 onto the query map (stride 2 where the keys' map is twice).
            let (lw, lb) = (tensor(&format!("lw{case}"), &[heads * vd, 1, 3, 3]), tensor(&format!("lb{case}"), &[heads * vd]));
            let local = composed::conv_bias_act::<Flex>(v.clone(), lw.clone(), lb.clone(), if qs == ks { 1 } else { 2 }, heads * vd, false);
            let bias = tensor(&format!("bias{case}"), &[1, heads, qs * qs, ks * ks]);
            let th1 = tensor(&format!("th1{case}"), &[heads, heads, 1, 1]);
            let th2 = tensor(&format!("th2{case}"), &[heads, heads, 1, 1]);
            let th2_bias = tensor(&format!("th2b{case}"), &[heads]);
            let [cq, ck, cv] = [&q, &k, &v].map(as_channels_last);
            for gelu in [false, true] {
                let want = composed::biased_attention::<Flex>(q.clone(), k.clone(), v.clone(), local.clone(), bias.clone(), heads, gelu);
                let got = Flex::biased_attention(cq.clone(), ck.clone(), cv.clone(), lw.clone(), lb.clone(), bias.clone(), heads, gelu);
                assert_close(got, want, &format!("biased case {case}, gelu {gelu}"));

                let want = composed::talking_head_attention::<Flex>(
                    q.clone(), k.clone(), v.clone(), local.clone(), th1.clone(), bias.clone(), th2.clone(), th2_bias.clone(), heads, gelu,
                );
                let got = Flex::talking_head_attention(
                    q.clone(), ck.clone(), v.clone(), lw.clone(), lb.clone(), th1.clone(), bias.clone(), th2.clone(), th2_bias.clone(), heads, gelu,
                );
                assert_close(got, want, &format!("talking heads case {case}, gelu {gelu}"));
            }
        }
    }

    /// `x` stored in `f16` (its layout kept: a channels-last map stays one).
    fn half(x: &FlexTensor) -> FlexTensor {
        let data = x.clone().into_data().convert::<f16>();
        let plain = FlexTensor::from_data(data);
        if x.shape().num_dims() == 4 && x.layout().permute(&[0, 2, 3, 1]).is_contiguous() {
            from_channels_last(values::<f16>(&channels_last::<f16>(&plain)).to_vec(), dims(&plain))
        } else {
            plain
        }
    }

    /// An `f16` result against the `f32` op on the same operands: within `f16`'s rounding of a
    /// running sum of `depth` terms, `2e-3 · √depth` of the result's scale, plus GELU's error.
    fn assert_half_close(got: FlexTensor, want: FlexTensor, depth: usize, what: &str) {
        assert_eq!((got.shape(), got.dtype()), (want.shape(), DType::F16), "{what}: shape and type");
        let (got, want) = (got.into_data().convert::<f32>().to_vec::<f32>().unwrap(), want.into_data().to_vec::<f32>().unwrap());
        let scale = want.iter().fold(1f32, |m, w| m.max(w.abs()));
        let bound = 2e-3 * (depth as f32).sqrt() * scale + 6e-3;
        for (i, (g, w)) in got.iter().zip(&want).enumerate() {
            assert!((g - w).abs() <= bound, "{what}: element {i}: {g} vs {w} (bound {bound})");
        }
    }

    /// Every convolution kernel in `f16` (pointwise, depthwise and dense, with GELU and with a
    /// residual) against the same op in `f32` on the same shapes as above, weights packed from
    /// `f16` at load as the model packs them.
    #[test]
    fn half_convolutions_match_f32() {
        let pool = crate::kernels::parallel::ThreadPool::new(2).unwrap();
        for (case, &(batch, cin, cout, side, kernel, stride, groups)) in CONV_CASES.iter().enumerate() {
            let x = as_channels_last(&tensor(&format!("x{case}"), &[batch, cin, side, side]));
            let weight = tensor(&format!("w{case}"), &[cout, cin / groups, kernel, kernel]);
            let bias = tensor(&format!("b{case}"), &[cout]);
            let out_side = (side - 1) / stride + 1;
            let residual = as_channels_last(&tensor(&format!("r{case}"), &[batch, cout, out_side, out_side]));
            let (packed, packed_half) = (Flex::pack_conv_weight(weight.clone()), Flex::pack_conv_weight(half(&weight)));
            let depth = cin / groups * kernel * kernel;
            crate::kernels::parallel::install(&pool, || {
                for gelu in [false, true] {
                    let want = Flex::conv_bias_act(x.clone(), packed.clone(), bias.clone(), stride, groups, gelu);
                    let got = Flex::conv_bias_act(half(&x), packed_half.clone(), half(&bias), stride, groups, gelu);
                    assert_half_close(got, want, depth, &format!("case {case} gelu {gelu}"));
                }
                let want = Flex::conv_bias_add(x.clone(), packed.clone(), bias.clone(), residual.clone(), stride, groups);
                let got = Flex::conv_bias_add(half(&x), packed_half.clone(), half(&bias), half(&residual), stride, groups);
                assert_half_close(got, want, depth, &format!("case {case} + residual"));
            });
        }
    }

    /// The fused FFN walk in `f16` against `f32`, on the shapes of the test above.
    #[test]
    fn half_conv_mlp_residual_matches_f32() {
        let pool = crate::kernels::parallel::ThreadPool::new(2).unwrap();
        for (case, &(batch, c, height, width)) in [(2, 16, 5, 28), (1, 40, 3, 30), (1, 32, 7, 7)].iter().enumerate() {
            let hidden = 4 * c;
            let x = as_channels_last(&tensor(&format!("mx{case}"), &[batch, c, height, width]));
            let convs = [[hidden, c, 1], [hidden, 1, 3], [c, hidden, 1]].map(|[o, i, k]| {
                (tensor(&format!("mw{case}{o}{i}"), &[o, i, k, k]), tensor(&format!("mb{case}{o}{i}"), &[o]))
            });
            let [(w1, b1), (w2, b2), (w3, b3)] = convs.clone().map(|(w, b)| (Flex::pack_conv_weight(w), b));
            let want = crate::kernels::parallel::install(&pool, || Flex::conv_mlp_residual(x.clone(), w1, b1, w2, b2, w3, b3));
            let [(w1, b1), (w2, b2), (w3, b3)] = convs.map(|(w, b)| (Flex::pack_conv_weight(half(&w)), half(&b)));
            let got = crate::kernels::parallel::install(&pool, || Flex::conv_mlp_residual(half(&x), w1, b1, w2, b2, w3, b3));
            assert_half_close(got, want, hidden, &format!("conv mlp case {case}"));
        }
    }

    /// Both attention cores in `f16` (the position biases and mixing weights `f32`, as the
    /// model keeps them) against `f32`.
    #[test]
    fn half_attention_matches_f32() {
        for (case, &(batch, heads, kd, vd, qs, ks)) in [(2, 3, 5, 7, 7, 7), (1, 2, 4, 3, 3, 6), (2, 8, 32, 64, 7, 14)].iter().enumerate() {
            let maps = [("q", heads * kd, qs), ("k", heads * kd, ks), ("v", heads * vd, ks)]
                .map(|(name, channels, side)| as_channels_last(&tensor(&format!("{name}{case}"), &[batch, channels, side, side])));
            let local = [tensor(&format!("lw{case}"), &[heads * vd, 1, 3, 3]), tensor(&format!("lb{case}"), &[heads * vd])];
            let half_local = local.each_ref().map(half);
            let bias = tensor(&format!("bias{case}"), &[1, heads, qs * qs, ks * ks]);
            // GELU (the model's case) in every other case.
            let gelu = case % 2 == 0;
            let ([q, k, v], [lw, lb]) = (maps.clone(), local.clone());
            let want = Flex::biased_attention(q, k, v, lw, lb, bias.clone(), heads, gelu);
            let ([q, k, v], [lw, lb]) = (maps.each_ref().map(half), half_local.clone());
            let got = Flex::biased_attention(q, k, v, lw, lb, bias.clone(), heads, gelu);
            assert_half_close(got, want, kd.max(ks * ks), &format!("biased case {case}"));

            let th1 = tensor(&format!("th1{case}"), &[heads, heads, 1, 1]);
            let th2 = tensor(&format!("th2{case}"), &[heads, heads, 1, 1]);
            let th2_bias = tensor(&format!("th2b{case}"), &[heads]);
            let ([q, k, v], [lw, lb]) = (maps.clone(), local);
            let want = Flex::talking_head_attention(q, k, v, lw, lb, th1.clone(), bias.clone(), th2.clone(), th2_bias.clone(), heads, gelu);
            let ([q, k, v], [lw, lb]) = (maps.each_ref().map(half), half_local);
            let got = Flex::talking_head_attention(q, k, v, lw, lb, th1, bias, th2, th2_bias, heads, gelu);
            assert_half_close(got, want, kd.max(ks * ks), &format!("talking heads case {case}"));
        }
    }

    /// The conversion to `f16` is burn's cast, value for value: on a row-major tensor (ours, a
    /// vector at a time) with a length no multiple of a vector, and on a channels-last one
    /// (burn's own); and back to `f32`.
    #[test]
    fn convert_matches_burn_cast() {
        let x = tensor("c", &[2, 3, 7, 5]);
        for x in [x.clone(), as_channels_last(&x)] {
            let got = Flex::convert(x.clone(), FloatDType::F16);
            assert_eq!(got.dtype(), DType::F16);
            assert_eq!(got.clone().into_data(), Flex::float_cast(x.clone(), FloatDType::F16).into_data());
            assert_eq!(Flex::convert(got.clone(), FloatDType::F32).into_data(), Flex::float_cast(got, FloatDType::F32).into_data());
        }
    }

    /// Upsampling, the spatial mean and GELU in `f16` against `f32`.
    #[test]
    fn half_upsample_mean_and_gelu_match_f32() {
        let matrix = crate::model::attention::bilinear_matrix(5, 10);
        let matrix_t: Vec<f32> = (0..5).flat_map(|i| (0..10).map(move |o| (i, o))).map(|(i, o)| matrix[o * 5 + i]).collect();
        let matrix_t = FlexTensor::from_data(TensorData::new(matrix_t, [5, 10]));
        let x = as_channels_last(&tensor("u", &[2, 13, 5, 5]));
        for gelu in [false, true] {
            let want = Flex::bilinear_upsample(x.clone(), matrix_t.clone(), gelu);
            assert_half_close(Flex::bilinear_upsample(half(&x), matrix_t.clone(), gelu), want, 4, &format!("upsample, gelu {gelu}"));
        }
        let x = as_channels_last(&tensor("mean", &[3, 37, 7, 7]));
        assert_half_close(Flex::spatial_mean(half(&x)), Flex::spatial_mean(x.clone()), 1, "mean");
        let x = tensor("g", &[2, 13, 5, 3]);
        assert_half_close(Flex::gelu_exact(half(&x)), Flex::gelu_exact(x), 1, "gelu");
    }
}
