//! 1x1 convolution on a channels-last map: one matrix product over pixels,
//! `out[p, o] = bias[o] + Σ_i x[p, i] · w[i, o]`, the weight packed `[in, out]` at load time
//! (a column-major `[out, in]` operand, which `gemm` packs with contiguous copies rather than
//! a strided transpose on every call).

use super::matmul::{Epilogue, Matrix, par_matmul, par_matmul_new};

/// `x: [pixels, in]` and `weight: [in, out]` (PyTorch's `[out, in, 1, 1]` stored HWIO) as the
/// product's operands.
fn operands<'a>(x: &'a [f32], in_channels: usize, weight: &'a [f32]) -> (Matrix<'a>, Matrix<'a>) {
    let (pixels, out_channels) = (x.len() / in_channels, weight.len() / in_channels);
    (Matrix::row_major(x, pixels, in_channels), Matrix::row_major(weight, in_channels, out_channels))
}

/// `out (+)= epilogue(x · weight)` into `out: [pixels, out]`, which holds the residual on
/// entry with `epilogue.accumulate`.
pub fn pointwise_conv(x: &[f32], in_channels: usize, weight: &[f32], out: &mut [f32], epilogue: Epilogue) {
    let (input, weight) = operands(x, in_channels, weight);
    par_matmul(out, input, weight, epilogue);
}

/// `gelu?(bias + x · weight)` into a new `[pixels, out]` map, each block written once.
pub fn pointwise_conv_new(x: &[f32], in_channels: usize, weight: &[f32], bias: &[f32], gelu: bool) -> Vec<f32> {
    let (input, weight) = operands(x, in_channels, weight);
    par_matmul_new(input, weight, Epilogue { bias: Some(bias), accumulate: false, gelu })
}
