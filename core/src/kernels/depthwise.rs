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

use super::gelu::gelu_in_place;
use super::lanes::{Element, Lanes, WithLanes};
use super::{buffers, parallel};

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
/// Bytes of one cache line.
const LINE_BYTES: usize = 64;

/// `x: [batch, height, width, channels]`, `taps: [3, 3, channels]` (PyTorch's `[channels, 1,
/// 3, 3]` stored HWIO, so that each tap is one contiguous vector of channels), `bias:
/// [channels]`; returns `[batch, out_h, out_w, channels]`.
pub fn depthwise_conv3x3<E: Element>(x: &[E], g: Geometry, taps: &[E], bias: &[E], gelu_out: bool) -> Vec<E> {
    let c = g.channels;
    assert_eq!(x.len(), g.batch * g.height * g.width * c, "depthwise: input size");
    assert!(taps.len() == 9 * c && bias.len() == c, "depthwise: weight size");
    let pitch = pitch::<E>(c);
    let (x, taps) = (repitched(x, c, pitch), repitched(taps, c, pitch));
    let (out_h, out_w) = g.output_size();
    let (row_len, plane_len) = (g.width * pitch, g.height * g.width * pitch);
    let write_row = |row_index: usize, out_row: &mut [MaybeUninit<E>]| {
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
pub fn pitch<E>(c: usize) -> usize {
    if (c * size_of::<E>()).is_multiple_of(ALIASING_BYTES) { c + LINE_BYTES / size_of::<E>() } else { c }
}

/// `values` (vectors of `c`) with each vector `pitch` values after the previous one.
pub fn repitched<E: Element>(values: &[E], c: usize, pitch: usize) -> Cow<'_, [E]> {
    if pitch == c {
        return Cow::Borrowed(values);
    }
    let len = values.len() / c * pitch;
    let mut copy = buffers::take(len);
    parallel::for_each_chunk(&mut copy.spare_capacity_mut()[..len], pitch * 64, |chunk, dst| {
        for (d, s) in dst.chunks_exact_mut(pitch).zip(values[chunk * 64 * c..].chunks_exact(c)) {
            let (data, pad) = d.split_at_mut(c);
            data.write_copy_of_slice(s);
            pad.iter_mut().for_each(|v| _ = v.write(E::ZERO));
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
pub struct Source<'a, E> {
    /// The three input rows, `width * pitch` values each.
    pub rows: [Option<&'a [E]>; 3],
    /// `[3, 3, channels]`, each tap `pitch` values after the previous one.
    pub taps: &'a [E],
    /// `[channels]`.
    pub bias: &'a [E],
    /// Values between two pixels and two taps ([`pitch`]).
    pub pitch: usize,
    /// The map's geometry (`batch` and `height` are not read).
    pub g: Geometry,
}

/// One output row (`out_width · channels` values, all written), GELU applied if `gelu_out`:
/// the pixels whose nine taps all lie inside the map by [`InteriorSpans`] (the channels its
/// vectors cover), everything else one pixel at a time by [`pixel_channels`]; GELU over the
/// finished row, while it is in L1.
pub fn depthwise_row<E: Element>(source: Source<E>, out_row: &mut [MaybeUninit<E>], gelu_out: bool) {
    let (g, pitch) = (source.g, source.pitch);
    assert!(source.rows.iter().flatten().all(|row| row.len() == g.width * pitch), "depthwise: row size");
    assert!(source.taps.len() >= 8 * pitch + g.channels && source.bias.len() == g.channels, "depthwise: weight size");
    assert_eq!(out_row.len(), g.output_size().1 * g.channels, "depthwise: output row size");
    E::dispatch(OutputRow { source, out_row: &mut *out_row });
    if gelu_out {
        // SAFETY: every element of the row was written above.
        gelu_in_place(unsafe { &mut *(std::ptr::from_mut(out_row) as *mut [E]) });
    }
}

struct OutputRow<'a, E> {
    source: Source<'a, E>,
    out_row: &'a mut [MaybeUninit<E>],
}

impl<E: Element> WithLanes<E> for OutputRow<'_, E> {
    type Output = ();

    #[inline(always)]
    fn with_lanes<L: Lanes<Value = E>>(self, lanes: L) {
        let OutputRow { source, out_row } = self;
        let g = source.g;
        // Output columns whose taps stay inside the map: `ox * stride >= 1`, `ox * stride + 1 < width`.
        let interior = match source.rows {
            [Some(above), Some(row), Some(below)] if g.width >= 3 => Some(([above, row, below], 1..(g.width - 2) / g.stride + 1)),
            _ => None,
        };
        let vectorised = match &interior {
            Some((rows, columns)) => interior_spans(lanes, InteriorSpans { rows: *rows, source, columns: columns.clone(), out_row: &mut *out_row }),
            None => 0,
        };
        for (ox, out) in out_row.chunks_exact_mut(g.channels).enumerate() {
            let first = if interior.as_ref().is_some_and(|(_, columns)| columns.contains(&ox)) { vectorised } else { 0 };
            pixel_channels(lanes, source, ox, out, first);
        }
    }
}

/// Channels `first..` of the output pixel `ox`, the padding's taps skipped: four vectors of
/// channels at a time, then one, then one channel (computed in `f32`).
#[inline(always)]
fn pixel_channels<L: Lanes>(lanes: L, source: Source<L::Value>, ox: usize, out: &mut [MaybeUninit<L::Value>], first: usize) {
    let (g, c) = (source.g, source.g.channels);
    if first == c {
        return;
    }
    let sources: [Option<&[L::Value]>; 9] = std::array::from_fn(|t| {
        let (ky, kx) = (t / 3, t % 3);
        let ix = (ox * g.stride + kx).checked_sub(1).filter(|&ix| ix < g.width);
        source.rows[ky].zip(ix).map(|(row, ix)| &row[ix * source.pitch..][..c])
    });
    let mut start = first;
    while start + 4 * L::LANES <= c {
        channel_vectors::<L, 4>(lanes, source, &sources, start, &mut out[start..start + 4 * L::LANES]);
        start += 4 * L::LANES;
    }
    while start + L::LANES <= c {
        channel_vectors::<L, 1>(lanes, source, &sources, start, &mut out[start..start + L::LANES]);
        start += L::LANES;
    }
    for ch in start..c {
        let mut acc = source.bias[ch].to_f32();
        for (t, pixel) in sources.iter().enumerate() {
            if let Some(pixel) = pixel {
                acc = pixel[ch].to_f32().mul_add(source.taps[t * source.pitch + ch].to_f32(), acc);
            }
        }
        out[ch].write(L::Value::from_f32(acc));
    }
}

/// `VECTORS` vectors of channels from `start` of one output pixel, accumulated in registers
/// over the nine taps.
#[inline(always)]
fn channel_vectors<L: Lanes, const VECTORS: usize>(
    lanes: L,
    source: Source<L::Value>,
    sources: &[Option<&[L::Value]>; 9],
    start: usize,
    out: &mut [MaybeUninit<L::Value>],
) {
    assert!(start + VECTORS * L::LANES <= source.bias.len() && out.len() == VECTORS * L::LANES);
    // SAFETY: the assert above, and each pixel and tap holds the channels' `c` values.
    unsafe {
        let mut acc: [L::Vector; VECTORS] = std::array::from_fn(|v| lanes.load(source.bias.as_ptr().add(start + v * L::LANES)));
        for (t, pixel) in sources.iter().enumerate() {
            let Some(pixel) = pixel else { continue };
            let taps = &source.taps[t * source.pitch + start..][..VECTORS * L::LANES];
            let input = &pixel[start..][..VECTORS * L::LANES];
            for (v, value) in acc.iter_mut().enumerate() {
                *value = lanes.mul_add(lanes.load(input.as_ptr().add(v * L::LANES)), lanes.load(taps.as_ptr().add(v * L::LANES)), *value);
            }
        }
        for (v, value) in acc.iter().enumerate() {
            lanes.store(out.as_mut_ptr().add(v * L::LANES).cast(), *value);
        }
    }
}

/// Output pixels per pass over a span of channels: the span's taps are loaded once for them,
/// and the pass reads 3 x (4 x stride + 2) input lines at most, fewer than L1 keeps in the sets
/// a pixel pitch that is a multiple of 1 KiB maps them to.
const COLUMN_GROUP: usize = 4;

/// The interior pixels `columns` of one output row (all nine taps inside the map), a span of
/// channels at a time: the span's nine tap vectors and bias stay in registers for
/// [`COLUMN_GROUP`] pixels, so an output vector costs nine input loads and nine multiply-adds
/// (the per-pixel path loads a tap for every input vector).
struct InteriorSpans<'a, E> {
    /// Input rows `oy * stride - 1`, `oy * stride`, `oy * stride + 1`.
    rows: [&'a [E]; 3],
    source: Source<'a, E>,
    columns: std::ops::Range<usize>,
    out_row: &'a mut [MaybeUninit<E>],
}

/// Runs [`InteriorSpans`] and returns the channels it wrote (whole spans; none on a CPU
/// without vectors). A span is one vector where registers are few or vectors wide (8
/// channels of AVX2 `f32`, 16 of AVX-512: nine taps in 9 of 16 registers), two on NEON
/// (8 channels of `f32`, 16 of `f16`: 18 of 32 registers).
#[inline(always)]
fn interior_spans<L: Lanes>(lanes: L, spans: InteriorSpans<L::Value>) -> usize {
    match (L::LANES, L::REGISTERS) {
        (1, _) => 0,
        (4 | 8, 32) => spans.run::<L, 2>(lanes),
        _ => spans.run::<L, 1>(lanes),
    }
}

impl<E: Element> InteriorSpans<'_, E> {
    #[inline(always)]
    fn run<L: Lanes<Value = E>, const VECTORS: usize>(self, lanes: L) -> usize {
        let InteriorSpans { rows, source: Source { taps, bias, pitch, g, .. }, columns, out_row } = self;
        let (c, width) = (g.channels, L::LANES);
        let span = VECTORS * width;
        // Bounds of every access below: the last column's right taps end inside the rows, its
        // output inside the row.
        assert!(columns.start >= 1 && (columns.end - 1) * g.stride + 2 <= g.width && columns.end * c <= out_row.len());
        assert!(rows.iter().all(|row| row.len() == g.width * pitch) && taps.len() >= 8 * pitch + c && bias.len() == c);
        let out = out_row.as_mut_ptr().cast::<E>();
        for first_column in columns.clone().step_by(COLUMN_GROUP) {
            let group = first_column..(first_column + COLUMN_GROUP).min(columns.end);
            for start in (0..c / span * span).step_by(span) {
                // SAFETY: `start + span <= c` and the asserts above keep every pointer inside
                // its slice.
                unsafe {
                    let weights: [[L::Vector; VECTORS]; 9] =
                        std::array::from_fn(|t| std::array::from_fn(|v| lanes.load(taps.as_ptr().add(t * pitch + start + v * width))));
                    let first: [L::Vector; VECTORS] = std::array::from_fn(|v| lanes.load(bias.as_ptr().add(start + v * width)));
                    for ox in group.clone() {
                        let mut acc = first;
                        for (ky, row) in rows.iter().enumerate() {
                            let left = row.as_ptr().add((ox * g.stride - 1) * pitch + start);
                            for kx in 0..3 {
                                for (v, value) in acc.iter_mut().enumerate() {
                                    *value = lanes.mul_add(lanes.load(left.add(kx * pitch + v * width)), weights[ky * 3 + kx][v], *value);
                                }
                            }
                        }
                        for (v, value) in acc.iter().enumerate() {
                            lanes.store(out.add(ox * c + start + v * width), *value);
                        }
                    }
                }
            }
        }
        c / span * span
    }
}

