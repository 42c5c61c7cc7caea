//! 1x1 convolution on a channels-last map: one matrix product over pixels,
//! `out[p, o] = bias[o] + Σ_i x[p, i] · w[i, o]`, the weight packed `[in, out]` at load time
//! (a column-major `[out, in]` operand, which `gemm` reads without repacking it).

use super::matmul::{Epilogue, Matrix, par_matmul, par_matmul_new};

/// `x: [pixels, in]`, `weight: [in, out]` (PyTorch's `[out, in, 1, 1]` stored HWIO),
/// `out: [pixels, out]`;
/// with `epilogue.accumulate`, `out` holds the residual on entry.
pub fn pointwise_conv(x: &[f32], in_channels: usize, weight: &[f32], out: &mut [f32], epilogue: Epilogue) {
    let out_channels = weight.len() / in_channels;
    let pixels = x.len() / in_channels;
    let input = Matrix::row_major(x, pixels, in_channels);
    par_matmul(out, input, Matrix::row_major(weight, in_channels, out_channels), epilogue);
}

/// `gelu?(bias + x · weight)` into a new `[pixels, out]` map, each block written once.
pub fn pointwise_conv_new(x: &[f32], in_channels: usize, weight: &[f32], bias: &[f32], gelu: bool) -> Vec<f32> {
    let out_channels = weight.len() / in_channels;
    let pixels = x.len() / in_channels;
    let epilogue = Epilogue { bias: Some(bias), accumulate: false, gelu };
    par_matmul_new(Matrix::row_major(x, pixels, in_channels), Matrix::row_major(weight, in_channels, out_channels), epilogue)
}
