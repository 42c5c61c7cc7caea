//! 1x1 convolution on a channels-last map: one matrix product over pixels,
//! `out[p, o] = bias[o] + Σ_i x[p, i] · w[i, o]`. The network's weights are packed in panels
//! at load time and multiplied by [`microkernel`] ([`PackedWeight`]); a weight that was not
//! (given to the backend's op as PyTorch lays it out) is read `[in, out]` and multiplied by
//! `gemm` (which packs it with contiguous copies rather than a strided transpose on every
//! call).

use super::matmul::{Epilogue, Matrix, for_each_block, par_matmul, par_matmul_new};
use super::microkernel::{self, PANEL, Panels, TILE_ROWS};
use super::{buffers, parallel};

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

/// A convolution weight packed at load time for [`microkernel`]: `[depth, out]` in panels of
/// [`PANEL`] output channels ([`microkernel::pack_panels`]); the depth is a 1x1 kernel's input
/// channels, or a 3x3 kernel's taps and input channels in the order `(ky, kx, in)`
/// ([`super::dense`]).
#[derive(Debug, Clone, Copy)]
pub struct PackedWeight<'a> {
    /// The panels.
    pub panels: &'a [f32],
    /// The product's depth.
    pub depth: usize,
    /// Output channels; the panels cover them rounded up to a multiple of [`PANEL`], the
    /// last one padded with zero columns.
    pub out_channels: usize,
}

/// [`pointwise_conv`] with a packed weight.
pub fn pointwise_conv_packed(x: &[f32], weight: PackedWeight, out: &mut [f32], epilogue: Epilogue) {
    let pixels = x.len() / weight.depth;
    assert_eq!(out.len(), pixels * weight.out_channels, "pointwise: output size");
    // SAFETY: `out` is the whole destination, initialised, borrowed by this call.
    unsafe { packed_product(out.as_mut_ptr(), x, weight, epilogue) }
}

/// [`pointwise_conv_new`] with a packed weight.
pub fn pointwise_conv_packed_new(x: &[f32], weight: PackedWeight, bias: &[f32], gelu: bool) -> Vec<f32> {
    let len = x.len() / weight.depth * weight.out_channels;
    let mut out = buffers::take(len);
    // SAFETY: without `accumulate` every element is written before it is read, and all are
    // written when the call returns.
    unsafe {
        packed_product(out.as_mut_ptr(), x, weight, Epilogue { bias: Some(bias), accumulate: false, gelu });
        out.set_len(len);
    }
    out
}

/// The product split over the installed pool ([`for_each_block`]) in whole tiles and panels.
///
/// # Safety
/// `dst` must be valid for `pixels x out_channels` writes, used by no one else during the call,
/// and initialised if `epilogue.accumulate`.
unsafe fn packed_product(dst: *mut f32, x: &[f32], weight: PackedWeight, epilogue: Epilogue) {
    let PackedWeight { panels, depth: k, out_channels: n } = weight;
    assert!(k > 0 && panels.len() == k * n.next_multiple_of(PANEL) && x.len().is_multiple_of(k), "pointwise: packed weight shape");
    assert!(epilogue.bias.is_none_or(|bias| bias.len() == n), "pointwise: bias size");
    let m = x.len() / k;
    if m == 0 || n == 0 {
        return;
    }
    let dst = parallel::SharedPtr(dst);
    for_each_block([m, n, k], [TILE_ROWS, PANEL], |rows, columns| {
        // SAFETY: the block lies inside the operands checked above, and only this task writes
        // its part of `dst`.
        unsafe { packed_block(dst.at(0), x, weight, rows, columns, epilogue) }
    });
}

/// Rows `first_row..first_row + rows` and columns `first_column..first_column + columns` of
/// `dst (+)= epilogue(x · weight)` (`dst: [pixels, out_channels]`) on the calling thread.
///
/// # Safety
/// The block must lie inside the product, `first_column` be a multiple of [`PANEL`], and so
/// `columns` unless the block ends at the last column; `rows > 0`; `dst` must be valid for the
/// block's writes, which no one else makes during the call, and initialised there if
/// `epilogue.accumulate`.
pub unsafe fn packed_block(
    dst: *mut f32,
    x: &[f32],
    weight: PackedWeight,
    [first_row, rows]: [usize; 2],
    [first_column, columns]: [usize; 2],
    epilogue: Epilogue,
) {
    let PackedWeight { panels, depth: k, out_channels: n } = weight;
    // SAFETY: the caller's guarantees keep every offset inside the operands.
    unsafe {
        microkernel::multiply(Panels {
            a: x.as_ptr().add(first_row * k),
            a_row_stride: k,
            b: panels.as_ptr().add(first_column * k),
            dst: dst.add(first_row * n + first_column),
            dst_row_stride: n,
            m: rows,
            k,
            n: columns,
            bias: epilogue.bias.map(|bias| bias.as_ptr().add(first_column)),
            accumulate: epilogue.accumulate,
            gelu: epilogue.gelu,
        })
    }
}
