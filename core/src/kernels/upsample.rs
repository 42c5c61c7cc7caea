//! Bilinear upsampling of channels-last maps by a fixed interpolation matrix: `Attention2d`'s
//! `nn.Upsample(scale_factor=2, mode='bilinear', align_corners=False)` (stage 2). Each output
//! pixel blends the few input pixels its row and column weights name, along contiguous channels.

use super::lanes::{Element, Lanes, WithLanes};
use super::{buffers, parallel};

/// The nonzero `(source, weight)` pairs of each output index of a `[from, to]` transposed
/// interpolation matrix.
fn taps(matrix_t: &[f32], from: usize, to: usize) -> Vec<Vec<(usize, f32)>> {
    (0..to).map(|o| (0..from).filter_map(|i| Some((i, matrix_t[i * to + o])).filter(|&(_, w)| w != 0.0)).collect()).collect()
}

/// `x: [batch, side, side, channels]`, `matrix_t: [side, out_side]` (the transpose of the
/// per-axis interpolation matrix); returns `[batch, out_side, out_side, channels]`.
pub fn bilinear_upsample<E: Element>(x: &[E], batch: usize, side: usize, channels: usize, matrix_t: &[f32]) -> Vec<E> {
    let out_side = matrix_t.len() / side.max(1);
    assert_eq!(x.len(), batch * side * side * channels, "upsample: input size");
    assert_eq!(matrix_t.len(), side * out_side, "upsample: matrix size");
    let taps = taps(matrix_t, side, out_side);
    let mut out = buffers::zeroed(batch * out_side * out_side * channels);
    if out.is_empty() {
        return out;
    }
    parallel::for_each_chunk(&mut out, out_side * channels, |row, out_row| {
        let (image, oy) = (row / out_side, row % out_side);
        let plane = &x[image * side * side * channels..][..side * side * channels];
        E::dispatch(Blend { plane, side, channels, rows: &taps[oy], columns: &taps, out_row });
    });
    out
}

/// One output row: each pixel the sum of its input pixels times their row and column weights.
struct Blend<'a, E> {
    plane: &'a [E],
    side: usize,
    channels: usize,
    rows: &'a [(usize, f32)],
    columns: &'a [Vec<(usize, f32)>],
    out_row: &'a mut [E],
}

impl<E: Element> WithLanes<E> for Blend<'_, E> {
    type Output = ();

    #[inline(always)]
    fn with_lanes<L: Lanes<Value = E>>(self, lanes: L) {
        let Blend { plane, side, channels, rows, columns, out_row } = self;
        let vectors = channels / L::LANES * L::LANES;
        for (ox, out) in out_row.chunks_exact_mut(channels).enumerate() {
            for &(iy, wy) in rows {
                for &(ix, wx) in &columns[ox] {
                    let w = wy * wx;
                    let input = &plane[(iy * side + ix) * channels..][..channels];
                    let weight = lanes.splat(w);
                    for start in (0..vectors).step_by(L::LANES) {
                        // SAFETY: `start + LANES <= channels`, the length of both slices.
                        unsafe {
                            let sum = lanes.mul_add(weight, lanes.load(input.as_ptr().add(start)), lanes.load(out.as_ptr().add(start)));
                            lanes.store(out.as_mut_ptr().add(start), sum);
                        }
                    }
                    for (o, v) in out[vectors..].iter_mut().zip(&input[vectors..]) {
                        *o = E::from_f32(w.mul_add(v.to_f32(), o.to_f32()));
                    }
                }
            }
        }
    }
}

