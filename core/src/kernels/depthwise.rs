//! Depthwise 3x3 convolution (padding 1, stride 1 or 2) on channels-last maps, with the folded
//! bias and an optional GELU: timm's `ConvMlpWithNorm.mid` (stride 1), `Attention2d.v_local`
//! (stride 1), `Attention2d.stride_conv` and `Attention2dDownsample`'s `q.local` and `v_local`
//! (stride 2). Vectorised along channels, split over the kernels' thread pool by output rows.
//!
//! Interior pixels (all nine taps inside the map) run a span of channels at a time with the
//! span's taps held in registers ([`InteriorSpans`], XNNPACK's `dwconv` order); the border
//! pixels and channels no vector covers run pixel by pixel. Against the pixel-by-pixel kernel
//! alone (single thread, Zen 3, GELU included): 0.72-0.91x on 7x7 to 56x56 maps of 128-1152
//! channels, 0.58x on 7x7x1024 and 0.83x on 14x14x1024 at stride 2 (both read through a padded
//! copy, see [`ALIASING_BYTES`]), equal on the smallest maps; outputs bit-identical.

use std::borrow::Cow;
use std::mem::MaybeUninit;

use pulp::{Simd, WithSimd};

use super::gelu::gelu_in_place;
use super::{buffers, parallel, simd};

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

/// Input pixels (and taps) this many bytes apart or a multiple of it fall in a few of L1's
/// sets: the pixels one span reads evict each other (measured on Zen 3 with [`InteriorSpans`]:
/// 7x7x1024 at 3.7 ns per output value against 1.0 ns for 7x7x896; 1.4 ns read through the
/// copy, the copy included). Such maps are read from a copy whose pixels are one cache line
/// further apart.
const ALIASING_BYTES: usize = 2048;
/// Values of one cache line.
const LINE: usize = 16;

/// `x: [batch, height, width, channels]`, `taps: [3, 3, channels]` (PyTorch's `[channels, 1,
/// 3, 3]` stored HWIO, so that each tap is one contiguous vector of channels), `bias:
/// [channels]`; returns `[batch, out_h, out_w, channels]`.
pub fn depthwise_conv3x3(x: &[f32], g: Geometry, taps: &[f32], bias: &[f32], gelu_out: bool) -> Vec<f32> {
    let c = g.channels;
    assert_eq!(x.len(), g.batch * g.height * g.width * c, "depthwise: input size");
    assert!(taps.len() == 9 * c && bias.len() == c, "depthwise: weight size");
    let pitch = pitch(c);
    let (x, taps) = (repitched(x, c, pitch), repitched(taps, c, pitch));
    let (out_h, out_w) = g.output_size();
    let (row_len, plane_len) = (g.width * pitch, g.height * g.width * pitch);
    let write_row = |row_index: usize, out_row: &mut [MaybeUninit<f32>]| {
        let (image, oy) = (row_index / out_h, row_index % out_h);
        let plane = &x[image * plane_len..][..plane_len];
        let rows = std::array::from_fn(|ky| {
            let iy = (oy * g.stride + ky).checked_sub(1).filter(|&iy| iy < g.height);
            iy.map(|iy| &plane[iy * row_len..][..row_len])
        });
        depthwise_row(Source { rows, taps: &taps, bias, pitch, g }, out_row, gelu_out);
    };
    // SAFETY: `output_row` writes every channel of every pixel of its row.
    let out = unsafe { parallel::vec_by_chunks(g.batch * out_h * out_w * c, out_w * c, write_row) };
    for copy in [x, taps] {
        if let Cow::Owned(copy) = copy {
            buffers::give(copy);
        }
    }
    out
}

/// Values between two pixels (and two taps) the kernel reads for `c` channels: `c`, or one
/// cache line more when `c` values span a multiple of [`ALIASING_BYTES`].
pub fn pitch(c: usize) -> usize {
    if (c * 4).is_multiple_of(ALIASING_BYTES) { c + LINE } else { c }
}

/// `values` (vectors of `c`) with each vector `pitch` values after the previous one.
pub fn repitched(values: &[f32], c: usize, pitch: usize) -> Cow<'_, [f32]> {
    if pitch == c {
        return Cow::Borrowed(values);
    }
    let len = values.len() / c * pitch;
    let mut copy = buffers::take(len);
    parallel::for_each_chunk(&mut copy.spare_capacity_mut()[..len], pitch * 64, |chunk, dst| {
        for (d, s) in dst.chunks_exact_mut(pitch).zip(values[chunk * 64 * c..].chunks_exact(c)) {
            let (data, pad) = d.split_at_mut(c);
            data.write_copy_of_slice(s);
            pad.iter_mut().for_each(|v| _ = v.write(0.0));
        }
    });
    // SAFETY: every vector's values and padding were written.
    unsafe { copy.set_len(len) };
    Cow::Owned(copy)
}

