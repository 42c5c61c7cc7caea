//! [`FusedOps`] on burn-flex: channels-last maps in and out, the kernels of
//! [`crate::kernels`] in between. Shapes or dtypes the kernels do not cover fall back to the
//! composed ops.

use std::borrow::Cow;

use burn::backend::flex::{FlexTensor, Layout};
use burn::backend::ops::{ActivationOps, FloatTensorOps};
use burn::backend::{Bytes, DType, Flex, TensorMetadata};
use burn::tensor::Shape;

use super::{FusedOps, composed, recycled};
use crate::kernels::attention::{AttentionShape, ScoreMixing, attention};
use crate::kernels::buffers;
use crate::kernels::conv_mlp::{MlpWeights, conv_mlp_residual};
use crate::kernels::dense::dense_conv3x3;
use crate::kernels::depthwise::{Geometry, depthwise_conv3x3};
use crate::kernels::gelu::gelu_in_place;
use crate::kernels::matmul::{Epilogue, Matrix};
use crate::kernels::parallel;
use crate::kernels::microkernel::{PANEL, pack_panels};
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

/// `[B, C, H, W]` of a 4-D tensor.
fn dims(x: &FlexTensor) -> [usize; 4] {
    let shape = x.shape();
    [shape[0], shape[1], shape[2], shape[3]]
}

/// The map as a contiguous `[B, H, W, C]` tensor: a view of a channels-last map, a
/// transposed copy of a row-major one (the input image), a strided copy otherwise.
fn channels_last(x: &FlexTensor) -> FlexTensor {
    let view = x.permute(&[0, 2, 3, 1]);
    if view.as_slice::<f32>().is_some() {
        return view;
    }
    let Some(planes) = x.as_slice::<f32>() else { return view.to_contiguous() };
    let [b, c, h, w] = dims(x);
    let out = nchw_to_nhwc(planes, [b, c, h, w]);
    FlexTensor::new(recycled::bytes(out), Layout::contiguous(Shape::new([b, h, w, c])), DType::F32)
}

/// The values of a tensor in row-major order (weights are contiguous; this copies otherwise).
fn row_major(x: &FlexTensor) -> FlexTensor {
    if x.as_slice::<f32>().is_some() { x.clone() } else { x.to_contiguous() }
}

/// Slice of an `f32` tensor known to be contiguous.
fn values(x: &FlexTensor) -> &[f32] {
    x.as_slice::<f32>().expect("contiguous f32 tensor")
}

/// A `[B, C, H, W]` tensor over channels-last `data` (a kernel's output; its buffer is
/// recycled when the tensor is dropped).
fn from_channels_last(data: Vec<f32>, [b, c, h, w]: [usize; 4]) -> FlexTensor {
    let strides = vec![(h * w * c) as isize, 1, (w * c) as isize, c as isize];
    FlexTensor::new(recycled::bytes(data), Layout::new(Shape::new([b, c, h, w]), strides, 0), DType::F32)
}

/// `x` as a channels-last map whose storage this call owns alone (so a kernel may write the
/// result into it): `x` itself when it already is one, else a copy.
fn owned_channels_last(mut x: FlexTensor) -> FlexTensor {
    let shape = dims(&x);
    let whole = x.layout().start_offset() == 0 && x.bytes().len() == shape.iter().product::<usize>() * 4;
    if whole && x.layout().permute(&[0, 2, 3, 1]).is_contiguous() && x.try_storage_mut::<f32>().is_some() {
        return x;
    }
    let mut copy = buffers::take(x.shape().num_elements());
    copy.extend_from_slice(values(&channels_last(&x)));
    from_channels_last(copy, shape)
}

/// Strides of a convolution weight `[O, I, KH, KW]` stored `[KH, KW, I, O]` (HWIO): each
/// kernel tap is an `[in, out]` matrix, row-major.
fn hwio_strides([o, i, _, kw]: [usize; 4]) -> Vec<isize> {
    vec![1, o as isize, (kw * i * o) as isize, (i * o) as isize]
}

