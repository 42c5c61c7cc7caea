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

/// A work item is one pixel and [`CHANNELS_PER_ITEM`] output channels; `splits` threads share
/// it, each summing one slice of the input channels, and the first adds the slices up in
/// shared memory (on the 7x7 maps there are too few items for one thread each to keep a GPU
/// busy, and a thread alone would walk up to 1536 channels). Consecutive threads take
/// consecutive pixels of the same slice, so their input reads are contiguous, and share the
/// weights (broadcast reads).
#[cube(launch)]
fn pointwise_kernel<F: Float>(
    input: &Tensor<F>,
    weight: &Tensor<F>,
    bias: &Tensor<F>,
    residual: &Tensor<F>,
    output: &mut Tensor<F>,
    channels: u32,
    out_channels: u32,
    pixels: u32,
    #[comptime] splits: u32,
    #[comptime] apply_gelu: bool,
    #[comptime] add_residual: bool,
    #[define(F)] _dtype: ElemType,
) {
    let splits = splits as usize;
    let items_per_cube = THREADS / splits;
    let mut partial = Shared::new_slice(THREADS * CHANNELS_PER_ITEM);
    let channels = channels as usize;
    let out_channels = out_channels as usize;
    let pixels = pixels as usize;
    let groups = out_channels.div_ceil(CHANNELS_PER_ITEM);
    let unit = UNIT_POS as usize;
    let split = unit / items_per_cube;
    let item = CUBE_POS as usize * items_per_cube + unit % items_per_cube;
    let items = output.shape(0) * groups * pixels;
    // Threads past the last item still reach the barrier; they read item 0 and store nothing.
    let valid = item < items;
    let mut current = item;
    if !valid {
        current = 0;
    }
    let pixel = current % pixels;
    let first = (current / pixels) % groups * CHANNELS_PER_ITEM;
    let batch = current / (pixels * groups);
    let slice = channels.div_ceil(splits);
    let begin = split * slice;
    let mut end = begin + slice;
    if end > channels {
        end = channels;
    }
    let mut sums = Array::<F>::new(CHANNELS_PER_ITEM);
    #[unroll]
    for i in 0..CHANNELS_PER_ITEM {
        sums[i] = F::new(0.0_f32);
    }
    let input_start = batch * channels * pixels + pixel;
    for channel in begin..end {
        let value = input[input_start + channel * pixels];
        #[unroll]
        for i in 0..CHANNELS_PER_ITEM {
            // Channels past the last one repeat it (their results are not stored).
            sums[i] += weight[clamped_channel(first + i, out_channels) * channels + channel] * value;
        }
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
                let mut sum = bias[out_channel];
                for s in 0..splits {
                    sum += partial[(s * items_per_cube + unit) * CHANNELS_PER_ITEM + i];
                }
                let index = (batch * out_channels + out_channel) * pixels + pixel;
                if apply_gelu {
                    sum = gelu::<F>(sum);
                }
                if add_residual {
                    sum += residual[index];
                }
                output[index] = sum;
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
    let [batch, channels, height, width] = x.shape().dims::<4>();
    let out_channels = weight.shape()[0];
    let [x, weight, bias] = [x, weight, bias].map(into_contiguous);
    let output = empty_output(&x, Shape::new([batch, out_channels, height, width]));
    let (apply_gelu, add_residual) = (matches!(epilogue, Epilogue::Gelu), matches!(epilogue, Epilogue::Residual(_)));
    // Without a residual the kernel never reads that argument; the bias stands in for it.
    let residual = match epilogue {
        Epilogue::Residual(residual) => into_contiguous(residual),
        Epilogue::None | Epilogue::Gelu => bias.clone(),
    };
    let items = batch * out_channels.div_ceil(CHANNELS_PER_ITEM) * height * width;
    let splits = splits(items, channels);
    let client = x.client.clone();
    let cube_dim = CubeDim::new_1d(THREADS as u32);
    let cube_count = calculate_cube_count_elemwise(&client, items * splits, cube_dim);
    pointwise_kernel::launch(
        &client,
        cube_count,
        cube_dim,
        x.into_tensor_arg(),
        weight.into_tensor_arg(),
        bias.into_tensor_arg(),
        residual.into_tensor_arg(),
        output.clone().into_tensor_arg(),
        channels as u32,
        out_channels as u32,
        (height * width) as u32,
        splits as u32,
        apply_gelu,
        add_residual,
        dtype,
    );
    output
}
