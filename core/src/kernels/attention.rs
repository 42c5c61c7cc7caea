//! The attention core of timm's `Attention2d` (scores, talking head 1 with the position
//! biases folded in, softmax, talking head 2, value product, plus the local-value branch) and
//! of `Attention2dDownsample` (scores, position biases, softmax, value product, plus its local
//! value), on channels-last token matrices. Heads run in parallel for the products.

use std::mem::MaybeUninit;

use super::matmul::{Epilogue, Matrix, matmul};
use super::{buffers, parallel, simd};
use super::softmax::softmax_rows;

/// Sizes of one attention call.
#[derive(Debug, Clone, Copy)]
pub struct AttentionShape {
    /// Images.
    pub batch: usize,
    /// Heads.
    pub heads: usize,
    /// Query tokens (`N`).
    pub queries: usize,
    /// Key tokens (`M`).
    pub keys: usize,
    /// Channels per head of `q` and `k`.
    pub key_dim: usize,
    /// Channels per head of `v`.
    pub value_dim: usize,
}

/// What is done to the scores between the two products.
#[derive(Debug, Clone, Copy)]
pub enum ScoreMixing<'a> {
    /// `softmax(s + bias)`: `bias: [heads, N, M]` (`Attention2dDownsample`).
    Bias(&'a [f32]),
    /// `th2(softmax(th1(s) + bias)) + th2_bias`: `th1, th2: [heads, heads]`, `bias: [heads, N,
    /// M]` (position biases through `th1`, plus its bias), `th2_bias: [heads]` (`Attention2d`).
    TalkingHeads { th1: &'a [f32], bias: &'a [f32], th2: &'a [f32], th2_bias: &'a [f32] },
}

/// `out[b, n, h·vd + e] = local[b, n, h·vd + e] + Σ_m A_h[n, m] · v[b, m, h·vd + e]` with
/// `A` the mixed softmax of `S_h = q_h · k_hᵀ`; `q: [B, N, heads·kd]`, `k: [B, M, heads·kd]`,
/// `v, local: [B, M or N, heads·vd]` (channels-last token matrices). `q` carries the
/// `kd^-1/2` scale (folded at load time).
pub fn attention(q: &[f32], k: &[f32], v: &[f32], local: &[f32], shape: AttentionShape, mixing: ScoreMixing) -> Vec<f32> {
    let AttentionShape { batch, heads, queries, keys, key_dim, value_dim } = shape;
    let (qk_width, v_width) = (heads * key_dim, heads * value_dim);
    assert!(q.len() == batch * queries * qk_width && k.len() == batch * keys * qk_width, "attention: q/k size");
    assert!(v.len() == batch * keys * v_width && local.len() == batch * queries * v_width, "attention: v size");
    let plane = queries * keys;
    let head_outputs = heads * queries * value_dim;
    let mut scores = buffers::zeroed(heads * plane);
    let mut mixed = buffers::zeroed(heads * plane);
    let mut per_head = buffers::zeroed(batch * head_outputs);
    for image in 0..batch {
        let q = &q[image * queries * qk_width..][..queries * qk_width];
        let k = &k[image * keys * qk_width..][..keys * qk_width];
        let v = &v[image * keys * v_width..][..keys * v_width];
        parallel::for_each_chunk(&mut scores, plane, |h, s| {
            let q_h = Matrix { data: &q[h * key_dim..], rows: queries, cols: key_dim, row_stride: qk_width, col_stride: 1 };
            let k_t = Matrix { data: &k[h * key_dim..], rows: key_dim, cols: keys, row_stride: 1, col_stride: qk_width };
            matmul(s, keys, q_h, k_t, Epilogue::default());
        });
        let probabilities = match mixing {
            ScoreMixing::Bias(bias) => {
                parallel::for_each_chunk(&mut scores, plane, |h, s| {
                    s.iter_mut().zip(&bias[h * plane..][..plane]).for_each(|(s, b)| *s += b);
                    softmax_rows(s, keys);
                });
                &scores
            }
            ScoreMixing::TalkingHeads { th1, bias, th2, th2_bias } => {
                parallel::for_each_chunk(&mut mixed, plane, |o, out| {
                    mix_heads(&scores, &th1[o * heads..][..heads], out, Some(&bias[o * plane..][..plane]), 0.0);
                    softmax_rows(out, keys);
                });
                parallel::for_each_chunk(&mut scores, plane, |o, out| mix_heads(&mixed, &th2[o * heads..][..heads], out, None, th2_bias[o]));
                &scores
            }
        };
        let per_head = &mut per_head[image * head_outputs..][..head_outputs];
        parallel::for_each_chunk(per_head, queries * value_dim, |h, o| {
            let a = Matrix::row_major(&probabilities[h * plane..][..plane], queries, keys);
            let v_h = Matrix { data: &v[h * value_dim..], rows: keys, cols: value_dim, row_stride: v_width, col_stride: 1 };
            matmul(o, value_dim, a, v_h, Epilogue::default());
        });
    }
    // Token rows `local + [head 0 | head 1 | …]`, written once.
    let write_row = |row: usize, out: &mut [MaybeUninit<f32>]| {
        let (image, n) = (row / queries, row % queries);
        let local = &local[row * v_width..][..v_width];
        for (h, (segment, local)) in out.chunks_exact_mut(value_dim).zip(local.chunks_exact(value_dim)).enumerate() {
            let head_row = &per_head[image * head_outputs + (h * queries + n) * value_dim..][..value_dim];
            segment.iter_mut().zip(local).zip(head_row).for_each(|((o, l), p)| _ = o.write(l + p));
        }
    };
    // SAFETY: `write_row` writes every head segment of its row, and the segments tile it.
    let out = unsafe { parallel::vec_by_chunks(batch * queries * v_width, v_width.max(1), write_row) };
    [scores, mixed, per_head].into_iter().for_each(buffers::give);
    out
}

/// One output head of a 1x1 convolution across heads (timm's `talking_head1`/`talking_head2`):
/// `out = Σ_h weights[h] · src[h] + (plane_bias or head_bias)` over planes of `out.len()` values.
fn mix_heads(src: &[f32], weights: &[f32], out: &mut [f32], plane_bias: Option<&[f32]>, head_bias: f32) {
    let plane = out.len();
    simd::dispatch(#[inline(always)] || {
        match plane_bias {
            Some(bias) => out.copy_from_slice(bias),
            None => out.fill(head_bias),
        }
        for (h, &weight) in weights.iter().enumerate() {
            out.iter_mut().zip(&src[h * plane..][..plane]).for_each(|(d, s)| *d = weight.mul_add(*s, *d));
        }
    });
}