/// A convolution weight's values in HWIO order: its storage when it was packed at load
/// ([`FusedOps::pack_conv_weight`]), a reordered copy otherwise.
fn hwio(weight: &FlexTensor) -> Cow<'_, [f32]> {
    let shape = dims(weight);
    let [o, i, kh, kw] = shape;
    let layout = weight.layout();
    if layout.start_offset() == 0 && layout.strides() == hwio_strides(shape) && weight.bytes().len() == o * i * kh * kw * 4 {
        return Cow::Borrowed(weight.storage::<f32>());
    }
    let row_major = row_major(weight);
    let mut packed = vec![0f32; o * i * kh * kw];
    for (out_channel, filter) in values(&row_major).chunks_exact(i * kh * kw).enumerate() {
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
/// and its kernel size: stored as a contiguous `[⌈out / PANEL⌉, in, PANEL, taps]` tensor
/// (taps 1 for a 1x1 kernel, 9 for a 3x3 one), a shape no square convolution kernel has.
fn panels(weight: &FlexTensor, out_channels: usize) -> Option<(PackedWeight<'_>, usize)> {
    let [panel_count, in_channels, width, taps] = dims(weight);
    if weight.dtype() != DType::F32 || width != PANEL || !matches!(taps, 1 | 9) || out_channels.div_ceil(PANEL) != panel_count {
        return None;
    }
    let panels = weight.as_slice::<f32>()?;
    let kernel = if taps == 1 { 1 } else { 3 };
    Some((PackedWeight { panels, depth: taps * in_channels, out_channels }, kernel))
}

/// A weight `[out, in, k, k]` packed in panels over the depth `(ky, kx, in)`, stored as
/// [`panels`] reads it.
fn packed(weight: &FlexTensor) -> FlexTensor {
    let [out, input, kernel, _] = dims(weight);
    let taps = kernel * kernel;
    let plain = row_major(weight);
    // PyTorch's `[out, (in, ky, kx)]`, reordered to `[out, (ky, kx, in)]` for a 3x3 kernel.
    let by_output = match taps {
        1 => Cow::Borrowed(values(&plain)),
        _ => Cow::Owned(
            values(&plain).chunks_exact(input * taps).flat_map(|filter| (0..taps).flat_map(move |t| (0..input).map(move |c| filter[c * taps + t]))).collect(),
        ),
    };
    let panels = pack_panels(Matrix::transposed(&by_output, input * taps, out));
    let shape = Shape::new([out.div_ceil(PANEL), input, PANEL, taps]);
    FlexTensor::new(Bytes::from_elems(panels), Layout::contiguous(shape), DType::F32)
}

/// A 1x1 or dense 3x3 weight in panels: as it was packed at load time, or packed now (a
/// weight handed to the op as PyTorch lays it out).
fn in_panels(weight: &FlexTensor, out_channels: usize) -> Cow<'_, FlexTensor> {
    match panels(weight, out_channels) {
        Some(_) => Cow::Borrowed(weight),
        None => Cow::Owned(packed(weight)),
    }
}

/// `[out, in / groups, k, k]` of a convolution weight with `bias`, packed or not.
fn conv_dims(weight: &FlexTensor, bias: &FlexTensor) -> [usize; 4] {
    match panels(weight, out_channels(bias)) {
        Some((packed, kernel)) => [packed.out_channels, packed.depth / (kernel * kernel), kernel, kernel],
        None => dims(weight),
    }
}

/// The weight as burn's own ops read it (`[out, in / groups, k, k]`), for the composed
/// fallback: a packed weight unpacked, any other as it is.
fn unpacked(weight: FlexTensor, out_channels: usize) -> FlexTensor {
    let Some((PackedWeight { panels, depth, .. }, kernel)) = panels(&weight, out_channels) else { return weight };
    let (taps, in_channels) = (kernel * kernel, depth / (kernel * kernel));
    let mut plain = vec![0f32; out_channels * depth];
    for (panel, values) in panels.chunks_exact(depth * PANEL).enumerate() {
        for (p, row) in values.chunks_exact(PANEL).enumerate() {
            // Depth index `p` is tap `p / in`, input channel `p % in`.
            let (tap, input) = (p / in_channels, p % in_channels);
            for (lane, &w) in row.iter().enumerate().take(out_channels - panel * PANEL) {
                plain[((panel * PANEL + lane) * in_channels + input) * taps + tap] = w;
            }
        }
    }
    let shape = Shape::new([out_channels, in_channels, kernel, kernel]);
    FlexTensor::new(Bytes::from_elems(plain), Layout::contiguous(shape), DType::F32)
}

fn all_f32(tensors: &[&FlexTensor]) -> bool {
    tensors.iter().all(|t| t.dtype() == DType::F32)
}

