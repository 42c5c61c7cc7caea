//! timm's `ConvMlpWithNorm` (`mid_conv=True`) with its block's residual, fused: `x +
//! fc2(gelu(mid(gelu(fc1(x)))))` (the layer scale folded into `fc2`) one output row at a time,
//! replacing the three convolutions of `model::mlp` and the two 4x-expanded maps between them.
//!
//! Unfused, the expanded maps of the 56x56 and 28x28 stages (1.6 MB for S0's first stage)
//! leave L2: `fc1` writes one, the depthwise `mid` reads it and writes the other, `fc2` reads
//! that; the depthwise convolution, with nine multiply-adds per value, runs at the speed of
//! L3. Here each task walks its rows in order, keeping three rows of `gelu(fc1(x))` in a ring
//! (the rows above, at and below the output row) and one row of `gelu(mid(..))`, a few tens of
//! KiB: `fc1` computes each row of the expanded map once as the walk reaches it (a task
//! recomputes the row above its first one), the depthwise row reads the ring, and `fc2` adds
//! its product to the output row straight from L1. The products are the micro-kernel's
//! ([`microkernel`]), the depthwise row [`depthwise_row`]'s, so each value is summed in the
//! same order as by the unfused kernels: results are bit-identical to them.

use std::borrow::Cow;
use std::cell::Cell;
use std::mem::MaybeUninit;

use super::depthwise::{Geometry, Source, depthwise_row, pitch, repitched};
use super::matmul::Epilogue;
use super::lanes::Element;
use super::microkernel::{self, Panels, packed_columns};
use super::pointwise::{PackedWeight, packed_block};
use super::{buffers, parallel};

/// The FFN's folded weights, as the kernels read them.
#[derive(Debug, Clone, Copy)]
pub struct MlpWeights<'a, E = f32> {
    /// `fc1`, `[in, hidden]` in panels.
    pub fc1: PackedWeight<'a, E>,
    /// `[hidden]`.
    pub fc1_bias: &'a [E],
    /// `mid`'s depthwise taps, `[3, 3, hidden]`.
    pub mid: &'a [E],
    /// `[hidden]`.
    pub mid_bias: &'a [E],
    /// `fc2`, `[hidden, in]` in panels.
    pub fc2: PackedWeight<'a, E>,
    /// `[in]`.
    pub fc2_bias: &'a [E],
}

/// `x: [batch, height, width, channels]`; returns `x + fc2(gelu(mid(gelu(fc1(x)))))`, same shape.
pub fn conv_mlp_residual<E: Element>(x: &[E], [batch, height, width]: [usize; 3], w: MlpWeights<E>) -> Vec<E> {
    let (c, hidden) = (w.fc1.depth, w.fc1.out_channels);
    assert!(w.fc2.depth == hidden && w.fc2.out_channels == c, "conv mlp: fc2 shape");
    let panels_of = |out: usize, depth: usize| packed_columns::<E>(out) * depth;
    assert!(w.fc1.panels.len() == panels_of(hidden, c) && w.fc2.panels.len() == panels_of(c, hidden), "conv mlp: product weights");
    assert!(w.fc1_bias.len() == hidden && w.mid_bias.len() == hidden && w.fc2_bias.len() == c, "conv mlp: biases");
    assert!(w.mid.len() == 9 * hidden && x.len() == batch * height * width * c, "conv mlp: taps or input size");
    let len = x.len();
    if len == 0 {
        return Vec::new();
    }
    let pitch = pitch::<E>(hidden);
    let taps = repitched(w.mid, hidden, pitch);
    let walk = Walk { x, width, height, c, hidden, pitch, taps: &taps, w };
    // One walk per thread and image: each one recomputes a single row of `fc1` (the row above
    // its first), and reads every weight once per row it walks. (Two walks per thread, to
    // absorb a delayed thread, measured 1.01x the time of S0 and L at 2 threads.)
    let walks_per_image = parallel::current_threads().min(height);
    let rows_per_walk = height.div_ceil(walks_per_image);
    let mut out = buffers::take(len);
    let dst = parallel::SharedPtr(out.as_mut_ptr());
    parallel::for_each_task(batch * height.div_ceil(rows_per_walk), |task| {
        let per_image = height.div_ceil(rows_per_walk);
        let (image, first) = (task / per_image, task % per_image * rows_per_walk);
        // SAFETY: each task writes only its own rows of its own image, inside `out`'s `len`.
        unsafe { walk.rows(image, first..(first + rows_per_walk).min(height), dst) };
    });
    // SAFETY: the walks wrote every row of every image.
    unsafe { out.set_len(len) };
    if let Cow::Owned(copy) = taps {
        buffers::give(copy);
    }
    out
}

