//! Row softmax with a vectorised `exp` (burn-flex's is scalar `expf`).

use pulp::{Simd, WithSimd};

use super::simd;

/// Cephes' `expf` constants: `ln 2` in two parts (high, negated low) and the polynomial
/// (highest power first).
const LN2_HIGH: f32 = -0.693_359_4;
const LN2_LOW: f32 = 2.121_944_4e-4;
const POLYNOMIAL: [f32; 6] = [1.987_569_1e-4, 1.398_199_9e-3, 8.333_452e-3, 4.166_579_6e-2, 1.666_666_5e-1, 5.000_000_1e-1];
/// `1.5 · 2^23`: added to `|t| < 2^22` it leaves `t` rounded to the nearest integer (ties to
/// even) in the low mantissa bits, which are then also the exponent `2^n` needs.
const ROUNDING: f32 = 12_582_912.0;

/// `e^x` in `f32`: Cephes' `expf` (range reduction by `ln 2`, degree-6 polynomial), written
/// without branches so that it vectorises; inputs are clamped to [-87, 88] (softmax feeds it
/// `x - max ≤ 0`). Relative error below 2e-7 on that range (tested below).
#[inline(always)]
pub fn exp(x: f32) -> f32 {
    let x = x.clamp(-87.0, 88.0);
    let n = (x * std::f32::consts::LOG2_E).round_ties_even();
    let r = n.mul_add(LN2_LOW, n.mul_add(LN2_HIGH, x));
    let p = POLYNOMIAL[1..].iter().fold(POLYNOMIAL[0], |p, &c| p.mul_add(r, c));
    let e = (p * r).mul_add(r, r + 1.0);
    e * f32::from_bits(((n as i32 + 127) << 23) as u32)
}

/// [`exp`] on a vector, the same operations in the same order (so the same values, to the
/// bit): `n` rounded by adding and subtracting [`ROUNDING`], `2^n` built from the bits of the
/// sum. Explicit, because LLVM's own vectorisation of [`exp`] for NEON rounded through
/// `frintx` and re-splatted its constants on every iteration: 36 instructions per 4 values
/// under `qemu-aarch64`, 31 here (S0's stage 3: softmax 1.84 M instructions, now 1.48 M).
#[inline(always)]
fn exp_lanes<S: Simd>(simd: S, x: S::f32s) -> S::f32s {
    let x = simd.min_f32s(simd.max_f32s(x, simd.splat_f32s(-87.0)), simd.splat_f32s(88.0));
    let shifted = simd.add_f32s(simd.mul_f32s(x, simd.splat_f32s(std::f32::consts::LOG2_E)), simd.splat_f32s(ROUNDING));
    let n = simd.sub_f32s(shifted, simd.splat_f32s(ROUNDING));
    let r = simd.mul_add_f32s(n, simd.splat_f32s(LN2_LOW), simd.mul_add_f32s(n, simd.splat_f32s(LN2_HIGH), x));
    let p = POLYNOMIAL[1..].iter().fold(simd.splat_f32s(POLYNOMIAL[0]), |p, &c| simd.mul_add_f32s(p, r, simd.splat_f32s(c)));
    let e = simd.mul_add_f32s(simd.mul_f32s(p, r), r, simd.add_f32s(r, simd.splat_f32s(1.0)));
    // The sum's bits are those of `ROUNDING` plus `n`: `+ 127` then `<< 23` shifts the
    // `ROUNDING` bits out and leaves `(n + 127) << 23`.
    let bits = simd.add_u32s(simd.transmute_u32s_f32s(shifted), simd.splat_u32s(127));
    let scale = simd.wrapping_dyn_shl_u32s(bits, simd.splat_u32s(23));
    simd.mul_f32s(e, simd.transmute_f32s_u32s(scale))
}

/// Softmax along each row of `row_len` values, in place.
pub fn softmax_rows(values: &mut [f32], row_len: usize) {
    if row_len == 0 {
        return;
    }
    simd::arch().dispatch(Rows { values, row_len });
}

struct Rows<'a> {
    values: &'a mut [f32],
    row_len: usize,
}