/// Which kernel runs a convolution, if any.
enum ConvKernel {
    Pointwise,
    Depthwise,
    Dense,
}

fn conv_kernel(x: &FlexTensor, weight: &FlexTensor, bias: &FlexTensor, stride: usize, groups: usize) -> Option<ConvKernel> {
    let [_, channels, _, _] = dims(x);
    let [out, in_per_group, kernel, kernel_w] = conv_dims(weight, bias);
    if !all_f32(&[x, weight, bias]) || kernel != kernel_w || out_channels(bias) != out {
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
fn run_conv(kernel: ConvKernel, x: FlexTensor, weight: &FlexTensor, bias: &FlexTensor, stride: usize, gelu: bool) -> FlexTensor {
    let [batch, channels, height, width] = dims(&x);
    let out = out_channels(bias);
    let geometry = Geometry { batch, height, width, channels, stride };
    let (out_h, out_w) = geometry.output_size();
    let input = channels_last(&x);
    let bias = row_major(bias);
    let output = match kernel {
        ConvKernel::Depthwise => depthwise_conv3x3(values(&input), geometry, &hwio(weight), values(&bias), gelu),
        ConvKernel::Pointwise | ConvKernel::Dense => {
            let weight = in_panels(weight, out);
            let (packed, _) = panels(&weight, out).expect("weight in panels");
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
fn pointwise_add_into(input: &FlexTensor, weight: &FlexTensor, bias: &FlexTensor, mut residual: FlexTensor) -> FlexTensor {
    let out = out_channels(bias);
    let bias = row_major(bias);
    let epilogue = Epilogue { bias: Some(values(&bias)), accumulate: true, gelu: false };
    let weight = in_panels(weight, out);
    let (packed, _) = panels(&weight, out).expect("weight in panels");
    pointwise_conv(values(input), packed, residual.try_storage_mut::<f32>().expect("owned storage"), epilogue);
    residual
}

impl FusedOps for Flex {
    fn pack_conv_weight(weight: FlexTensor) -> FlexTensor {
        if weight.dtype() != DType::F32 || weight.shape().num_dims() != 4 {
            return weight;
        }
        let shape = dims(&weight);
        match shape {
            [_, _, 1, 1] => return packed(&weight),
            // Dense 3x3 (the stem, the downsamplings; not depthwise, whose `in` is 1); an
            // unpacked one is packed on every call.
            [_, input, 3, 3] if input > 1 => return packed(&weight),
            _ => {}
        }
        let packed = hwio(&weight).into_owned();
        FlexTensor::new(Bytes::from_elems(packed), Layout::new(Shape::new(shape), hwio_strides(shape), 0), DType::F32)
    }

    fn conv_bias_act(x: FlexTensor, weight: FlexTensor, bias: FlexTensor, stride: usize, groups: usize, gelu: bool) -> FlexTensor {
        match conv_kernel(&x, &weight, &bias, stride, groups) {
            Some(kernel) => run_conv(kernel, x, &weight, &bias, stride, gelu),
            None => {
                let weight = unpacked(weight, out_channels(&bias));
                composed::conv_bias_act::<Flex>(x, weight, bias, stride, groups, gelu)
            }
        }
    }

    fn conv_bias_add(
        x: FlexTensor,
        weight: FlexTensor,
        bias: FlexTensor,
        residual: FlexTensor,
        stride: usize,
        groups: usize,
    ) -> FlexTensor {
        let [batch, _, height, width] = dims(&x);
        let out = out_channels(&bias);
        let kernel = conv_kernel(&x, &weight, &bias, stride, groups)
            .filter(|_| residual.dtype() == DType::F32 && dims(&residual)[..2] == [batch, out]);
        match kernel {
            Some(ConvKernel::Pointwise) if dims(&residual) == [batch, out, height, width] => {
                // The product accumulates straight into the residual's storage.
                pointwise_add_into(&channels_last(&x), &weight, &bias, owned_channels_last(residual))
            }
            Some(kernel) => {
                let out = run_conv(kernel, x, &weight, &bias, stride, false);
                if out.shape() == residual.shape() {
                    add_channels_last(out, residual)
                } else {
                    Flex::float_add(residual, out)
                }
            }
            None => {
                let y = composed::conv_bias_act::<Flex>(x, unpacked(weight, out), bias, stride, groups, false);
                Flex::float_add(residual, y)
            }
        }
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
        let [batch, channels, height, width] = dims(&x);
        let pointwise = |weight, bias| panels(weight, out_channels(bias)).and_then(|(packed, kernel)| (kernel == 1).then_some(packed));
        let (fc1, fc2) = (pointwise(&fc1_weight, &fc1_bias), pointwise(&fc2_weight, &fc2_bias));
        let hidden = out_channels(&fc1_bias);
        let shapes = width >= FUSED_MLP_MIN_WIDTH
            && all_f32(&[&x, &fc1_bias, &mid_weight, &mid_bias, &fc2_bias])
            && fc1.is_some_and(|fc1| fc1.depth == channels)
            && fc2.is_some_and(|fc2| fc2.depth == hidden && fc2.out_channels == channels)
            && dims(&mid_weight) == [hidden, 1, 3, 3]
            && out_channels(&mid_bias) == hidden;
        let (Some(fc1), Some(fc2), true) = (fc1, fc2, shapes) else {
            return composed::conv_mlp_residual::<Flex>(x, [fc1_weight, fc1_bias], [mid_weight, mid_bias], [fc2_weight, fc2_bias]);
        };
        let input = channels_last(&x);
        let (fc1_bias, mid_bias, fc2_bias) = (row_major(&fc1_bias), row_major(&mid_bias), row_major(&fc2_bias));
        let weights = MlpWeights {
            fc1,
            fc1_bias: values(&fc1_bias),
            mid: &hwio(&mid_weight),
            mid_bias: values(&mid_bias),
            fc2,
            fc2_bias: values(&fc2_bias),
        };
        let out = conv_mlp_residual(values(&input), [batch, height, width], weights);
        from_channels_last(out, [batch, channels, height, width])
    }

    fn bilinear_upsample(x: FlexTensor, matrix_t: FlexTensor) -> FlexTensor {
        let [batch, channels, rows, cols] = dims(&x);
        let matrix_dims = matrix_t.shape();
        if rows != cols || matrix_dims[0] != rows || !all_f32(&[&x, &matrix_t]) {
            return composed::bilinear_upsample::<Flex>(x, matrix_t);
        }
        let size = matrix_dims[1];
        let (input, matrix_t) = (channels_last(&x), row_major(&matrix_t));
        let out = bilinear_upsample(values(&input), batch, rows, channels, values(&matrix_t));
        from_channels_last(out, [batch, channels, size, size])
    }

    fn spatial_mean(x: FlexTensor) -> FlexTensor {
        let [batch, channels, _, _] = dims(&x);
        if x.dtype() != DType::F32 || batch * channels == 0 {
            return composed::spatial_mean::<Flex>(x);
        }
        let means = spatial_mean(values(&channels_last(&x)), batch, channels);
        FlexTensor::new(Bytes::from_elems(means), Layout::contiguous(Shape::new([batch, channels, 1, 1])), DType::F32)
    }

    fn gelu_exact(x: FlexTensor) -> FlexTensor {
        if x.dtype() != DType::F32 {
            return Flex::gelu(x);
        }
        // A dense tensor (row-major or channels-last) is mapped over its storage as it lies,
        // copied first only when shared; anything else is made contiguous.
        let dense = x.layout().start_offset() == 0 && x.bytes().len() == x.shape().num_elements() * 4;
        let mut out = if dense { x } else { x.to_contiguous() };
        parallel::for_each_chunk(out.storage_mut::<f32>(), GELU_CHUNK, |_, chunk| gelu_in_place(chunk));
        out
    }

    fn talking_head_attention(
        q: FlexTensor,
        k: FlexTensor,
        v: FlexTensor,
        local: FlexTensor,
        talking_head1: FlexTensor,
        bias: FlexTensor,
        talking_head2: FlexTensor,
        talking_head2_bias: FlexTensor,
        heads: usize,
    ) -> FlexTensor {
        let tensors = [&q, &k, &v, &local, &talking_head1, &bias, &talking_head2, &talking_head2_bias];
        let Some(shape) = attention_shape(&q, &k, &v, &local, heads).filter(|_| all_f32(&tensors)) else {
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
            );
        };
        let (th1, bias, th2, th2_bias) =
            (row_major(&talking_head1), row_major(&bias), row_major(&talking_head2), row_major(&talking_head2_bias));
        let mixing = ScoreMixing::TalkingHeads {
            th1: values(&th1),
            bias: values(&bias),
            th2: values(&th2),
            th2_bias: values(&th2_bias),
        };
        run_attention([q, k, v, local], shape, mixing)
    }

    fn biased_attention(
        q: FlexTensor,
        k: FlexTensor,
        v: FlexTensor,
        local: FlexTensor,
        bias: FlexTensor,
        heads: usize,
    ) -> FlexTensor {
        let Some(shape) = attention_shape(&q, &k, &v, &local, heads).filter(|_| all_f32(&[&q, &k, &v, &local, &bias]))
        else {
            return composed::biased_attention::<Flex>(q, k, v, local, bias, heads);
        };
        let bias = row_major(&bias);
        run_attention([q, k, v, local], shape, ScoreMixing::Bias(values(&bias)))
    }
}

/// The kernel's sizes, when the four maps agree with each other and with `heads`.
fn attention_shape(q: &FlexTensor, k: &FlexTensor, v: &FlexTensor, local: &FlexTensor, heads: usize) -> Option<AttentionShape> {
    let ([b, qc, qh, qw], [kb, kc, kh, kw], [vb, vc, vh, vw], [lb, lc, lh, lw]) = (dims(q), dims(k), dims(v), dims(local));
    let consistent = heads > 0
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

fn run_attention([q, k, v, local]: [FlexTensor; 4], shape: AttentionShape, mixing: ScoreMixing) -> FlexTensor {
    let [q, k, v] = [&q, &k, &v].map(channels_last);
    // The products accumulate straight into the local value's storage.
    let mut out = owned_channels_last(local);
    attention(values(&q), values(&k), values(&v), out.try_storage_mut::<f32>().expect("owned storage"), shape, mixing);
    out
}

/// `a + b` for a channels-last `a` (consumed) and any `b` of the same shape.
fn add_channels_last(a: FlexTensor, b: FlexTensor) -> FlexTensor {
    let mut a = owned_channels_last(a);
    let b = channels_last(&b);
    let dst = a.try_storage_mut::<f32>().expect("owned storage");
    dst.iter_mut().zip(values(&b)).for_each(|(d, v)| *d += v);
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
        from_channels_last(values(&channels_last(x)).to_vec(), dims(x))
    }

    fn assert_close(got: FlexTensor, want: FlexTensor, what: &str) {
        assert_eq!(got.shape(), want.shape(), "{what}: shape");
        let (got, want) = (got.into_data().to_vec::<f32>().unwrap(), want.into_data().to_vec::<f32>().unwrap());
        for (i, (g, w)) in got.iter().zip(&want).enumerate() {
            assert!((g - w).abs() <= 1e-5 * w.abs().max(1.0), "{what}: element {i}: {g} vs {w}");
        }
    }

    #[test]
    fn conv_bias_act_matches_composed_ops() {
        let pool = crate::kernels::parallel::ThreadPool::new(2).unwrap();
        // (batch, in, out, side, kernel, stride, groups)
        let cases = [
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
        let want = composed::bilinear_upsample::<Flex>(x.clone(), matrix_t.clone());
        assert_close(Flex::bilinear_upsample(as_channels_last(&x), matrix_t), want, "upsample");
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
            let local = tensor(&format!("l{case}"), &[batch, heads * vd, qs, qs]);
            let bias = tensor(&format!("bias{case}"), &[1, heads, qs * qs, ks * ks]);
            let want = composed::biased_attention::<Flex>(q.clone(), k.clone(), v.clone(), local.clone(), bias.clone(), heads);
            let [cq, ck, cv, cl] = [&q, &k, &v, &local].map(as_channels_last);
            let got = Flex::biased_attention(cq.clone(), ck.clone(), cv.clone(), cl.clone(), bias.clone(), heads);
            assert_close(got, want, &format!("biased case {case}"));

            let th1 = tensor(&format!("th1{case}"), &[heads, heads, 1, 1]);
            let th2 = tensor(&format!("th2{case}"), &[heads, heads, 1, 1]);
            let th2_bias = tensor(&format!("th2b{case}"), &[heads]);
            let want = composed::talking_head_attention::<Flex>(
                q.clone(), k.clone(), v.clone(), local.clone(), th1.clone(), bias.clone(), th2.clone(), th2_bias.clone(), heads,
            );
            let got = Flex::talking_head_attention(q, ck, v, cl, th1, bias, th2, th2_bias, heads);
            assert_close(got, want, &format!("talking heads case {case}"));
        }
    }
}
