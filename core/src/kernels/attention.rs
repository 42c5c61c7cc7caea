//! The attention core of timm's `Attention2d` (scores, talking head 1 with the position
//! biases folded in, softmax, talking head 2, value product, plus the local-value branch) and
//! of `Attention2dDownsample` (scores, position biases, softmax, value product, plus its local
//! value), on channels-last token matrices. Heads run in parallel for the products.

use std::mem::MaybeUninit;

use pulp::{Simd, WithSimd};

use super::lanes::{Element, from_f32_vec, widened};
use super::matmul::Matrix;
use super::microkernel::{self, Panels, pack_panels};
use super::softmax::softmax_rows;
use super::{buffers, parallel, simd};

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

/// `out[b, n, h·vd + e] += Σ_m A_h[n, m] · v[b, m, h·vd + e]` with `A` the mixed softmax of
/// `S_h = q_h · k_hᵀ`; `q: [B, N, heads·kd]`, `k: [B, M, heads·kd]`, `v: [B, M, heads·vd]`,
/// and `out: [B, N, heads·vd]`, which holds the local value on entry (channels-last token
/// matrices), GELU applied to the result when `gelu` is set (`proj`'s first layer, in the value
/// product's epilogue). `q` carries the `kd^-1/2` scale (folded at load time).
///
/// Both products are the micro-kernel's ([`microkernel`]), one head per task, with `k_hᵀ` and
/// `v_h` packed in panels on the call (each packed value is then used by all `N` queries):
/// `S_h` is written whole, and `A_h · v_h` accumulates straight into the head's columns of
/// `out`. Through `gemm`, which packs its operands into a buffer it allocates on every call,
/// the cores were slower at two threads than at one (S1's, timed per op: 0.40 and 0.36 ms a
/// pass at one thread, 0.47 and 0.40 at two; here 0.32 and 0.28 at two); against that build,
/// alternating runs of the per-stage profile measured L's attention blocks 0.80-0.83x and its
/// whole pass 0.89x at two threads, 0.95x at one; S0 0.99x at two; S1's attention blocks
/// 1.01-1.05x at one thread (the scores' last panel of 49 keys is one column wide).
pub fn attention<E: Element>(q: &[E], k: &[E], v: &[E], out: &mut [E], shape: AttentionShape, mixing: ScoreMixing, gelu: bool) {
    let AttentionShape { batch, heads, queries, keys, key_dim, value_dim } = shape;
    let (qk_width, v_width) = (heads * key_dim, heads * value_dim);
    assert!(q.len() == batch * queries * qk_width && k.len() == batch * keys * qk_width, "attention: q/k size");
    assert!(v.len() == batch * keys * v_width && out.len() == batch * queries * v_width, "attention: v size");
    if key_dim == 0 || keys == 0 || queries == 0 || value_dim == 0 {
        return;
    }
    let plane = queries * keys;
    let mut mixed = match mixing {
        ScoreMixing::Bias(_) => Vec::new(),
        ScoreMixing::TalkingHeads { .. } => buffers::zeroed(heads * plane),
    };
    let dst = parallel::SharedPtr(out.as_mut_ptr());
    for image in 0..batch {
        // The scores are computed, biased, mixed and normalised in `f32` in either precision:
        // softmax turns an error of δ in a score into a relative error of δ in its probability,
        // and in `f16` a score of 10 is only known to 5e-3. `q·k` is 49 x 49 x `key_dim`
        // multiply-adds per head, a few percent of an attention block's.
        let (q, k) = (widened(&q[image * queries * qk_width..][..queries * qk_width]), widened(&k[image * keys * qk_width..][..keys * qk_width]));
        let v = &v[image * keys * v_width..][..keys * v_width];
        let scores_h = |h: usize, s: &mut [MaybeUninit<f32>]| {
            let k_t = Matrix { data: &k[h * key_dim..], rows: key_dim, cols: keys, row_stride: 1, col_stride: qk_width };
            let k_t: Vec<f32> = pack_panels(k_t);
            // SAFETY: `q_h` is `queries x key_dim` (rows `qk_width` apart), `k_t` `key_dim x
            // keys` in panels, `s` this task's `queries x keys` plane, written whole.
            unsafe {
                microkernel::multiply(Panels {
                    a: q.as_ptr().add(h * key_dim),
                    a_row_stride: qk_width,
                    b: k_t.as_ptr(),
                    dst: s.as_mut_ptr().cast(),
                    dst_row_stride: keys,
                    m: queries,
                    k: key_dim,
                    n: keys,
                    bias: None,
                    accumulate: false,
                    gelu: false,
                })
            };
        };
        // SAFETY: `scores_h` writes every value of its plane.
        let mut scores = unsafe { parallel::vec_by_chunks(heads * plane, plane, scores_h) };
        match mixing {
            ScoreMixing::Bias(bias) => {
                parallel::for_each_chunk(&mut scores, plane, |h, s| {
                    s.iter_mut().zip(&bias[h * plane..][..plane]).for_each(|(s, b)| *s += b);
                    softmax_rows(s, keys);
                });
            }
            ScoreMixing::TalkingHeads { th1, bias, th2, th2_bias } => {
                parallel::for_each_chunk(&mut mixed, plane, |o, out| {
                    mix_heads(&scores, &th1[o * heads..][..heads], out, Some(&bias[o * plane..][..plane]), 0.0);
                    softmax_rows(out, keys);
                });
                parallel::for_each_chunk(&mut scores, plane, |o, out| mix_heads(&mixed, &th2[o * heads..][..heads], out, None, th2_bias[o]));
            }
        }
        let probabilities: Vec<E> = from_f32_vec(scores);
        parallel::for_each_task(heads, |h| {
            let v_h = Matrix { data: &v[h * value_dim..], rows: keys, cols: value_dim, row_stride: v_width, col_stride: 1 };
            let v_h: Vec<E> = pack_panels(v_h);
            // SAFETY: `A_h` is `queries x keys`, `v_h` `keys x value_dim` in panels, and head
            // `h`'s columns of this image's rows of `out` are this task's alone.
            unsafe {
                microkernel::multiply(Panels {
                    a: probabilities[h * plane..].as_ptr(),
                    a_row_stride: keys,
                    b: v_h.as_ptr(),
                    dst: dst.at(image * queries * v_width + h * value_dim),
                    dst_row_stride: v_width,
                    m: queries,
                    k: keys,
                    n: value_dim,
                    bias: None,
                    accumulate: true,
                    gelu,
                })
            };
        });
        buffers::give(probabilities);
    }
    buffers::give(mixed);
}

