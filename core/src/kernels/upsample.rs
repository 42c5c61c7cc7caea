//! Bilinear upsampling of channels-last maps by a fixed interpolation matrix: `Attention2d`'s
//! `nn.Upsample(scale_factor=2, mode='bilinear', align_corners=False)` (stage 2). Each output
//! pixel blends the few input pixels its row and column weights name, along contiguous channels.

use super::{buffers, parallel, simd};

/// The nonzero `(source, weight)` pairs of each output index of a `[from, to]` transposed
/// interpolation matrix.
fn taps(matrix_t: &[f32], from: usize, to: usize) -> Vec<Vec<(usize, f32)>> {
    (0..to).map(|o| (0..from).filter_map(|i| Some((i, matrix_t[i * to + o])).filter(|&(_, w)| w != 0.0)).collect()).collect()
}

/// `x: [batch, side, side, channels]`, `matrix_t: [side, out_side]` (the transpose of the
/// per-axis interpolation matrix); returns `[batch, out_side, out_side, channels]`.
pub fn bilinear_upsample(x: &[f32], batch: usize, side: usize, channels: usize, matrix_t: &[f32]) -> Vec<f32> {
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
        simd::dispatch(
            #[inline(always)]
            || {
                for (ox, out) in out_row.chunks_exact_mut(channels).enumerate() {
                    for &(iy, wy) in &taps[oy] {
                        for &(ix, wx) in &taps[ox] {
                            let w = wy * wx;
                            let input = &plane[(iy * side + ix) * channels..][..channels];
                            out.iter_mut().zip(input).for_each(|(o, v)| *o = w.mul_add(*v, *o));
                        }
                    }
                }
            },
        );
    });
    out
}