impl WithSimd for Rows<'_> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: Simd>(self, simd: S) {
        for row in self.values.chunks_exact_mut(self.row_len) {
            let (vectors, tail) = S::as_mut_simd_f32s(row);
            let lanes_max = vectors.iter().fold(simd.splat_f32s(f32::NEG_INFINITY), |m, &v| simd.max_f32s(m, v));
            let max = tail.iter().fold(simd.reduce_max_f32s(lanes_max), |m, &v| m.max(v));
            let max_lanes = simd.splat_f32s(max);
            vectors.iter_mut().for_each(|v| *v = exp_lanes(simd, simd.sub_f32s(*v, max_lanes)));
            tail.iter_mut().for_each(|v| *v = exp(*v - max));
            // Summed as it always was (eight running sums, `lanes_fold`), so the probabilities
            // are the same to the bit on every instruction set.
            let inverse = 1.0 / lanes_fold(row, 0.0, |a, b| a + b);
            row.iter_mut().for_each(|v| *v *= inverse);
        }
    }
}

const LANES: usize = 8;

/// Folds `values` with `op` over `LANES` independent accumulators (a vectorisable reduction).
#[inline(always)]
fn lanes_fold(values: &[f32], init: f32, op: impl Fn(f32, f32) -> f32) -> f32 {
    let mut acc = [init; LANES];
    let mut chunks = values.chunks_exact(LANES);
    for chunk in &mut chunks {
        for (a, &v) in acc.iter_mut().zip(chunk) {
            *a = op(*a, v);
        }
    }
    let tail = chunks.remainder().iter().fold(init, |a, &v| op(a, v));
    acc.iter().fold(tail, |a, &v| op(a, v))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exp_relative_error_is_below_2e_7() {
        let mut worst = 0f64;
        for i in -870_000..=880_000 {
            let x = i as f32 * 1e-4;
            let want = f64::from(x).exp();
            worst = worst.max((f64::from(exp(x)) - want).abs() / want);
        }
        assert!(worst < 2e-7, "max relative error {worst:e}");
    }

    /// The vector `exp` is the scalar one to the bit, over [-100, 0] in steps of 1e-4 and [0,
    /// 88] in steps of 1e-3 (both clamped ends included), in whole vectors and the tail.
    #[test]
    fn exp_lanes_equals_exp() {
        struct Check;
        impl WithSimd for Check {
            type Output = ();
            #[inline(always)]
            fn with_simd<S: Simd>(self, simd: S) {
                let inputs: Vec<f32> = (0..=1_000_000).map(|i| -100.0 + i as f32 * 1e-4).chain((0..=88_000).map(|i| i as f32 * 1e-3)).collect();
                let mut got = inputs.clone();
                let (vectors, tail) = S::as_mut_simd_f32s(&mut got);
                vectors.iter_mut().for_each(|v| *v = exp_lanes(simd, *v));
                tail.iter_mut().for_each(|v| *v = exp(*v));
                for (x, got) in inputs.iter().zip(&got) {
                    assert_eq!(got.to_bits(), exp(*x).to_bits(), "exp({x})");
                }
            }
        }
        simd::arch().dispatch(Check);
    }

    /// Row lengths below, at and above the lane count; rows with large and equal values.
    #[test]
    fn softmax_rows_match_f64_reference() {
        for row_len in [1, 7, 8, 49, 196] {
            let mut values: Vec<f32> = (0..3 * row_len).map(|i| ((i * 37) % 23) as f32 * 1.7 - 20.0).collect();
            values[..row_len].fill(50.0);
            let expected: Vec<f64> = values
                .chunks(row_len)
                .flat_map(|row| {
                    let max = row.iter().fold(f64::NEG_INFINITY, |m, &v| m.max(f64::from(v)));
                    let sum: f64 = row.iter().map(|&v| (f64::from(v) - max).exp()).sum();
                    row.iter().map(move |&v| (f64::from(v) - max).exp() / sum).collect::<Vec<_>>()
                })
                .collect();
            softmax_rows(&mut values, row_len);
            for (got, want) in values.iter().zip(&expected) {
                assert!((f64::from(*got) - want).abs() < 1e-6, "row {row_len}: {got} vs {want}");
            }
        }
    }
}