/// One output head of a 1x1 convolution across heads (timm's `talking_head1`/`talking_head2`):
/// `out = Σ_h weights[h] · src[h] + (plane_bias or head_bias)` over planes of `out.len()` values.
/// Blocks of [`MIX_BLOCK`] vectors of `out` stay in registers while every head is added in (it
/// was a pass over `out` per head, loading and storing it each time: S0's stage 3 under
/// `qemu-aarch64`, 0.72 M instructions in this function, now 0.67 M); each value is summed in
/// the same order as before, so to the bit the same.
fn mix_heads(src: &[f32], weights: &[f32], out: &mut [f32], plane_bias: Option<&[f32]>, head_bias: f32) {
    simd::arch().dispatch(MixHeads { src, weights, out, plane_bias, head_bias });
}

/// Vectors of a talking-head output block held in registers.
const MIX_BLOCK: usize = 4;

struct MixHeads<'a> {
    src: &'a [f32],
    weights: &'a [f32],
    out: &'a mut [f32],
    plane_bias: Option<&'a [f32]>,
    head_bias: f32,
}

impl WithSimd for MixHeads<'_> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: Simd>(self, simd: S) {
        let MixHeads { src, weights, out, plane_bias, head_bias } = self;
        let plane = out.len();
        match plane_bias {
            Some(bias) => out.copy_from_slice(bias),
            None => out.fill(head_bias),
        }
        let split = |h: usize| S::as_simd_f32s(&src[h * plane..][..plane]).0;
        let sources: Vec<&[[S::f32s; MIX_BLOCK]]> = (0..weights.len()).map(|h| split(h).as_chunks().0).collect();
        let splats: Vec<S::f32s> = weights.iter().map(|&w| simd.splat_f32s(w)).collect();
        let (vectors, tail) = S::as_mut_simd_f32s(out);
        let (blocks, rest) = vectors.as_chunks_mut::<MIX_BLOCK>();
        for (b, block) in blocks.iter_mut().enumerate() {
            let mut sums = *block;
            for (source, &weight) in sources.iter().zip(&splats) {
                for (sum, &s) in sums.iter_mut().zip(&source[b]) {
                    *sum = simd.mul_add_f32s(weight, s, *sum);
                }
            }
            *block = sums;
        }
        let whole = blocks.len() * MIX_BLOCK;
        for (i, sum) in rest.iter_mut().enumerate() {
            for (h, &weight) in splats.iter().enumerate() {
                *sum = simd.mul_add_f32s(weight, split(h)[whole + i], *sum);
            }
        }
        let first = plane - tail.len();
        for (i, value) in tail.iter_mut().enumerate() {
            for (h, &weight) in weights.iter().enumerate() {
                *value = weight.mul_add(src[h * plane + first + i], *value);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Against the sum written out, head by head, to the bit: planes of 1 value, under a
    /// vector, a block and a few vectors more, and 49 and 196 (the 7x7 and 14x14 stages), with
    /// 1, 3 and 8 heads, each bias form.
    #[test]
    fn mix_heads_matches_the_written_sum() {
        for plane in [1, 3, 17, 49, 67, 196] {
            for heads in [1, 3, 8] {
                let src: Vec<f32> = (0..heads * plane).map(|i| ((i * 29) % 41) as f32 * 0.37 - 7.0).collect();
                let weights: Vec<f32> = (0..heads).map(|h| 0.3 - h as f32 * 0.11).collect();
                let bias: Vec<f32> = (0..plane).map(|i| i as f32 * 0.01).collect();
                for plane_bias in [Some(&bias[..]), None] {
                    let mut out = vec![0.0; plane];
                    mix_heads(&src, &weights, &mut out, plane_bias, 0.25);
                    for (i, got) in out.iter().enumerate() {
                        let start = plane_bias.map_or(0.25, |b| b[i]);
                        let want = (0..heads).fold(start, |d, h| weights[h].mul_add(src[h * plane + i], d));
                        assert_eq!(got.to_bits(), want.to_bits(), "plane {plane}, {heads} heads, value {i}");
                    }
                }
            }
        }
    }
}