/// One output row's input and the weights, as the kernel reads them: input rows
/// `oy · stride - 1`, `oy · stride`, `oy · stride + 1` (`None` for a row of the padding), pixel
/// `ix` of a row at `row[ix * pitch..]`; tap `t` at `taps[t * pitch..]`.
#[derive(Clone, Copy)]
pub struct Source<'a> {
    /// The three input rows, `width * pitch` values each.
    pub rows: [Option<&'a [f32]>; 3],
    /// `[3, 3, channels]`, each tap `pitch` values after the previous one.
    pub taps: &'a [f32],
    /// `[channels]`.
    pub bias: &'a [f32],
    /// Values between two pixels and two taps ([`pitch`]).
    pub pitch: usize,
    /// The map's geometry (`batch` and `height` are not read).
    pub g: Geometry,
}

/// One output row (`out_width · channels` values, all written), GELU applied if `gelu_out`:
/// the pixels whose nine taps all lie inside the map by [`InteriorSpans`] (the channels its
/// vectors cover), everything else one pixel at a time by [`pixel_channels`]; GELU over the
/// finished row, while it is in L1.
pub fn depthwise_row(source: Source, out_row: &mut [MaybeUninit<f32>], gelu_out: bool) {
    let (g, pitch) = (source.g, source.pitch);
    assert!(source.rows.iter().flatten().all(|row| row.len() == g.width * pitch), "depthwise: row size");
    assert!(source.taps.len() >= 8 * pitch + g.channels && source.bias.len() == g.channels, "depthwise: weight size");
    assert_eq!(out_row.len(), g.output_size().1 * g.channels, "depthwise: output row size");
    simd::dispatch(#[inline(always)] || output_row(source, out_row, gelu_out));
}

#[inline(always)]
fn output_row(source: Source, out_row: &mut [MaybeUninit<f32>], gelu_out: bool) {
    let g = source.g;
    // Output columns whose taps stay inside the map: `ox * stride >= 1`, `ox * stride + 1 < width`.
    let interior = match source.rows {
        [Some(above), Some(row), Some(below)] if g.width >= 3 => Some(([above, row, below], 1..(g.width - 2) / g.stride + 1)),
        _ => None,
    };
    let vectorised = match &interior {
        Some((rows, columns)) => {
            simd::arch().dispatch(InteriorSpans { rows: *rows, source, columns: columns.clone(), out_row: &mut *out_row })
        }
        None => 0,
    };
    for (ox, out) in out_row.chunks_exact_mut(g.channels).enumerate() {
        let first = if interior.as_ref().is_some_and(|(_, columns)| columns.contains(&ox)) { vectorised } else { 0 };
        pixel_channels(source, ox, out, first);
    }
    if gelu_out {
        // SAFETY: every element of the row was written above.
        gelu_in_place(unsafe { &mut *(std::ptr::from_mut(out_row) as *mut [f32]) });
    }
}

/// Channels `first..` of the output pixel `ox`, the padding's taps skipped.
#[inline(always)]
fn pixel_channels(source: Source, ox: usize, out: &mut [MaybeUninit<f32>], first: usize) {
    let (g, c) = (source.g, source.g.channels);
    if first == c {
        return;
    }
    let sources: [Option<&[f32]>; 9] = std::array::from_fn(|t| {
        let (ky, kx) = (t / 3, t % 3);
        let ix = (ox * g.stride + kx).checked_sub(1).filter(|&ix| ix < g.width);
        source.rows[ky].zip(ix).map(|(row, ix)| &row[ix * source.pitch..][..c])
    });
    let mut start = first;
    while start + 32 <= c {
        channel_block::<32>(source, &sources, start, &mut out[start..start + 32]);
        start += 32;
    }
    while start + 8 <= c {
        channel_block::<8>(source, &sources, start, &mut out[start..start + 8]);
        start += 8;
    }
    for ch in start..c {
        channel_block::<1>(source, &sources, ch, &mut out[ch..ch + 1]);
    }
}

/// Output pixels per pass over a span of channels: the span's taps are loaded once for them,
/// and the pass reads 3 x (4 x stride + 2) input lines at most, fewer than L1 keeps in the sets
/// a pixel pitch that is a multiple of 1 KiB maps them to.
const COLUMN_GROUP: usize = 4;

/// The interior pixels `columns` of one output row (all nine taps inside the map), a span of
/// channels at a time: the span's nine tap vectors and bias stay in registers for
/// [`COLUMN_GROUP`] pixels, so an output vector costs nine input loads and nine multiply-adds
/// (the per-pixel path loads a tap for every input vector). Returns the channels it wrote
/// (whole spans; none on a CPU without vectors).
struct InteriorSpans<'a> {
    /// Input rows `oy * stride - 1`, `oy * stride`, `oy * stride + 1`.
    rows: [&'a [f32]; 3],
    source: Source<'a>,
    columns: std::ops::Range<usize>,
    out_row: &'a mut [MaybeUninit<f32>],
}

impl WithSimd for InteriorSpans<'_> {
    type Output = usize;

    #[inline(always)]
    fn with_simd<S: Simd>(self, simd: S) -> usize {
        // Spans of 8 channels (16 with AVX-512): nine taps in 9 of AVX2's 16 registers, 18 of
        // NEON's 32.
        match S::F32_LANES {
            16 | 8 => self.spans::<S, 1>(simd),
            4 => self.spans::<S, 2>(simd),
            _ => 0,
        }
    }
}

