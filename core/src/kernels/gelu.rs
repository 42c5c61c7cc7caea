//! Exact (erf) GELU, vectorised: `gelu(x) = x/2 · (1 + erf(x/√2))`, PyTorch's default
//! `nn.GELU()` (`approximate='none'`), which timm's EfficientFormerV2 uses throughout.
//!
//! `erf` is the rational approximation Eigen and XNNPACK use for `float` (odd polynomial of
//! degree 13 over an even one of degree 8 in `x`, its input clamped to [-4, 4], beyond which
//! `erf` rounds to ±1 in `f32`): only fused multiply-adds, one division and a clamp, no branch,
//! so it vectorises on every instruction set, unlike burn-flex's scalar `libm::erff`. GELU's
//! `x/√2` and `1/2` are folded into the coefficients (`gelu(x) = x · (1/2 + x·P(x²)/Q(x²))`),
//! two multiplications per value fewer. The polynomials are written with `mul_add`, which is
//! one FMA instruction inside [`simd::dispatch`] (AVX2+FMA, AVX-512, NEON) and half the
//! instructions of a multiply then an add (Rust never contracts the two itself); outside it,
//! on a CPU without FMA, it is a `libm` call: correct, slow. Measured against `f64` `erf` on
//! 1.6 million points of [-8, 8] (`erf_error_is_a_few_ulp` below): max absolute error of
//! `erf` 3.4e-7 (about 3 ulp of 1); of GELU 1.06e-6 relative to `max(1, |gelu(x)|)`, on the
//! negative tail where `1 + erf` cancels (`f32` GELU with a correctly rounded `erf` has about
//! 1.5e-7 there). The network's parity tolerance is 1e-4. Throughput (AVX2, values in L2):
//! about 0.5 ns per value, against 0.94 ns before the multiply-adds were fused and the
//! saturation branch became a clamp. Kernels whose outputs are still in registers apply
//! [`gelu_f32s`] before the store: the micro-kernel's GELU epilogue on S0's first `fc1` went
//! from 364 to 143 µs over the product alone (one thread, best of 200), against the same 16
//! values stored, reloaded and stored again.

use super::lanes::{Element, Lanes, WithLanes};

/// `4√2`: GELU's input where `erf`'s argument reaches 4, beyond which `erf` is ±1 in `f32`.
const SATURATION: f32 = 5.656_854;
/// `√2/4 · P(x²/2)`: `erf`'s numerator polynomial with `erf(x/√2)/2 = x · P(x²) / Q(x²)`
/// folded in (highest power first).
const NUMERATOR: [f32; 7] =
    [-1.505_995e-12, 3.061_199_4e-10, -4.642_651e-8, -2.515_756_2e-6, -6.496_461e-5, -5.223_044_4e-4, -5.690_807e-3];
/// `Q(x²/2)`: `erf`'s denominator polynomial, likewise.
const DENOMINATOR: [f32; 5] = [-9.103_795e-7, -2.667_175_8e-5, -4.207_067_5e-4, -3.686_664_7e-3, -1.426_474e-2];
/// In `f16` the polynomials run in `t = x² / HALF_SCALE ∈ [0, 1]`: in `x²`, coefficients as
/// small as [`NUMERATOR`]'s (down to 1.5e-12) are below `f16`'s smallest value.
const HALF_SCALE: f32 = 32.0;
/// `erf(x/√2) / 2 = x · P(t) / Q(t)` in `t = x² / 32` for `f16` arithmetic (highest power
/// first): degree 3 over degree 3, fitted for this kernel by linearised minimax (Lawson's
/// weights) on 20,000 points of [0, 4√2]; its own error, 1.0e-5 at most in `f64`, is a
/// twentieth of `f16`'s rounding of 1/2 (2.4e-4), so the `f16` GELU's error is what it was with
/// `f32`'s degree-6-over-4 approximant rescaled (5.5e-3 at most, on the tail; mean 3.6e-5 over
/// every `f16` input either way), for 6 multiply-adds a vector instead of 10 (each with a
/// register copy of its constant: `fmla` overwrites its addend).
const HALF_NUMERATOR: [f32; 4] = [0.877_691_4, 3.730_111_6, 0.987_632_6, 0.398_896_62];
const HALF_DENOMINATOR: [f32; 4] = [33.384_29, 25.634_611, 7.797_818_6, 1.0];

/// `erf(x/√2) / 2`, the rational approximant on the clamped input.
#[inline(always)]
fn half_erf(x: f32) -> f32 {
    let x = x.clamp(-SATURATION, SATURATION);
    let square = x * x;
    let p = NUMERATOR[1..].iter().fold(NUMERATOR[0], |p, &c| square.mul_add(p, c));
    let q = DENOMINATOR[1..].iter().fold(DENOMINATOR[0], |q, &c| square.mul_add(q, c));
    x * p / q
}

/// `gelu(x)` in `f32`.
#[inline(always)]
pub fn gelu(x: f32) -> f32 {
    // Below -4√2 `erf` is -1 in `f32` and GELU 0; the approximant's 1.2e-7 there would grow
    // with |x| once multiplied by it.
    if x < -SATURATION { 0.0 } else { x * (0.5 + half_erf(x)) }
}