thread_local! {
    /// Each thread's ring and depthwise row, kept from call to call: allocated and freed on
    /// every call, blocks of this size made glibc trim and regrow its heap, and every other
    /// kernel of the pass then page-faulted on fresh pages (the stem and the downsamplings
    /// 10-22% slower). Stored as `f32`, read as the walk's element type.
    static SCRATCH: Cell<Vec<f32>> = const { Cell::new(Vec::new()) };
}

/// `values` as a slice to write into.
fn as_uninit<E>(values: &mut [E]) -> &mut [MaybeUninit<E>] {
    // SAFETY: `E` and `MaybeUninit<E>` have the same layout, and only initialised values
    // are written through the result.
    unsafe { &mut *(std::ptr::from_mut(values) as *mut [MaybeUninit<E>]) }
}

/// One image's rows and the scratch rows they pass through.
struct Walk<'a, E> {
    x: &'a [E],
    width: usize,
    height: usize,
    c: usize,
    hidden: usize,
    /// Values between two pixels of a ring row (and two depthwise taps).
    pitch: usize,
    taps: &'a [E],
    w: MlpWeights<'a, E>,
}

impl<E: Element> Walk<'_, E> {
    /// Output rows `rows` of `image` into `dst` (the whole output).
    ///
    /// # Safety
    /// `dst` must be valid for the whole output's writes, and no one else may write these rows
    /// during the call.
    unsafe fn rows(&self, image: usize, rows: std::ops::Range<usize>, dst: parallel::SharedPtr<E>) {
        let (width, c, hidden, pitch) = (self.width, self.c, self.hidden, self.pitch);
        let row_len = width * c;
        let x = &self.x[image * self.height * row_len..][..self.height * row_len];
        let mut scratch = SCRATCH.take();
        let needed = 3 * width * pitch + width * hidden;
        let needed_f32 = (needed * size_of::<E>()).div_ceil(size_of::<f32>());
        // Grown with zeros, so that the pitch's padding, which no kernel reads, is initialised
        // too; kept from the last call otherwise (every value the walk reads it writes first).
        if scratch.len() < needed_f32 {
            scratch.resize(needed_f32, 0.0);
        }
        let values: &mut [E] = bytemuck::cast_slice_mut(&mut scratch[..needed_f32]);
        let (ring, mid) = values[..needed].split_at_mut(3 * width * pitch);
        let slot = |iy: usize| (iy % 3) * width * pitch;
        let first_needed = rows.start.saturating_sub(1);
        for iy in first_needed..=rows.start {
            // SAFETY: the slot holds `width` pixels of `pitch` values.
            unsafe { self.fc1_row(&x[iy * row_len..][..row_len], ring.as_mut_ptr().add(slot(iy))) };
        }
        let geometry = Geometry { batch: 1, height: self.height, width, channels: hidden, stride: 1 };
        for y in rows {
            if y + 1 < self.height {
                // SAFETY: as above.
                unsafe { self.fc1_row(&x[(y + 1) * row_len..][..row_len], ring.as_mut_ptr().add(slot(y + 1))) };
            }
            let source = Source {
                rows: std::array::from_fn(|ky| {
                    (y + ky).checked_sub(1).filter(|&iy| iy < self.height).map(|iy| &ring[slot(iy)..][..width * pitch])
                }),
                taps: self.taps,
                bias: self.w.mid_bias,
                pitch,
                g: geometry,
            };
            depthwise_row(source, as_uninit(mid), true);
            let x_row = &x[y * row_len..][..row_len];
            // SAFETY: the output row is this task's; the product accumulates onto the residual
            // copied there first. `mid` is `width` rows of `hidden`, the panels `hidden x c`,
            // the destination `width` rows of `c`.
            unsafe {
                let out = dst.at((image * self.height + y) * row_len);
                std::ptr::copy_nonoverlapping(x_row.as_ptr(), out, row_len);
                let epilogue = Epilogue { bias: Some(self.w.fc2_bias), accumulate: true, gelu: false };
                packed_block(out, mid, self.w.fc2, [0, width], [0, c], epilogue);
            }
        }
        SCRATCH.set(scratch);
    }

    /// `gelu(fc1(x_row))` into `dst`, `width` pixels `pitch` apart.
    ///
    /// # Safety
    /// `dst` must be valid for `width * pitch` writes.
    unsafe fn fc1_row(&self, x_row: &[E], dst: *mut E) {
        // SAFETY: `x_row` is `width` pixels of `c`, the panels `c x hidden` (asserted by the
        // caller), `dst` the caller's.
        unsafe {
            microkernel::multiply(Panels {
                a: x_row.as_ptr(),
                a_row_stride: self.c,
                b: self.w.fc1.panels.as_ptr(),
                dst,
                dst_row_stride: self.pitch,
                m: self.width,
                k: self.c,
                n: self.hidden,
                bias: Some(self.w.fc1_bias.as_ptr()),
                accumulate: false,
                gelu: true,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::test_values as values;
    use crate::kernels::depthwise::depthwise_conv3x3;
    use crate::kernels::matmul::Matrix;
    use crate::kernels::microkernel::pack_panels;
    use crate::kernels::pointwise::{pointwise_conv, pointwise_conv_new};

    /// The fused walk against the three unfused kernels, bit for bit: odd and tiny maps (a
    /// single row, a single column), batch 2, a hidden width of 512 (read through the depthwise
    /// kernel's padded pitch), channels that fill no whole panel (40 and 8), at 1, 2 and 3
    /// threads (walks of uneven length).
    #[test]
    fn matches_unfused_kernels_on_awkward_shapes() {
        // (batch, height, width, channels, hidden)
        let cases =
            [(1, 7, 9, 16, 64), (2, 5, 3, 32, 48), (1, 1, 6, 16, 32), (2, 6, 1, 16, 16), (1, 4, 5, 32, 512), (1, 13, 11, 48, 192), (2, 5, 7, 40, 160), (1, 3, 4, 8, 32)];
        for (case, &(batch, height, width, c, hidden)) in cases.iter().enumerate() {
            let seed = case as u32 * 10;
            let x = values(batch * height * width * c, seed);
            let fc1 = pack_panels(Matrix::transposed(&values(hidden * c, seed + 1), c, hidden));
            let fc2 = pack_panels(Matrix::transposed(&values(hidden * c, seed + 2), hidden, c));
            let (fc1_bias, mid, mid_bias, fc2_bias) = (values(hidden, seed + 3), values(9 * hidden, seed + 4), values(hidden, seed + 5), values(c, seed + 6));
            let weights = MlpWeights {
                fc1: PackedWeight { panels: &fc1, depth: c, out_channels: hidden },
                fc1_bias: &fc1_bias,
                mid: &mid,
                mid_bias: &mid_bias,
                fc2: PackedWeight { panels: &fc2, depth: hidden, out_channels: c },
                fc2_bias: &fc2_bias,
            };
            let expanded = pointwise_conv_new(&x, weights.fc1, &fc1_bias, true);
            let g = Geometry { batch, height, width, channels: hidden, stride: 1 };
            let activated = depthwise_conv3x3(&expanded, g, &mid, &mid_bias, true);
            let mut want = x.clone();
            let epilogue = Epilogue { bias: Some(&fc2_bias), accumulate: true, gelu: false };
            pointwise_conv(&activated, weights.fc2, &mut want, epilogue);
            for threads in [1, 2, 3] {
                let pool = parallel::ThreadPool::new(threads).unwrap();
                let got = parallel::install(&pool, || conv_mlp_residual(&x, [batch, height, width], weights));
                assert_eq!(got, want, "case {case} at {threads} threads");
            }
        }
    }
}
