//! Dense 3x3 convolution (padding 1) on channels-last maps as patch gathering plus one matrix
//! product per block of output pixels: timm's `Stem4` convolutions and `Downsample.conv`
//! (stride 2). The gather copies each kernel row's run of pixels whole (`(ky, kx, c)` patch
//! order: the three taps of a row are adjacent pixels, so one copy of `3 · in` values when
//! they all lie inside the map), the order of the weight's rows as it is packed at load time.
//! The product is the micro-kernel's ([`super::microkernel`]), the weight packed in panels over
//! that depth.

use std::mem::MaybeUninit;

use super::depthwise::Geometry;
use super::matmul::Epilogue;
use super::lanes::Element;
use super::microkernel::packed_columns;
use super::pointwise::{PackedWeight, packed_block};
use super::{buffers, parallel};

/// Output pixels per gathered block at most (a block's patches stay in L2 for every variant);
/// smaller maps (the 14x14 and 7x7 downsamplings) are cut so that every thread gets a block.
const PIXELS_PER_BLOCK: usize = 256;

/// `x: [batch, height, width, in]`, `weight` in panels over the depth `(ky, kx, in)`, `bias:
/// [out]`; returns `[batch, out_h, out_w, out]`, GELU applied when `gelu` is set.
pub fn dense_conv3x3<E: Element>(x: &[E], g: Geometry, weight: PackedWeight<E>, bias: &[E], gelu: bool) -> Vec<E> {
    let cin = g.channels;
    let patch = 9 * cin;
    let cout = bias.len();
    assert_eq!(x.len(), g.batch * g.height * g.width * cin, "dense conv: input size");
    assert!(
        weight.depth == patch && weight.out_channels == cout && weight.panels.len() == patch * packed_columns::<E>(cout),
        "dense conv: packed weight size"
    );
    let (out_h, out_w) = g.output_size();
    let pixels_per_image = out_h * out_w;
    let total_pixels = g.batch * pixels_per_image;
    // Sized from one image, so that a batch is cut as its images would be alone.
    let block_pixels = PIXELS_PER_BLOCK.min(pixels_per_image.div_ceil(parallel::current_threads())).max(1);
    let write_block = |block: usize, out_block: &mut [MaybeUninit<E>]| {
        let first = block * block_pixels;
        let pixels = out_block.len() / cout;
        let mut patches = buffers::take(pixels * patch);
        gather_patches(&mut patches.spare_capacity_mut()[..pixels * patch], x, g, first);
        // SAFETY: the gather wrote every value of every patch.
        unsafe { patches.set_len(pixels * patch) };
        let epilogue = Epilogue { bias: Some(bias), accumulate: false, gelu };
        // SAFETY: the patches are `pixels` rows of `patch`, the weight `patch x cout` (asserted
        // above), `out_block` is `pixels x cout`, this task's alone; without `accumulate` every
        // element is written before it is read.
        unsafe { packed_block(out_block.as_mut_ptr().cast(), &patches, weight, [0, pixels], [0, cout], epilogue) };
        buffers::give(patches);
    };
    // SAFETY: each block's product writes all of its rows.
    unsafe { parallel::vec_by_chunks(total_pixels * cout, block_pixels * cout, write_block) }
}

/// Writes the patches of the pixels from `first` on (as many as `patches` holds): for each
/// kernel row, the three taps' channel vectors side by side, zeros in the padding. Walked one
/// output row segment at a time, kernel row by kernel row.
fn gather_patches<E: Element>(patches: &mut [MaybeUninit<E>], x: &[E], g: Geometry, first: usize) {
    let (out_h, out_w) = g.output_size();
    let patch = 9 * g.channels;
    let (mut image, mut oy, mut ox) = (first / (out_h * out_w), first / out_w % out_h, first % out_w);
    let mut rest = patches;
    while !rest.is_empty() {
        let count = (out_w - ox).min(rest.len() / patch);
        let (segment, tail) = rest.split_at_mut(count * patch);
        gather_segment(segment, x, g, image, oy, ox);
        rest = tail;
        (ox, oy) = (0, oy + 1);
        if oy == out_h {
            (oy, image) = (0, image + 1);
        }
    }
}

