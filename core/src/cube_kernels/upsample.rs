//! Bilinear upsampling by a per-axis interpolation matrix in one launch: `Attention2d`'s
//! `nn.Upsample(scale_factor=2, mode='bilinear')` after the stride-2 attention, which the
//! composed form runs as two matmuls with a transposed copy between and after them; then the
//! GELU that starts `Attention2d.proj`, when asked for.

use burn::backend::TensorMetadata;
use burn::tensor::Shape;
use burn_cubecl::kernel::into_contiguous;
use burn_cubecl::tensor::CubeTensor;
use cubecl::prelude::*;

use super::gelu::gelu;
use super::{empty_output, one_thread_per_element};

/// One thread per output element: `Σ_{y,x} matrix_t[y, out_y] · matrix_t[x, out_x] · input[y, x]`,
/// in `f32` (the matrix is `f32` in either precision).
#[cube(launch)]
fn upsample_kernel<F: Float>(
    input: &Tensor<F>,
    matrix_t: &Tensor<f32>,
    output: &mut Tensor<F>,
    #[comptime] apply_gelu: bool,
    #[define(F)] _dtype: ElemType,
) {
    let position = ABSOLUTE_POS;
    if position >= output.len() {
        terminate!();
    }
    let side = input.shape(2);
    let out_side = output.shape(2);
    let out_x = position % out_side;
    let out_y = (position / out_side) % out_side;
    let plane = position / (out_side * out_side);
    let mut sum = 0.0_f32;
    for y in 0..side {
        let row_weight = matrix_t[y * out_side + out_y];
        let row = (plane * side + y) * side;
        let mut row_sum = 0.0_f32;
        for x in 0..side {
            row_sum += matrix_t[x * out_side + out_x] * f32::cast_from(input[row + x]);
        }
        sum += row_weight * row_sum;
    }
    if apply_gelu {
        sum = gelu::<f32>(sum);
    }
    output[position] = F::cast_from(sum);
}

/// `x: [B, C, n, n]` to `[B, C, m, m]` by `matrix_t: [n, m]` (`f32`), GELU applied when `gelu`
/// is set.
pub fn launch(x: CubeTensor, matrix_t: CubeTensor, gelu: bool, dtype: ElemType) -> CubeTensor {
    let [batch, channels, _, _] = x.shape().dims::<4>();
    let out_side = matrix_t.shape()[1];
    let [x, matrix_t] = [x, matrix_t].map(into_contiguous);
    let output = empty_output(&x, Shape::new([batch, channels, out_side, out_side]));
    let (cube_count, cube_dim) = one_thread_per_element(&output);
    let client = x.client.clone();
    upsample_kernel::launch(
        &client,
        cube_count,
        cube_dim,
        x.into_tensor_arg(),
        matrix_t.into_tensor_arg(),
        output.clone().into_tensor_arg(),
        gelu,
        dtype,
    );
    output
}
