//! A 1x1 convolution with its bias and epilogue in one launch: timm's `ConvNorm` /
//! `ConvNormAct` with kernel 1 (BatchNorm folded into weight and bias), `ConvMlpWithNorm.fc1`
//! followed by GELU, and `fc2` / `Attention2d.proj` followed by the block's residual add.

use burn::backend::TensorMetadata;
use burn::tensor::Shape;
use burn_cubecl::kernel::into_contiguous;
use burn_cubecl::tensor::CubeTensor;
use cubecl::calculate_cube_count_elemwise;
use cubecl::prelude::*;

use super::empty_output;
use super::gelu::gelu;

/// What is applied to `weight · x + bias` before it is stored.
#[derive(Debug, Clone)]
pub enum Epilogue {
    /// Nothing.
    None,
    /// Exact GELU.
    Gelu,
    /// `+ residual` (`[B, out, H, W]`).
    Residual(CubeTensor),
}

/// Output channels one work item computes: each input value it loads feeds this many
/// multiply-adds.
const CHANNELS_PER_ITEM: usize = 4;

/// Threads per cube.
const THREADS: usize = 256;

/// Most slices the input channels are cut into ([`launch`] picks fewer when there are enough
/// work items to fill the GPU).
const MAX_SPLITS: usize = 16;

/// `channel`, or the last one past the end.
#[cube]
fn clamped_channel(channel: usize, out_channels: usize) -> usize {
    let mut clamped = channel;
    if clamped >= out_channels {
        clamped = out_channels - 1;
    }
    clamped
}

/// `sums[i] += Σ_c weight[first + i, c] · input[input_start + c · pixels]` over the input
/// channels `begin..end`, in `f32`; output channels past `out_channels` repeat the last one
/// (their results are not stored).
#[cube]
#[allow(clippy::too_many_arguments)]
fn partial_sums<F: Float>(
    input: &Tensor<F>,
    weight: &Tensor<F>,
    sums: &mut Array<f32>,
    input_start: usize,
    pixels: usize,
    channels: usize,
    begin: usize,
    end: usize,
    first: usize,
    out_channels: usize,
) {
    for channel in begin..end {
        let value = f32::cast_from(input[input_start + channel * pixels]);
        #[unroll]
        for i in 0..CHANNELS_PER_ITEM {
            sums[i] += f32::cast_from(weight[clamped_channel(first + i, out_channels) * channels + channel]) * value;
        }
    }
}

/// A work item is one pixel and [`CHANNELS_PER_ITEM`] output channels of one of `outputs`
/// convolutions of the same input (1 to 3: `Attention2d`'s q, k and v are one launch; the
/// unused arguments repeat the first's); `splits` threads share it, each summing one slice of
/// the input channels, and the first adds the slices up in shared memory (on the 7x7 maps
/// there are too few items for one thread each to keep a GPU busy, and a thread alone would
/// walk up to 1536 channels). Consecutive threads take consecutive pixels of the same slice, so
/// their input reads are contiguous, and share the weights (broadcast reads). Sums, bias,
/// GELU and residual in `f32` whatever `F` stores.
#[cube(launch)]
#[allow(clippy::too_many_arguments)]
fn pointwise_kernel<F: Float>(
    input: &Tensor<F>,
    weight0: &Tensor<F>,
    weight1: &Tensor<F>,
    weight2: &Tensor<F>,
    bias0: &Tensor<F>,
    bias1: &Tensor<F>,
    bias2: &Tensor<F>,
    residual: &Tensor<F>,
    output0: &mut Tensor<F>,
    output1: &mut Tensor<F>,
    output2: &mut Tensor<F>,
    channels: u32,
    out0: u32,
    out1: u32,
    out2: u32,
    pixels: u32,
    #[comptime] outputs: u32,
    #[comptime] splits: u32,
    #[comptime] apply_gelu: bool,
    #[comptime] add_residual: bool,
    #[define(F)] _dtype: ElemType,
) {
    let splits = splits as usize;
    let items_per_cube = THREADS / splits;
    let mut partial = Shared::<[f32]>::new_slice(THREADS * CHANNELS_PER_ITEM);
    let channels = channels as usize;
    let pixels = pixels as usize;
    let (out0, out1, out2) = (out0 as usize, out1 as usize, out2 as usize);
    // Channel groups of each output, one after the other.
    let (groups0, groups1) = (out0.div_ceil(CHANNELS_PER_ITEM), out1.div_ceil(CHANNELS_PER_ITEM));
    let mut groups = groups0;
    if outputs > 1 {
        groups += groups1;
    }
    if outputs > 2 {
        groups += out2.div_ceil(CHANNELS_PER_ITEM);
    }
    let unit = UNIT_POS as usize;
    let split = unit / items_per_cube;
    let item = CUBE_POS as usize * items_per_cube + unit % items_per_cube;
    let items = output0.shape(0) * groups * pixels;
    // Threads past the last item still reach the barrier; they read item 0 and store nothing.
    let valid = item < items;
    let mut current = item;
    if !valid {
        current = 0;
    }
    let pixel = current % pixels;
    let group = (current / pixels) % groups;
    let batch = current / (pixels * groups);
    // Which output, and the item's first channel and the channel count in it.
    let mut which = 0;
    let mut first = group * CHANNELS_PER_ITEM;
    let mut out_channels = out0;
    if group >= groups0 + groups1 {
        which = 2;
        first = (group - groups0 - groups1) * CHANNELS_PER_ITEM;
        out_channels = out2;
    } else if group >= groups0 {
        which = 1;
        first = (group - groups0) * CHANNELS_PER_ITEM;
        out_channels = out1;
    }
    let slice = channels.div_ceil(splits);
    let begin = split * slice;
    let mut end = begin + slice;
    if end > channels {
        end = channels;
    }
    let mut sums = Array::<f32>::new(CHANNELS_PER_ITEM);
    #[unroll]
    for i in 0..CHANNELS_PER_ITEM {
        sums[i] = 0.0_f32;
    }
    let input_start = batch * channels * pixels + pixel;
    if which == 0 {
        partial_sums::<F>(input, weight0, &mut sums, input_start, pixels, channels, begin, end, first, out_channels);
    } else if which == 1 {
        partial_sums::<F>(input, weight1, &mut sums, input_start, pixels, channels, begin, end, first, out_channels);
    } else {
        partial_sums::<F>(input, weight2, &mut sums, input_start, pixels, channels, begin, end, first, out_channels);
    }
    #[unroll]
    for i in 0..CHANNELS_PER_ITEM {
        partial[unit * CHANNELS_PER_ITEM + i] = sums[i];
    }
    sync_cube();
    if split == 0 && valid {
        #[unroll]
        for i in 0..CHANNELS_PER_ITEM {
            let out_channel = first + i;
            if out_channel < out_channels {
                let mut sum = 0.0_f32;
                if which == 0 {
                    sum += f32::cast_from(bias0[out_channel]);
                } else if which == 1 {
                    sum += f32::cast_from(bias1[out_channel]);
                } else {
                    sum += f32::cast_from(bias2[out_channel]);
                }
                for s in 0..splits {
                    sum += partial[(s * items_per_cube + unit) * CHANNELS_PER_ITEM + i];
                }
                let index = (batch * out_channels + out_channel) * pixels + pixel;
                if apply_gelu {
                    sum = gelu::<f32>(sum);
                }
                if add_residual {
                    sum += f32::cast_from(residual[index]);
                }
                if which == 0 {
                    output0[index] = F::cast_from(sum);
                } else if which == 1 {
                    output1[index] = F::cast_from(sum);
                } else {
                    output2[index] = F::cast_from(sum);
                }
            }
        }
    }
}