/// The patches of output pixels `first_column..` of row `oy` of `image`, one per `9 · in`
/// values of `segment`. Kernel row by kernel row: the pixels whose three taps lie inside the
/// input row (all but the first and, for some widths, the last) in one tight loop of whole-run
/// copies ([`copy_runs`]), the border pixels tap by tap.
fn gather_segment<E: Element>(segment: &mut [MaybeUninit<E>], x: &[E], g: Geometry, image: usize, oy: usize, first_column: usize) {
    let (cin, stride) = (g.channels, g.stride);
    let (run, patch) = (3 * cin, 9 * cin);
    let columns = first_column..first_column + segment.len() / patch;
    // `ox` has its taps `ox · stride - 1 ..= ox · stride + 1` inside `0..width` from 1 to
    // `(width - 2) / stride`.
    let inside_end = if g.width >= 2 { (g.width - 2) / stride + 1 } else { 0 };
    let first_inside = columns.start.max(1).min(columns.end);
    let inside = first_inside..columns.end.min(inside_end).max(first_inside);
    let zero = |values: &mut [MaybeUninit<E>]| values.iter_mut().for_each(|v| _ = v.write(E::ZERO));
    for ky in 0..3 {
        let taps_at = |ox: usize| (ox - columns.start) * patch + ky * run;
        let Some(iy) = (oy * stride + ky).checked_sub(1).filter(|&iy| iy < g.height) else {
            columns.clone().for_each(|ox| zero(&mut segment[taps_at(ox)..][..run]));
            continue;
        };
        let row = &x[(image * g.height + iy) * g.width * cin..][..g.width * cin];
        if !inside.is_empty() {
            let src = &row[(inside.start * stride - 1) * cin..];
            copy_runs(&mut segment[taps_at(inside.start)..], patch, src, stride * cin, run, inside.len());
        }
        for ox in (columns.start..inside.start).chain(inside.end..columns.end) {
            let taps = &mut segment[taps_at(ox)..][..run];
            for (kx, tap) in taps.chunks_exact_mut(cin).enumerate() {
                match (ox * stride + kx).checked_sub(1).filter(|&ix| ix < g.width) {
                    Some(ix) => _ = tap.write_copy_of_slice(&row[ix * cin..(ix + 1) * cin]),
                    None => zero(tap),
                }
            }
        }
    }
}

/// `count` runs of `run` values: the `i`-th read from `src[i · step..]`, written to
/// `dst[i · patch..]`. The stem's first convolution (3 channels: runs of 9 values, 3 pixels)
/// copies each run in four register moves, 8 instructions a run with the loop's; longer runs
/// through `memcpy`. Before this loop the gather kept its indices on the stack, 40 instructions
/// a run under `qemu-aarch64`: S0's stem gathered in 2.2 M instructions, now 0.6 M, in either
/// precision.
#[inline(always)]
fn copy_runs<E: Element>(dst: &mut [MaybeUninit<E>], patch: usize, src: &[E], step: usize, run: usize, count: usize) {
    if count == 0 {
        return;
    }
    assert!((count - 1) * step + run <= src.len() && (count - 1) * patch + run <= dst.len(), "gather: run out of bounds");
    let (from, to) = (src.as_ptr(), dst.as_mut_ptr().cast::<E>());
    // SAFETY: the last run read ends at `(count - 1) · step + run` and the last written at
    // `(count - 1) · patch + run`, both within their slices (asserted); `src` and `dst` are
    // distinct borrows.
    unsafe {
        if run == 9 {
            (0..count).for_each(|i| std::ptr::copy_nonoverlapping(from.add(i * step), to.add(i * patch), 9));
        } else {
            (0..count).for_each(|i| std::ptr::copy_nonoverlapping(from.add(i * step), to.add(i * patch), run));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every patch value against its index arithmetic: strides 1 and 2, maps 1 to 8 wide (the
    /// border columns on both sides, none inside, one inside), 1, 3 (runs of 9) and 5
    /// channels, two images, blocks that start and end mid-row and cross into the next image.
    #[test]
    fn gather_matches_index_arithmetic() {
        for (stride, height, width, channels) in [(2, 5, 7, 3), (1, 3, 4, 3), (2, 4, 8, 5), (1, 2, 1, 1), (2, 3, 2, 3), (1, 3, 3, 5), (2, 1, 5, 1)] {
            let g = Geometry { batch: 2, height, width, channels, stride };
            let (out_h, out_w) = g.output_size();
            let x: Vec<f32> = (0..2 * height * width * channels).map(|i| i as f32 + 1.0).collect();
            let total = 2 * out_h * out_w;
            let patch = 9 * channels;
            for (first, pixels) in [(0, total), (1, total - 2), (out_w + 1, 2.min(total - out_w - 1)), (total - 1, 1)] {
                let mut patches = vec![MaybeUninit::new(f32::NAN); pixels * patch];
                gather_patches(&mut patches, &x, g, first);
                for (p, values) in patches.chunks_exact(patch).enumerate() {
                    let pixel = first + p;
                    let (image, oy, ox) = (pixel / (out_h * out_w), pixel / out_w % out_h, pixel % out_w);
                    for (i, value) in values.iter().enumerate() {
                        let (ky, kx, c) = (i / (3 * channels), i / channels % 3, i % channels);
                        let (iy, ix) = ((oy * stride + ky) as isize - 1, (ox * stride + kx) as isize - 1);
                        let inside = (0..height as isize).contains(&iy) && (0..width as isize).contains(&ix);
                        let want = if inside { x[((image * height + iy as usize) * width + ix as usize) * channels + c] } else { 0.0 };
                        // SAFETY: every value was initialised (NaN before the gather).
                        let got = unsafe { value.assume_init() };
                        assert_eq!(got, want, "{g:?} block at {first}: pixel {pixel} tap ({ky},{kx},{c})");
                    }
                }
            }
        }
    }
}
