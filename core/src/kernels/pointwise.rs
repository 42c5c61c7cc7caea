//! 1x1 convolution on a channels-last map: one matrix product over pixels,
//! `out[p, o] = bias[o] + Σ_i x[p, i] · w[i, o]`, on the micro-kernel ([`microkernel`]) with
//! the weight in panels ([`PackedWeight`]: the network's are packed once at load time).

use super::matmul::{Epilogue, for_each_block};
use super::microkernel::{self, Panels, TILE_ROWS, packed_columns};
use super::lanes::Element;
use super::{buffers, parallel};

/// A convolution weight packed at load time for [`microkernel`]: `[depth, out]` in panels of
/// output channels ([`microkernel::pack_panels`]); the depth is a 1x1 kernel's input
/// channels, or a 3x3 kernel's taps and input channels in the order `(ky, kx, in)`
/// ([`super::dense`]).
#[derive(Debug, Clone, Copy)]
pub struct PackedWeight<'a, E = f32> {
    /// The panels.
    pub panels: &'a [E],
    /// The product's depth.
    pub depth: usize,
    /// Output channels; the panels cover them rounded up to whole panels
    /// ([`packed_columns`]), the last one padded with zero columns.
    pub out_channels: usize,
}

/// `out (+)= epilogue(x · weight)` into `out: [pixels, out]`, which holds the residual on
/// entry with `epilogue.accumulate`.
pub fn pointwise_conv<E: Element>(x: &[E], weight: PackedWeight<E>, out: &mut [E], epilogue: Epilogue<E>) {
    let pixels = x.len() / weight.depth;
    assert_eq!(out.len(), pixels * weight.out_channels, "pointwise: output size");
    // SAFETY: `out` is the whole destination, initialised, borrowed by this call.
    unsafe { packed_product(out.as_mut_ptr(), x, weight, epilogue) }
}

/// `gelu?(bias + x · weight)` into a new `[pixels, out]` map, each block written once.
pub fn pointwise_conv_new<E: Element>(x: &[E], weight: PackedWeight<E>, bias: &[E], gelu: bool) -> Vec<E> {
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
unsafe fn packed_product<E: Element>(dst: *mut E, x: &[E], weight: PackedWeight<E>, epilogue: Epilogue<E>) {
    let PackedWeight { panels, depth: k, out_channels: n } = weight;
    assert!(k > 0 && panels.len() == k * packed_columns::<E>(n) && x.len().is_multiple_of(k), "pointwise: packed weight shape");
    assert!(epilogue.bias.is_none_or(|bias| bias.len() == n), "pointwise: bias size");
    let m = x.len() / k;
    if m == 0 || n == 0 {
        return;
    }
    let dst = parallel::SharedPtr(dst);
    for_each_block([m, n, k], [TILE_ROWS, E::PANEL], |rows, columns| {
        // SAFETY: the block lies inside the operands checked above, and only this task writes
        // its part of `dst`.
        unsafe { packed_block(dst.at(0), x, weight, rows, columns, epilogue) }
    });
}

/// Rows `first_row..first_row + rows` and columns `first_column..first_column + columns` of
/// `dst (+)= epilogue(x · weight)` (`dst: [pixels, out_channels]`) on the calling thread.
///
/// # Safety
/// The block must lie inside the product, `first_column` be a multiple of `E::PANEL`, and so
/// `columns` unless the block ends at the last column; `rows > 0`; `dst` must be valid for the
/// block's writes, which no one else makes during the call, and initialised there if
/// `epilogue.accumulate`.
pub unsafe fn packed_block<E: Element>(
    dst: *mut E,
    x: &[E],
    weight: PackedWeight<E>,
    [first_row, rows]: [usize; 2],
    [first_column, columns]: [usize; 2],
    epilogue: Epilogue<E>,
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::matmul::Matrix;
    use crate::kernels::microkernel::pack_panels;
    use crate::kernels::test_values as values;

    /// A pixel's outputs are the same bits whatever pixels surround it and however many threads
    /// share the product (the guarantee `core/tests/concurrency.rs` relies on): 13 pixels on 3
    /// threads against each pixel alone on one, shapes cut by rows and by columns.
    #[test]
    fn pixels_do_not_depend_on_the_other_pixels_or_threads() {
        for (k, n) in [(7, 3), (176, 1000), (1537, 33)] {
            let (m, x, w, bias) = (13, values(13 * k, 1), values(k * n, 2), values(n, 3));
            let panels = pack_panels(Matrix::row_major(&w, k, n));
            let weight = PackedWeight { panels: &panels, depth: k, out_channels: n };
            let product = |pixels: std::ops::Range<usize>, threads: usize| {
                let pool = parallel::ThreadPool::new(threads).unwrap();
                let x = &x[pixels.start * k..pixels.end * k];
                parallel::install(&pool, || pointwise_conv_new(x, weight, &bias, true))
            };
            let whole = product(0..m, 3);
            for pixel in 0..m {
                assert_eq!(&whole[pixel * n..][..n], product(pixel..pixel + 1, 1).as_slice(), "k {k} n {n}: pixel {pixel}");
            }
        }
    }
}
