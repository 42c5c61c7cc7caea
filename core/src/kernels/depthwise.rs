//! Depthwise 3x3 convolution (padding 1, stride 1 or 2) on channels-last maps, with the folded
//! bias and an optional GELU: timm's `ConvMlpWithNorm.mid` (stride 1), `Attention2d.v_local`
//! (stride 1), `Attention2d.stride_conv` and `Attention2dDownsample`'s `q.local` and `v_local`
//! (stride 2). Vectorised along channels, split over the kernels' thread pool by output rows.

use std::mem::MaybeUninit;

use super::gelu::gelu;
use super::{parallel, simd};

/// Spatial geometry of one depthwise convolution.
#[derive(Debug, Clone, Copy)]
pub struct Geometry {
    /// Images in the batch.
    pub batch: usize,
    /// Input height and width.
    pub height: usize,
    /// Input width.
    pub width: usize,
    /// Channels.
    pub channels: usize,
    /// 1 or 2.
    pub stride: usize,
}

impl Geometry {
    /// Output height and width (`(n + 2 - 3) / stride + 1`).
    pub fn output_size(&self) -> (usize, usize) {
        ((self.height - 1) / self.stride + 1, (self.width - 1) / self.stride + 1)
    }
}

/// `x: [batch, height, width, channels]`, `taps: [3, 3, channels]` (PyTorch's `[channels, 1,
/// 3, 3]` stored HWIO, so that each tap is one contiguous vector of channels), `bias:
/// [channels]`; returns `[batch, out_h, out_w, channels]`.
pub fn depthwise_conv3x3(x: &[f32], g: Geometry, taps: &[f32], bias: &[f32], gelu_out: bool) -> Vec<f32> {
    let c = g.channels;
    assert_eq!(x.len(), g.batch * g.height * g.width * c, "depthwise: input size");
    assert!(taps.len() == 9 * c && bias.len() == c, "depthwise: weight size");
    let (out_h, out_w) = g.output_size();
    let write_row = |row_index: usize, out_row: &mut [MaybeUninit<f32>]| {
        let (image, oy) = (row_index / out_h, row_index % out_h);
        let plane = &x[image * g.height * g.width * c..][..g.height * g.width * c];
        simd::dispatch(#[inline(always)] || output_row(plane, g, oy, taps, bias, out_row, gelu_out));
    };
    // SAFETY: `output_row` writes every channel of every pixel of its row.
    unsafe { parallel::vec_by_chunks(g.batch * out_h * out_w * c, out_w * c, write_row) }
}

#[inline(always)]
fn output_row(plane: &[f32], g: Geometry, oy: usize, taps: &[f32], bias: &[f32], out_row: &mut [MaybeUninit<f32>], gelu_out: bool) {
    let c = g.channels;
    for (ox, out) in out_row.chunks_exact_mut(c).enumerate() {
        // Offsets of the (up to) nine input pixels under the kernel; `None` in the padding.
        let mut sources = [None; 9];
        for (t, source) in sources.iter_mut().enumerate() {
            let (ky, kx) = (t / 3, t % 3);
            let iy = (oy * g.stride + ky).checked_sub(1).filter(|&iy| iy < g.height);
            let ix = (ox * g.stride + kx).checked_sub(1).filter(|&ix| ix < g.width);
            *source = iy.zip(ix).map(|(iy, ix)| (iy * g.width + ix) * c);
        }
        let mut start = 0;
        while start + 32 <= c {
            channel_block::<32>(plane, &sources, taps, bias, c, start, &mut out[start..start + 32], gelu_out);
            start += 32;
        }
        while start + 8 <= c {
            channel_block::<8>(plane, &sources, taps, bias, c, start, &mut out[start..start + 8], gelu_out);
            start += 8;
        }
        for ch in start..c {
            channel_block::<1>(plane, &sources, taps, bias, c, ch, &mut out[ch..ch + 1], gelu_out);
        }
    }
}

/// `N` channels from `start` of one output pixel, accumulated in registers over the nine taps.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn channel_block<const N: usize>(
    plane: &[f32],
    sources: &[Option<usize>; 9],
    taps: &[f32],
    bias: &[f32],
    channels: usize,
    start: usize,
    out: &mut [MaybeUninit<f32>],
    gelu_out: bool,
) {
    let mut acc = [0f32; N];
    acc.copy_from_slice(&bias[start..start + N]);
    for (t, source) in sources.iter().enumerate() {
        let Some(offset) = *source else { continue };
        let input = &plane[offset + start..][..N];
        let weight = &taps[t * channels + start..][..N];
        for i in 0..N {
            acc[i] = input[i].mul_add(weight[i], acc[i]);
        }
    }
    if gelu_out {
        acc.iter_mut().for_each(|v| *v = gelu(*v));
    }
    out.iter_mut().zip(acc).for_each(|(o, v)| _ = o.write(v));
}
