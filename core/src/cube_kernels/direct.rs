//! A k x k convolution (padding k / 2, stride 1 or 2, any grouping) with its bias and optional
//! GELU in one launch, computed directly (no im2col buffer, no autotuning): the depthwise
//! `stride_conv` / `LocalGlobalQuery.local` convolutions of the attention modules, and the
//! dense 3x3 stride-2 convolutions of `Stem4` (each + GELU) and `Downsample`; also any
//! convolution the fused kernels do not take (the FFN's and attention's depthwise ones run
//! inside [`mlp_expand`](super::mlp_expand) and [`attention`](super::attention)).

use burn::backend::TensorMetadata;
use burn::tensor::Shape;
use burn_cubecl::kernel::into_contiguous;
use burn_cubecl::tensor::CubeTensor;
use cubecl::prelude::*;

use super::gelu::gelu;
use super::{empty_output, one_thread_per_element};

/// One thread per output element: the `k x k` taps of its group's input channels around it,
/// zero outside the map, summed in `f32` whatever `F` stores. The threads of a warp share an
/// output channel (broadcast weights).
#[cube(launch)]
fn direct_conv_kernel<F: Float>(
    input: &Tensor<F>,
    weight: &Tensor<F>,
    bias: &Tensor<F>,
    output: &mut Tensor<F>,
    in_per_group: u32,
    out_per_group: u32,
    #[comptime] kernel: u32,
    #[comptime] stride: u32,
    #[comptime] apply_gelu: bool,
    #[define(F)] _dtype: ElemType,
) {
    let position = ABSOLUTE_POS;
    if position >= output.len() {
        terminate!();
    }
    let kernel = kernel as usize;
    let stride = stride as usize;
    let padding = kernel / 2;
    let (in_per_group, out_per_group) = (in_per_group as usize, out_per_group as usize);
    let (channels, height, width) = (input.shape(1), input.shape(2), input.shape(3));
    let (out_channels, out_height, out_width) = (output.shape(1), output.shape(2), output.shape(3));
    let out_x = position % out_width;
    let out_y = (position / out_width) % out_height;
    let out_channel = (position / (out_width * out_height)) % out_channels;
    let batch = position / (out_width * out_height * out_channels);
    let first_channel = out_channel / out_per_group * in_per_group;
    let mut sum = f32::cast_from(bias[out_channel]);
    for c in 0..in_per_group {
        let plane = batch * channels + first_channel + c;
        let taps = (out_channel * in_per_group + c) * kernel * kernel;
        // Padded coordinates: `padded - padding` is the input row (column) when inside the map.
        for ky in 0..kernel {
            let padded_y = out_y * stride + ky;
            if padded_y >= padding && padded_y < height + padding {
                let row = (plane * height + padded_y - padding) * width;
                for kx in 0..kernel {
                    let padded_x = out_x * stride + kx;
                    if padded_x >= padding && padded_x < width + padding {
                        sum += f32::cast_from(weight[taps + ky * kernel + kx]) * f32::cast_from(input[row + padded_x - padding]);
                    }
                }
            }
        }
    }
    if apply_gelu {
        sum = gelu::<f32>(sum);
    }
    output[position] = F::cast_from(sum);
}

/// `act(conv2d(x, weight, bias))` for `weight: [out, in / groups, k, k]`, padding `k / 2`.
pub fn launch(x: CubeTensor, weight: CubeTensor, bias: CubeTensor, stride: usize, groups: usize, gelu: bool, dtype: ElemType) -> CubeTensor {
    let [batch, channels, height, width] = x.shape().dims::<4>();
    let [out_channels, in_per_group, kernel, _] = weight.shape().dims::<4>();
    let padding = kernel / 2;
    let out_height = (height + 2 * padding - kernel) / stride + 1;
    let out_width = (width + 2 * padding - kernel) / stride + 1;
    let [x, weight, bias] = [x, weight, bias].map(into_contiguous);
    let output = empty_output(&x, Shape::new([batch, out_channels, out_height, out_width]));
    let (cube_count, cube_dim) = one_thread_per_element(&output);
    let client = x.client.clone();
    debug_assert_eq!(channels, in_per_group * groups);
    direct_conv_kernel::launch(
        &client,
        cube_count,
        cube_dim,
        x.into_tensor_arg(),
        weight.into_tensor_arg(),
        bias.into_tensor_arg(),
        output.clone().into_tensor_arg(),
        in_per_group as u32,
        (out_channels / groups) as u32,
        kernel as u32,
        stride as u32,
        gelu,
        dtype,
    );
    output
}