/// Slices of the input channels per work item: more while the launch has under 2^17 threads
/// and each slice keeps at least 16 channels.
fn splits(items: usize, channels: usize) -> usize {
    let mut splits = 1;
    while splits < MAX_SPLITS && items * splits * 2 <= 1 << 17 && channels / (splits * 2) >= 16 {
        splits *= 2;
    }
    splits
}

/// `epilogue(conv2d(x, weight, bias))` for `weight: [out, in, 1, 1]`, stride 1.
pub fn launch(x: CubeTensor, weight: CubeTensor, bias: CubeTensor, epilogue: Epilogue, dtype: ElemType) -> CubeTensor {
    let [output] = launch_many(x, [(weight, bias)], epilogue, dtype);
    output
}

/// `conv2d(x, weight_i, bias_i)` for each of 1 to 3 convolutions of `x` (`weight_i: [out_i, in,
/// 1, 1]`, stride 1) in one launch; `epilogue` only with one.
pub fn launch_many<const N: usize>(x: CubeTensor, convs: [(CubeTensor, CubeTensor); N], epilogue: Epilogue, dtype: ElemType) -> [CubeTensor; N] {
    assert!((1..=3).contains(&N) && (N == 1 || matches!(epilogue, Epilogue::None)), "pointwise: 1 to 3 convolutions, an epilogue only with one");
    let [batch, channels, height, width] = x.shape().dims::<4>();
    let x = into_contiguous(x);
    let convs = convs.map(|(weight, bias)| (into_contiguous(weight), into_contiguous(bias)));
    let outputs = convs.each_ref().map(|(weight, _)| empty_output(&x, Shape::new([batch, weight.shape()[0], height, width])));
    let out_channels: [usize; 3] = std::array::from_fn(|i| convs.get(i).map_or(0, |(weight, _)| weight.shape()[0]));
    let (apply_gelu, add_residual) = (matches!(epilogue, Epilogue::Gelu), matches!(epilogue, Epilogue::Residual(_)));
    // Without a residual the kernel never reads that argument; the first bias stands in for it.
    let residual = match epilogue {
        Epilogue::Residual(residual) => into_contiguous(residual),
        Epilogue::None | Epilogue::Gelu => convs[0].1.clone(),
    };
    let groups: usize = out_channels.iter().map(|out| out.div_ceil(CHANNELS_PER_ITEM)).sum();
    let items = batch * groups * height * width;
    let splits = splits(items, channels);
    let client = x.client.clone();
    let cube_dim = CubeDim::new_1d(THREADS as u32);
    let cube_count = calculate_cube_count_elemwise(&client, items * splits, cube_dim);
    // The arguments of the convolutions past the last repeat the first's (never read).
    let pick = |i: usize| convs.get(i).unwrap_or(&convs[0]).clone();
    let output = |i: usize| outputs.get(i).unwrap_or(&outputs[0]).clone().into_tensor_arg();
    let [(w0, b0), (w1, b1), (w2, b2)] = [pick(0), pick(1), pick(2)];
    pointwise_kernel::launch(
        &client,
        cube_count,
        cube_dim,
        x.into_tensor_arg(),
        w0.into_tensor_arg(),
        w1.into_tensor_arg(),
        w2.into_tensor_arg(),
        b0.into_tensor_arg(),
        b1.into_tensor_arg(),
        b2.into_tensor_arg(),
        residual.into_tensor_arg(),
        output(0),
        output(1),
        output(2),
        channels as u32,
        out_channels[0] as u32,
        out_channels[1] as u32,
        out_channels[2] as u32,
        (height * width) as u32,
        N as u32,
        splits as u32,
        apply_gelu,
        add_residual,
        dtype,
    );
    outputs
}
