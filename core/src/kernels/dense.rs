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
/// values of `segment`.
fn gather_segment<E: Element>(segment: &mut [MaybeUninit<E>], x: &[E], g: Geometry, image: usize, oy: usize, first_column: usize) {
    let cin = g.channels;
    let run = 3 * cin;
    let zero = |values: &mut [MaybeUninit<E>]| values.iter_mut().for_each(|v| _ = v.write(E::ZERO));
    for ky in 0..3 {
        let iy = (oy * g.stride + ky).checked_sub(1).filter(|&iy| iy < g.height);
        let row = iy.map(|iy| &x[(image * g.height + iy) * g.width * cin..][..g.width * cin]);
        for (taps, ox) in segment.chunks_exact_mut(3 * run).zip(first_column..) {
            let taps = &mut taps[ky * run..(ky + 1) * run];
            let Some(row) = row else {
                zero(taps);
                continue;
            };
            match (ox * g.stride).checked_sub(1) {
                // All three taps inside the row: adjacent pixels, one run.
                Some(left) if left + 2 < g.width => copy_run(taps, &row[left * cin..left * cin + run]),
                _ => {
                    for (kx, tap) in taps.chunks_exact_mut(cin).enumerate() {
                        match (ox * g.stride + kx).checked_sub(1).filter(|&ix| ix < g.width) {
                            Some(ix) => _ = tap.write_copy_of_slice(&row[ix * cin..(ix + 1) * cin]),
                            None => zero(tap),
                        }
                    }
                }
            }
        }
    }
}

/// `dst.write_copy_of_slice(src)`, as a few register moves for the stem's 9-value runs (3
/// pixels of 3 channels) rather than a `memcpy` call.
#[inline(always)]
fn copy_run<E: Element>(dst: &mut [MaybeUninit<E>], src: &[E]) {
    match (<&mut [MaybeUninit<E>; 9]>::try_from(&mut *dst), <&[E; 9]>::try_from(src)) {
        (Ok(dst), Ok(src)) => *dst = src.map(MaybeUninit::new),
        _ => _ = dst.write_copy_of_slice(src),
    }
}