/// [`gelu`] on a vector: in `f32`, the same operations in the same order (so the same results
/// where `mul_add` is one instruction); in `f16`, [`HALF_NUMERATOR`] over [`HALF_DENOMINATOR`]
/// in `x² / 32`. The epilogue of kernels whose outputs are still in registers.
///
/// In `f16` arithmetic (`gelu_f16_error` below, every `f16` input): at most 5.5e-3 from the
/// exact GELU relative to `max(1, |gelu(x)|)`, on the negative tail, where `1/2 + erf/2`
/// cancels and keeps only the absolute error of an `f16` near 1/2 (5.5e-3 at -5.61, 1.1e-3
/// on [-2, 2]); on `x >= 0` within the rounding of `f16` results.
#[inline(always)]
pub fn gelu_lanes<L: Lanes>(lanes: L, x: L::Vector) -> L::Vector {
    let (low, high) = (lanes.splat(-SATURATION), lanes.splat(SATURATION));
    let clamped = lanes.min(lanes.max(x, low), high);
    let square = lanes.mul(clamped, clamped);
    let (numerator, denominator) = if L::Value::HALF {
        let t = lanes.mul(square, lanes.splat(1.0 / HALF_SCALE));
        (horner(lanes, t, &HALF_NUMERATOR), horner(lanes, t, &HALF_DENOMINATOR))
    } else {
        (horner(lanes, square, &NUMERATOR), horner(lanes, square, &DENOMINATOR))
    };
    let half_erf = lanes.div(lanes.mul(clamped, numerator), denominator);
    let value = lanes.mul(x, lanes.add(lanes.splat(0.5), half_erf));
    lanes.zero_below(x, low, value)
}

/// `Σ coefficients[i] · t^(n-i)` by Horner's rule, highest power first.
#[inline(always)]
fn horner<L: Lanes, const N: usize>(lanes: L, t: L::Vector, coefficients: &[f32; N]) -> L::Vector {
    coefficients[1..].iter().fold(lanes.splat(coefficients[0]), |sum, &c| lanes.mul_add(t, sum, lanes.splat(c)))
}

/// Applies GELU to every element of `values`, in place.
#[inline(always)]
pub fn gelu_in_place<E: Element>(values: &mut [E]) {
    E::dispatch(InPlace(values));
}

struct InPlace<'a, E>(&'a mut [E]);

impl<E: Element> WithLanes<E> for InPlace<'_, E> {
    type Output = ();

    #[inline(always)]
    fn with_lanes<L: Lanes<Value = E>>(self, lanes: L) {
        let mut vectors = self.0.chunks_exact_mut(L::LANES);
        for vector in &mut vectors {
            // SAFETY: `vector` holds `LANES` values.
            unsafe { lanes.store(vector.as_mut_ptr(), gelu_lanes(lanes, lanes.load(vector.as_ptr()))) };
        }
        vectors.into_remainder().iter_mut().for_each(|v| *v = E::from_f32(gelu(v.to_f32())));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `erf(x)` through the approximant GELU uses.
    fn erf(x: f32) -> f32 {
        2.0 * half_erf(x * std::f32::consts::SQRT_2)
    }

    fn gelu_f64(x: f64) -> f64 {
        0.5 * x * (1.0 + libm::erf(x / std::f64::consts::SQRT_2))
    }

    /// The numbers the module documentation states, on a grid of 1.6 million points.
    #[test]
    fn erf_error_is_a_few_ulp() {
        let (mut erf_err, mut gelu_err) = (0f64, 0f64);
        for i in -800_000..=800_000 {
            let x = i as f32 * 1e-5;
            erf_err = erf_err.max((f64::from(erf(x)) - libm::erf(f64::from(x))).abs());
            let reference = gelu_f64(f64::from(x));
            gelu_err = gelu_err.max((f64::from(gelu(x)) - reference).abs() / reference.abs().max(1.0));
        }
        assert!(erf_err < 3.5e-7, "erf max abs error {erf_err:e}");
        assert!(gelu_err < 1.1e-6, "gelu max error {gelu_err:e}");
    }

    /// Lengths that are not a multiple of any vector width, and the saturated tails.
    #[test]
    fn in_place_matches_scalar_on_awkward_lengths() {
        for len in [0, 1, 3, 7, 17, 33, 1000] {
            let mut values: Vec<f32> = (0..len).map(|i| (i as f32 - len as f32 / 2.0) * 0.37).collect();
            let expected: Vec<f32> = values.iter().map(|&x| gelu_f64(f64::from(x)) as f32).collect();
            gelu_in_place(&mut values);
            for (got, want) in values.iter().zip(&expected) {
                assert!((got - want).abs() <= 1.3e-6 * want.abs().max(1.0), "{got} vs {want}");
            }
        }
    }

    /// GELU of every finite `f16` input through the `f16` kernel, against `f64`: the bound
    /// [`gelu_lanes`] states, relative to `max(1, |gelu(x)|)` (on a CPU without half-precision
    /// arithmetic the kernel computes in `f32`, well within it).
    #[test]
    fn gelu_f16_error() {
        let inputs: Vec<half::f16> = (0..=u16::MAX).map(half::f16::from_bits).filter(|x| x.is_finite()).collect();
        let mut outputs = inputs.clone();
        gelu_in_place(&mut outputs);
        let mut worst = (0f64, 0f32);
        for (x, g) in inputs.iter().zip(&outputs) {
            let reference = gelu_f64(f64::from(x.to_f32()));
            let error = (f64::from(g.to_f32()) - reference).abs() / reference.abs().max(1.0);
            if error > worst.0 {
                worst = (error, x.to_f32());
            }
        }
        println!("f16 GELU: max error {:e} at {}", worst.0, worst.1);
        assert!(worst.0 <= 6e-3, "f16 GELU: max error {:e} at {}", worst.0, worst.1);
    }
}
