//! Dense 3x3 convolution (padding 1) on channels-last maps as patch gathering plus one matrix
//! product per block of output rows: timm's `Stem4` convolutions and `Downsample.conv`
//! (stride 2). The gather copies whole channel vectors (`(ky, kx, c)` patch order), the order
//! of the weight's rows as it is packed at load time (HWIO).

use std::mem::MaybeUninit;

use super::depthwise::Geometry;
use super::matmul::{Epilogue, Matrix, matmul_uninit};
use super::parallel;

/// Output pixels per gathered block at most (a block's patches stay in L2 for every variant);
/// smaller maps (the 14x14 and 7x7 downsamplings) are cut so that every thread gets a block.
const PIXELS_PER_BLOCK: usize = 256;

/// `x: [batch, height, width, in]`, `weight: [3, 3, in, out]` (HWIO), `bias: [out]`;
/// returns `[batch, out_h, out_w, out]`, GELU applied when `gelu` is set.
pub fn dense_conv3x3(x: &[f32], g: Geometry, weight: &[f32], bias: &[f32], gelu: bool) -> Vec<f32> {
    let cin = g.channels;
    let patch = 9 * cin;
    let cout = weight.len() / patch;
    assert_eq!(x.len(), g.batch * g.height * g.width * cin, "dense conv: input size");
    assert!(weight.len() == cout * patch && bias.len() == cout, "dense conv: weight size");
    let weight = Matrix::row_major(weight, patch, cout);
    let (out_h, out_w) = g.output_size();
    let pixels_per_image = out_h * out_w;
    let total_pixels = g.batch * pixels_per_image;
    // Sized from one image, so that a batch is cut as its images would be alone.
    let block_pixels = PIXELS_PER_BLOCK.min(pixels_per_image.div_ceil(parallel::current_threads())).max(1);
    let epilogue = Epilogue { bias: Some(bias), accumulate: false, gelu };
    let write_block = |block: usize, out_block: &mut [MaybeUninit<f32>]| {
        let first = block * block_pixels;
        let pixels = out_block.len() / cout;
        let mut patches = vec![0f32; pixels * patch];
        for (p, row) in patches.chunks_exact_mut(patch).enumerate() {
            let pixel = first + p;
            let (image, oy, ox) = (pixel / pixels_per_image, pixel % pixels_per_image / out_w, pixel % out_w);
            for ky in 0..3 {
                let Some(iy) = (oy * g.stride + ky).checked_sub(1).filter(|&iy| iy < g.height) else { continue };
                for kx in 0..3 {
                    let Some(ix) = (ox * g.stride + kx).checked_sub(1).filter(|&ix| ix < g.width) else { continue };
                    let source = ((image * g.height + iy) * g.width + ix) * cin;
                    copy_channels(&mut row[(ky * 3 + kx) * cin..][..cin], &x[source..source + cin]);
                }
            }
        }
        matmul_uninit(out_block, cout, Matrix::row_major(&patches, pixels, patch), weight, epilogue);
    };
    // SAFETY: each block's product writes all of its rows.
    unsafe { parallel::vec_by_chunks(total_pixels * cout, block_pixels * cout, write_block) }
}

/// A channel vector copy; short ones (the stem's 3 input channels) as a plain loop rather than
/// a `memcpy` call per tap.
#[inline(always)]
fn copy_channels(dst: &mut [f32], src: &[f32]) {
    if dst.len() < 16 {
        dst.iter_mut().zip(src).for_each(|(d, s)| *d = *s);
    } else {
        dst.copy_from_slice(src);
    }
}