impl InteriorSpans<'_> {
    #[inline(always)]
    fn spans<S: Simd, const VECTORS: usize>(self, simd: S) -> usize {
        let InteriorSpans { rows, source: Source { taps, bias, pitch, g, .. }, columns, out_row } = self;
        let (c, lanes) = (g.channels, S::F32_LANES);
        let span = VECTORS * lanes;
        // Bounds of every access below: the last column's right taps end inside the rows, its
        // output inside the row.
        assert!(columns.start >= 1 && (columns.end - 1) * g.stride + 2 <= g.width && columns.end * c <= out_row.len());
        assert!(rows.iter().all(|row| row.len() == g.width * pitch) && taps.len() >= 8 * pitch + c && bias.len() == c);
        let load = |ptr: *const f32| unsafe { std::ptr::read_unaligned(ptr.cast::<S::f32s>()) };
        let out = out_row.as_mut_ptr().cast::<f32>();
        for first_column in columns.clone().step_by(COLUMN_GROUP) {
            let group = first_column..(first_column + COLUMN_GROUP).min(columns.end);
            for start in (0..c / span * span).step_by(span) {
                // SAFETY: `start + span <= c` and the asserts above keep every pointer inside
                // its slice.
                unsafe {
                    let weights: [[S::f32s; VECTORS]; 9] =
                        std::array::from_fn(|t| std::array::from_fn(|v| load(taps.as_ptr().add(t * pitch + start + v * lanes))));
                    let first: [S::f32s; VECTORS] = std::array::from_fn(|v| load(bias.as_ptr().add(start + v * lanes)));
                    for ox in group.clone() {
                        let mut acc = first;
                        for (ky, row) in rows.iter().enumerate() {
                            let left = row.as_ptr().add((ox * g.stride - 1) * pitch + start);
                            for kx in 0..3 {
                                for (v, value) in acc.iter_mut().enumerate() {
                                    *value = simd.mul_add_e_f32s(load(left.add(kx * pitch + v * lanes)), weights[ky * 3 + kx][v], *value);
                                }
                            }
                        }
                        for (v, value) in acc.iter().enumerate() {
                            std::ptr::write_unaligned(out.add(ox * c + start + v * lanes).cast::<S::f32s>(), *value);
                        }
                    }
                }
            }
        }
        c / span * span
    }
}

/// `N` channels from `start` of one output pixel, accumulated in registers over the nine taps.
#[inline(always)]
fn channel_block<const N: usize>(source: Source, sources: &[Option<&[f32]>; 9], start: usize, out: &mut [MaybeUninit<f32>]) {
    let mut acc = [0f32; N];
    acc.copy_from_slice(&source.bias[start..start + N]);
    for (t, pixel) in sources.iter().enumerate() {
        let Some(pixel) = pixel else { continue };
        let input = &pixel[start..][..N];
        let weight = &source.taps[t * source.pitch + start..][..N];
        for i in 0..N {
            acc[i] = input[i].mul_add(weight[i], acc[i]);
        }
    }
    out.iter_mut().zip(acc).for_each(|(o, v)| _ = o.write(v));
}
