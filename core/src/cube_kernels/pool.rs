//! The head's global average pool in one launch: timm `forward_head`'s `x.mean((2, 3))`, which
//! burn-wgpu runs as its own (autotuned) reduction.

use burn::backend::TensorMetadata;
use burn::tensor::Shape;
use burn_cubecl::kernel::into_contiguous;
use burn_cubecl::tensor::CubeTensor;
use cubecl::prelude::*;

use super::{empty_output, one_thread_per_element};

/// One thread per `(image, channel)`: the mean of its plane, summed in `f32` whatever `F` is.
#[cube(launch)]
fn spatial_mean_kernel<F: Float>(input: &Tensor<F>, output: &mut Tensor<F>, #[define(F)] _dtype: ElemType) {
    let plane = ABSOLUTE_POS;
    if plane >= output.len() {
        terminate!();
    }
    let size = input.shape(2) * input.shape(3);
    let first = plane * size;
    let mut sum = 0.0_f32;
    for i in 0..size {
        sum += f32::cast_from(input[first + i]);
    }
    output[plane] = F::cast_from(sum / f32::cast_from(size));
}

/// `x: [B, C, H, W]` to `[B, C, 1, 1]`.
pub fn launch(x: CubeTensor, dtype: ElemType) -> CubeTensor {
    let [batch, channels, _, _] = x.shape().dims::<4>();
    let x = into_contiguous(x);
    let output = empty_output(&x, Shape::new([batch, channels, 1, 1]));
    let (cube_count, cube_dim) = one_thread_per_element(&output);
    spatial_mean_kernel::launch(&x.client.clone(), cube_count, cube_dim, x.into_tensor_arg(), output.clone().into_tensor_arg(), dtype);
    output
}
