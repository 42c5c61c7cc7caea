//! Exact (erf) GELU, one launch: burn-wgpu composes `gelu` from five element-wise launches
//! (scale, erf, add, multiply, multiply). Also the epilogue the other kernels apply in
//! registers ([`gelu`]), in `f32` whatever the tensors store.

use burn::backend::TensorMetadata;
use burn_cubecl::kernel::into_contiguous;
use burn_cubecl::tensor::CubeTensor;
use cubecl::prelude::*;

use super::{empty_output, one_thread_per_element};

/// `x · Φ(x) = x / 2 · (1 + erf(x / √2))`, PyTorch's `nn.GELU()` (approximate='none'); erf is
/// the backend's (CubeCL's polyfill where the shading language has none: |error| ≤ 1.5e-7).
#[cube]
pub fn gelu<F: Float>(x: F) -> F {
    x * F::new(0.5_f32) * (F::new(1.0_f32) + (x * F::new(std::f32::consts::FRAC_1_SQRT_2)).erf())
}

#[cube(launch)]
fn gelu_kernel<F: Float>(input: &Tensor<F>, output: &mut Tensor<F>, #[define(F)] _dtype: ElemType) {
    if ABSOLUTE_POS >= output.len() {
        terminate!();
    }
    output[ABSOLUTE_POS] = F::cast_from(gelu::<f32>(f32::cast_from(input[ABSOLUTE_POS])));
}

/// GELU of a float tensor, row-major out.
pub fn launch(input: CubeTensor, dtype: ElemType) -> CubeTensor {
    let input = into_contiguous(input);
    let output = empty_output(&input, input.shape());
    let (cube_count, cube_dim) = one_thread_per_element(&output);
    gelu_kernel::launch(
        &input.client.clone(),
        cube_count,
        cube_dim,
        input.into_tensor_arg(),
        output.clone().into_tensor_arg(),
        dtype,
    );
    output
}
