//! 1x1 convolution on a channels-last map: one matrix product over pixels,
//! `out[p, o] = bias[o] + Σ_i x[p, i] · w[o, i]`, the weight read in place as `[in, out]`.

use super::matmul::{Epilogue, Matrix, par_matmul};

/// `x: [pixels, in]`, `weight: [out, in]` (PyTorch's `[out, in, 1, 1]`), `out: [pixels, out]`;
/// with `epilogue.accumulate`, `out` holds the residual on entry.
pub fn pointwise_conv(x: &[f32], in_channels: usize, weight: &[f32], out: &mut [f32], epilogue: Epilogue) {
    let out_channels = weight.len() / in_channels;
    let pixels = x.len() / in_channels;
    let input = Matrix::row_major(x, pixels, in_channels);
    par_matmul(out, input, Matrix::transposed(weight, in_channels, out_channels), epilogue);
}
