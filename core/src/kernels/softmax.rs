//! Row softmax with a vectorised `exp` (burn-flex's is scalar `expf`).

use super::simd;

/// `e^x` in `f32`: Cephes' `expf` (range reduction by `ln 2`, degree-6 polynomial), written
/// without branches so that it vectorises; inputs are clamped to [-87, 88] (softmax feeds it
/// `x - max ≤ 0`). Relative error below 2e-7 on that range (tested below).
#[inline(always)]
pub fn exp(x: f32) -> f32 {
    let x = x.clamp(-87.0, 88.0);
    let n = (x * std::f32::consts::LOG2_E).round_ties_even();
    let r = n.mul_add(2.121_944_4e-4, n.mul_add(-0.693_359_4, x));
    let mut p = r.mul_add(1.987_569_1e-4, 1.398_199_9e-3);
    p = p.mul_add(r, 8.333_452e-3);
    p = p.mul_add(r, 4.166_579_6e-2);
    p = p.mul_add(r, 1.666_666_5e-1);
    p = p.mul_add(r, 5.000_000_1e-1);
    let e = (p * r).mul_add(r, r + 1.0);
    e * f32::from_bits(((n as i32 + 127) << 23) as u32)
}

const LANES: usize = 8;

/// Softmax along each row of `row_len` values, in place.
pub fn softmax_rows(values: &mut [f32], row_len: usize) {
    if row_len == 0 {
        return;
    }
    simd::dispatch(#[inline(always)] || {
        for row in values.chunks_exact_mut(row_len) {
            let max = lanes_fold(row, f32::NEG_INFINITY, f32::max);
            row.iter_mut().for_each(|v| *v = exp(*v - max));
            let inverse = 1.0 / lanes_fold(row, 0.0, |a, b| a + b);
            row.iter_mut().for_each(|v| *v *= inverse);
        }
    });
}

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
