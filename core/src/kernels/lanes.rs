//! What the kernels store and the vector arithmetic they run on it, so that each kernel is one
//! body for both precisions: [`Element`] is a stored value (`f32`, or `f16` for
//! `Precision::F16`), [`Lanes`] the vectors a CPU computes on, and [`Element::dispatch`] picks
//! them at run time, as `pulp`'s `Arch::dispatch` does for `f32` alone.
//!
//! - `f32`: [`SimdF32`], `pulp`'s vectors (AVX-512, AVX2+FMA, NEON, or scalar code).
//! - `f16` on aarch64 with FEAT_FP16 (ARMv8.2-A: Apple A11 on, most Android phones since
//!   2018): [`NeonF16`], eight half-precision lanes per NEON instruction where `f32` has four,
//!   as XNNPACK's `neonfp16arith` kernels run (the vector intrinsics are stable in the Rust
//!   1.96 the aarch64 build uses; the `f16` scalar type is not, so a value is its bits,
//!   `half::f16`).
//! - `f16` elsewhere: [`WidenedF16`], the values stored in `f16` and computed in `f32` lanes
//!   (converted on load and store): correct on any CPU, and never faster than `f32`. The model
//!   does not choose `f16` on such a CPU (`Precision::F16` falls back to `f32` there); these
//!   lanes keep an `f16` tensor that reaches a kernel computable everywhere.

use std::any::Any;
use std::fmt::Debug;
use std::sync::Mutex;

use half::f16;
use pulp::{Simd, WithSimd};

use super::{buffers, simd};

/// A value the kernels store.
pub trait Element: bytemuck::Pod + Default + PartialEq + Debug + Send + Sync {
    /// Whether this is a 16-bit float (range ±65504, 11 significant bits), for the kernels
    /// whose constants or reductions depend on it.
    const HALF: bool;
    /// Zero.
    const ZERO: Self;
    /// Columns of one weight panel of the micro-kernel ([`super::microkernel`]): 16 in `f32`
    /// (6x16 tiles, 24 NEON registers of 4 lanes), 32 in `f16` (6x32 tiles, 24 registers of 8
    /// lanes: each weight and `a` load shared by twice the multiply-adds of a 6x16 tile).
    const PANEL: usize;

    fn from_f32(value: f32) -> Self;

    fn to_f32(self) -> f32;

    /// The recycled buffers of this type ([`super::buffers`]).
    fn free_buffers() -> &'static Mutex<Vec<Vec<Self>>>;

    /// Runs `body` on the best vectors this CPU has for this type.
    fn dispatch<B: WithLanes<Self>>(body: B) -> B::Output;
}

/// A kernel body generic over the vectors it runs on (`pulp`'s `WithSimd` for [`Lanes`]).
pub trait WithLanes<E: Element> {
    type Output;

    fn with_lanes<L: Lanes<Value = E>>(self, lanes: L) -> Self::Output;
}

/// Vectors of `LANES` values of an [`Element`] and the arithmetic the kernels do on them.
/// Every method is `#[inline(always)]` in its implementations, so that a body compiles inside
/// the dispatched function, with its instruction set.
pub trait Lanes: Copy {
    type Value: Element;
    type Vector: Copy;
    /// [`Lanes::STEPS`] consecutive values of one row of a product's left operand, for as many
    /// depth steps of the micro-kernel ([`super::microkernel`]).
    type Quad: Copy;

    /// Values per vector.
    const LANES: usize;
    /// Vector registers of the instruction set (16 for AVX2, 32 for AVX-512 and NEON).
    const REGISTERS: usize;
    /// Whether a [`Lanes::Quad`] is one register whose lanes the multiply-add takes (NEON's
    /// `fmla` by element), rather than values broadcast from memory.
    const QUAD_IN_REGISTER: bool;
    /// Values (depth steps) of one [`Lanes::Quad`]: 4, or 8 where a quad is a whole NEON
    /// register of `f16`.
    const STEPS: usize;

    fn splat(self, value: f32) -> Self::Vector;
    /// # Safety
    /// `LANES` values from `from` must be readable.
    unsafe fn load(self, from: *const Self::Value) -> Self::Vector;
    /// # Safety
    /// `LANES` values from `to` must be writable.
    unsafe fn store(self, to: *mut Self::Value, value: Self::Vector);
    fn add(self, a: Self::Vector, b: Self::Vector) -> Self::Vector;
    fn mul(self, a: Self::Vector, b: Self::Vector) -> Self::Vector;
    fn div(self, a: Self::Vector, b: Self::Vector) -> Self::Vector;
    fn min(self, a: Self::Vector, b: Self::Vector) -> Self::Vector;
    fn max(self, a: Self::Vector, b: Self::Vector) -> Self::Vector;
    /// `a · b + c`, one rounding where the instruction set fuses it.
    fn mul_add(self, a: Self::Vector, b: Self::Vector, c: Self::Vector) -> Self::Vector;
    /// `value`, or `zero` in the lanes where `x < limit`.
    fn zero_below(self, x: Self::Vector, limit: Self::Vector, value: Self::Vector) -> Self::Vector;
    /// `wide[..LANES]`, rounded once to the vector's type.
    ///
    /// # Safety
    /// `LANES` values from `wide` must be readable.
    unsafe fn load_wide(self, wide: *const f32) -> Self::Vector;
    /// `wide[..LANES] = value`, in `f32`.
    ///
    /// # Safety
    /// `LANES` values from `wide` must be writable.
    unsafe fn store_wide(self, wide: *mut f32, value: Self::Vector);
    /// `wide[..LANES] += value`, in `f32`.
    ///
    /// # Safety
    /// `LANES` values from `wide` must be readable and writable.
    unsafe fn add_to_wide(self, wide: *mut f32, value: Self::Vector);
    /// `a + b`, summed in `f32` and rounded once to the vector's type.
    fn add_in_f32(self, a: Self::Vector, b: Self::Vector) -> Self::Vector;

    /// # Safety
    /// [`Lanes::STEPS`] values from `values` must be readable.
    unsafe fn quad(self, values: *const Self::Value) -> Self::Quad;
    /// A quad of which only lane 0 is read, for the depth steps after the last whole quad.
    ///
    /// # Safety
    /// `value` must be readable.
    unsafe fn quad_of_one(self, value: *const Self::Value) -> Self::Quad;
    /// Lane `LANE` (below [`Lanes::STEPS`]) of `quad` in every lane of a vector.
    ///
    /// # Safety
    /// Value `LANE` of the quad must be readable (lane 0 only, for [`Lanes::quad_of_one`]).
    unsafe fn quad_lane<const LANE: i32>(self, quad: Self::Quad) -> Self::Vector;
}

impl Element for f32 {
    const HALF: bool = false;
    const ZERO: f32 = 0.0;
    const PANEL: usize = 16;

    #[inline(always)]
    fn from_f32(value: f32) -> f32 {
        value
    }

    #[inline(always)]
    fn to_f32(self) -> f32 {
        self
    }

    fn free_buffers() -> &'static Mutex<Vec<Vec<f32>>> {
        static FREE: Mutex<Vec<Vec<f32>>> = Mutex::new(Vec::new());
        &FREE
    }

    #[inline(always)]
    fn dispatch<B: WithLanes<f32>>(body: B) -> B::Output {
        simd::arch().dispatch(OnSimd(body, F32s))
    }
}

impl Element for f16 {
    const HALF: bool = true;
    const ZERO: f16 = f16::ZERO;
    const PANEL: usize = 32;

    #[inline(always)]
    fn from_f32(value: f32) -> f16 {
        f16::from_f32(value)
    }

    #[inline(always)]
    fn to_f32(self) -> f32 {
        f16::to_f32(self)
    }

    fn free_buffers() -> &'static Mutex<Vec<Vec<f16>>> {
        static FREE: Mutex<Vec<Vec<f16>>> = Mutex::new(Vec::new());
        &FREE
    }

    #[inline(always)]
    fn dispatch<B: WithLanes<f16>>(body: B) -> B::Output {
        #[cfg(target_arch = "aarch64")]
        if half_arithmetic() {
            // SAFETY: the CPU has FEAT_FP16, checked above.
            return unsafe { neon_fp16(body) };
        }
        simd::arch().dispatch(OnSimd(body, Widened))
    }
}

/// Whether this CPU computes in half precision: aarch64 with FEAT_FP16, detected at run time.
pub fn half_arithmetic() -> bool {
    #[cfg(target_arch = "aarch64")]
    return std::arch::is_aarch64_feature_detected!("fp16");
    #[cfg(not(target_arch = "aarch64"))]
    false
}

/// `body` compiled with NEON's half-precision arithmetic.
///
/// # Safety
/// The CPU must have FEAT_FP16.
#[cfg(target_arch = "aarch64")]
#[target_feature(enable = "neon,fp16")]
unsafe fn neon_fp16<B: WithLanes<f16>>(body: B) -> B::Output {
    body.with_lanes(NeonF16(()))
}

/// A body and the lanes to build from `pulp`'s `S`.
struct OnSimd<B, K>(B, K);

/// `f32` in `pulp`'s vectors.
#[derive(Clone, Copy)]
struct F32s;
/// `f16` stored, computed in `pulp`'s `f32` vectors.
#[derive(Clone, Copy)]
struct Widened;

impl<B: WithLanes<f32>> WithSimd for OnSimd<B, F32s> {
    type Output = B::Output;

    #[inline(always)]
    fn with_simd<S: Simd>(self, simd: S) -> B::Output {
        self.0.with_lanes(SimdF32(simd))
    }
}

impl<B: WithLanes<f16>> WithSimd for OnSimd<B, Widened> {
    type Output = B::Output;

    #[inline(always)]
    fn with_simd<S: Simd>(self, simd: S) -> B::Output {
        self.0.with_lanes(WidenedF16(simd))
    }
}

/// `f32` values in `pulp`'s vectors of `S`.
#[derive(Clone, Copy)]
pub struct SimdF32<S>(S);

/// `f16` values computed in `pulp`'s `f32` vectors of `S`, converted one value at a time.
#[derive(Clone, Copy)]
pub struct WidenedF16<S>(S);

/// Four values of a row: on aarch64 with 4-lane vectors one NEON register, whose lanes
/// `fmla v.4s, v.4s, v.s[i]` takes; elsewhere the address, each value broadcast from memory
/// when its step needs it (x86's `vbroadcastss` is a load).
#[derive(Clone, Copy)]
pub struct F32Quad {
    values: *const f32,
    #[cfg(target_arch = "aarch64")]
    vector: std::arch::aarch64::float32x4_t,
}

/// The `f32` vector arithmetic, shared by [`SimdF32`] and [`WidenedF16`].
macro_rules! simd_f32_arithmetic {
    () => {
        type Vector = S::f32s;

        const LANES: usize = S::F32_LANES;
        const REGISTERS: usize = if cfg!(target_arch = "aarch64") || S::F32_LANES == 16 { 32 } else { 16 };

        #[inline(always)]
        fn splat(self, value: f32) -> S::f32s {
            self.0.splat_f32s(value)
        }

        #[inline(always)]
        fn add(self, a: S::f32s, b: S::f32s) -> S::f32s {
            self.0.add_f32s(a, b)
        }

        #[inline(always)]
        fn mul(self, a: S::f32s, b: S::f32s) -> S::f32s {
            self.0.mul_f32s(a, b)
        }

        #[inline(always)]
        fn div(self, a: S::f32s, b: S::f32s) -> S::f32s {
            self.0.div_f32s(a, b)
        }

        #[inline(always)]
        fn min(self, a: S::f32s, b: S::f32s) -> S::f32s {
            self.0.min_f32s(a, b)
        }

        #[inline(always)]
        fn max(self, a: S::f32s, b: S::f32s) -> S::f32s {
            self.0.max_f32s(a, b)
        }

        #[inline(always)]
        fn mul_add(self, a: S::f32s, b: S::f32s, c: S::f32s) -> S::f32s {
            self.0.mul_add_e_f32s(a, b, c)
        }

        #[inline(always)]
        fn zero_below(self, x: S::f32s, limit: S::f32s, value: S::f32s) -> S::f32s {
            self.0.select_f32s(self.0.less_than_f32s(x, limit), self.0.splat_f32s(0.0), value)
        }

        #[inline(always)]
        unsafe fn load_wide(self, wide: *const f32) -> S::f32s {
            // SAFETY: the caller's `LANES` values.
            unsafe { std::ptr::read_unaligned(wide.cast()) }
        }

        #[inline(always)]
        unsafe fn store_wide(self, wide: *mut f32, value: S::f32s) {
            // SAFETY: the caller's `LANES` values.
            unsafe { std::ptr::write_unaligned(wide.cast(), value) }
        }

        #[inline(always)]
        unsafe fn add_to_wide(self, wide: *mut f32, value: S::f32s) {
            // SAFETY: the caller's `LANES` values.
            unsafe { std::ptr::write_unaligned(wide.cast(), self.0.add_f32s(std::ptr::read_unaligned(wide.cast()), value)) }
        }

        #[inline(always)]
        fn add_in_f32(self, a: S::f32s, b: S::f32s) -> S::f32s {
            self.0.add_f32s(a, b)
        }
    };
}

impl<S: Simd> Lanes for SimdF32<S> {
    type Value = f32;
    type Quad = F32Quad;

    const QUAD_IN_REGISTER: bool = cfg!(target_arch = "aarch64") && S::F32_LANES == 4;
    const STEPS: usize = 4;

    simd_f32_arithmetic!();

    #[inline(always)]
    unsafe fn load(self, from: *const f32) -> S::f32s {
        // SAFETY: the caller's `LANES` values.
        unsafe { std::ptr::read_unaligned(from.cast()) }
    }

    #[inline(always)]
    unsafe fn store(self, to: *mut f32, value: S::f32s) {
        // SAFETY: the caller's `LANES` values.
        unsafe { std::ptr::write_unaligned(to.cast(), value) }
    }

    #[inline(always)]
    unsafe fn quad(self, values: *const f32) -> F32Quad {
        // SAFETY: the caller's four values.
        #[cfg(target_arch = "aarch64")]
        let vector = unsafe {
            if Self::QUAD_IN_REGISTER { std::arch::aarch64::vld1q_f32(values) } else { std::arch::aarch64::vdupq_n_f32(0.0) }
        };
        F32Quad {
            values,
            #[cfg(target_arch = "aarch64")]
            vector,
        }
    }

    #[inline(always)]
    unsafe fn quad_of_one(self, value: *const f32) -> F32Quad {
        F32Quad {
            values: value,
            // SAFETY: the caller's value.
            #[cfg(target_arch = "aarch64")]
            vector: unsafe { std::arch::aarch64::vld1q_dup_f32(value) },
        }
    }

    #[inline(always)]
    unsafe fn quad_lane<const LANE: i32>(self, quad: F32Quad) -> S::f32s {
        #[cfg(target_arch = "aarch64")]
        if Self::QUAD_IN_REGISTER {
            use std::arch::aarch64::vdupq_laneq_f32 as lane;
            // SAFETY: NEON is aarch64's baseline. `LANE` is below `STEPS`, 4: the last arm
            // covers the lanes of eight-step quads, which a body for them names (and never
            // takes here), with a lane in range.
            let vector = unsafe {
                match LANE {
                    0 => lane::<0>(quad.vector),
                    1 => lane::<1>(quad.vector),
                    2 => lane::<2>(quad.vector),
                    _ => lane::<3>(quad.vector),
                }
            };
            // SAFETY: with 4 lanes `S::f32s` is NEON's `float32x4_t` (pulp's `f32x4`).
            return unsafe { std::mem::transmute_copy(&vector) };
        }
        // SAFETY: the caller's guarantee.
        self.0.splat_f32s(unsafe { *quad.values.add(LANE as usize) })
    }
}

impl<S: Simd> Lanes for WidenedF16<S> {
    type Value = f16;
    type Quad = *const f16;

    const QUAD_IN_REGISTER: bool = false;
    const STEPS: usize = 4;

    simd_f32_arithmetic!();

    #[inline(always)]
    unsafe fn load(self, from: *const f16) -> S::f32s {
        let mut values = [0f32; 16];
        for (lane, value) in values.iter_mut().take(S::F32_LANES).enumerate() {
            // SAFETY: the caller's `LANES` values.
            *value = unsafe { *from.add(lane) }.to_f32();
        }
        // SAFETY: `values` holds at least `LANES` values.
        unsafe { std::ptr::read_unaligned(values.as_ptr().cast()) }
    }

    #[inline(always)]
    unsafe fn store(self, to: *mut f16, value: S::f32s) {
        let mut values = [0f32; 16];
        // SAFETY: `values` holds at least `LANES` values.
        unsafe { std::ptr::write_unaligned(values.as_mut_ptr().cast(), value) };
        for (lane, &value) in values.iter().take(S::F32_LANES).enumerate() {
            // SAFETY: the caller's `LANES` values.
            unsafe { *to.add(lane) = f16::from_f32(value) };
        }
    }

    #[inline(always)]
    unsafe fn quad(self, values: *const f16) -> *const f16 {
        values
    }

    #[inline(always)]
    unsafe fn quad_of_one(self, value: *const f16) -> *const f16 {
        value
    }

    #[inline(always)]
    unsafe fn quad_lane<const LANE: i32>(self, quad: *const f16) -> S::f32s {
        // SAFETY: the caller's guarantee.
        self.0.splat_f32s(unsafe { *quad.add(LANE as usize) }.to_f32())
    }
}

/// `f16` values in NEON's half-precision vectors (eight lanes), on a CPU with FEAT_FP16 (only
/// [`Element::dispatch`] builds one, after checking).
#[cfg(target_arch = "aarch64")]
#[derive(Clone, Copy)]
pub struct NeonF16(());

#[cfg(target_arch = "aarch64")]
mod neon_f16 {
    use std::arch::aarch64::*;

    use half::f16;

    use super::{Lanes, NeonF16};

    // SAFETY (every intrinsic below): a `NeonF16` exists only inside `neon_fp16`, compiled with
    // and entered on a CPU that has NEON and FEAT_FP16; loads and stores are the caller's.
    // The methods have no target features of their own (a trait's safe methods cannot): each is
    // inlined into the kernel body, and the body into `neon_fp16`, where the intrinsics inline
    // (the disassembly shows the products' `fmla v.8h, v.8h, v.h[i]` there, and no calls).
    #[allow(inline_always_mismatching_target_features)]
    impl Lanes for NeonF16 {
        type Value = f16;
        type Vector = float16x8_t;
        type Quad = float16x8_t;

        const LANES: usize = 8;
        const REGISTERS: usize = 32;
        const QUAD_IN_REGISTER: bool = true;
        const STEPS: usize = 8;

        #[inline(always)]
        fn splat(self, value: f32) -> float16x8_t {
            // Converted by the vector unit, so that a constant folds and a splat in a loop is
            // hoisted (`f16::from_f32` checks the CPU's features on every call).
            unsafe {
                let half = vcvt_f16_f32(vdupq_n_f32(value));
                vcombine_f16(half, half)
            }
        }

        #[inline(always)]
        unsafe fn load(self, from: *const f16) -> float16x8_t {
            unsafe { vreinterpretq_f16_u16(vld1q_u16(from.cast())) }
        }

        #[inline(always)]
        unsafe fn store(self, to: *mut f16, value: float16x8_t) {
            unsafe { vst1q_u16(to.cast(), vreinterpretq_u16_f16(value)) }
        }

        #[inline(always)]
        fn add(self, a: float16x8_t, b: float16x8_t) -> float16x8_t {
            unsafe { vaddq_f16(a, b) }
        }

        #[inline(always)]
        fn mul(self, a: float16x8_t, b: float16x8_t) -> float16x8_t {
            unsafe { vmulq_f16(a, b) }
        }

        #[inline(always)]
        fn div(self, a: float16x8_t, b: float16x8_t) -> float16x8_t {
            unsafe { vdivq_f16(a, b) }
        }

        #[inline(always)]
        fn min(self, a: float16x8_t, b: float16x8_t) -> float16x8_t {
            unsafe { vminq_f16(a, b) }
        }

        #[inline(always)]
        fn max(self, a: float16x8_t, b: float16x8_t) -> float16x8_t {
            unsafe { vmaxq_f16(a, b) }
        }

        #[inline(always)]
        fn mul_add(self, a: float16x8_t, b: float16x8_t, c: float16x8_t) -> float16x8_t {
            unsafe { vfmaq_f16(c, a, b) }
        }

        #[inline(always)]
        fn zero_below(self, x: float16x8_t, limit: float16x8_t, value: float16x8_t) -> float16x8_t {
            unsafe { vreinterpretq_f16_u16(vbicq_u16(vreinterpretq_u16_f16(value), vcltq_f16(x, limit))) }
        }

        #[inline(always)]
        unsafe fn load_wide(self, wide: *const f32) -> float16x8_t {
            unsafe { vcvt_high_f16_f32(vcvt_f16_f32(vld1q_f32(wide)), vld1q_f32(wide.add(4))) }
        }

        #[inline(always)]
        unsafe fn store_wide(self, wide: *mut f32, value: float16x8_t) {
            unsafe {
                vst1q_f32(wide, vcvt_f32_f16(vget_low_f16(value)));
                vst1q_f32(wide.add(4), vcvt_high_f32_f16(value));
            }
        }

        #[inline(always)]
        unsafe fn add_to_wide(self, wide: *mut f32, value: float16x8_t) {
            unsafe {
                vst1q_f32(wide, vaddq_f32(vld1q_f32(wide), vcvt_f32_f16(vget_low_f16(value))));
                vst1q_f32(wide.add(4), vaddq_f32(vld1q_f32(wide.add(4)), vcvt_high_f32_f16(value)));
            }
        }

        #[inline(always)]
        fn add_in_f32(self, a: float16x8_t, b: float16x8_t) -> float16x8_t {
            unsafe {
                let low = vaddq_f32(vcvt_f32_f16(vget_low_f16(a)), vcvt_f32_f16(vget_low_f16(b)));
                let high = vaddq_f32(vcvt_high_f32_f16(a), vcvt_high_f32_f16(b));
                vcvt_high_f16_f32(vcvt_f16_f32(low), high)
            }
        }

        #[inline(always)]
        unsafe fn quad(self, values: *const f16) -> float16x8_t {
            unsafe { vreinterpretq_f16_u16(vld1q_u16(values.cast())) }
        }

        #[inline(always)]
        unsafe fn quad_of_one(self, value: *const f16) -> float16x8_t {
            unsafe { vreinterpretq_f16_u16(vld1q_dup_u16(value.cast())) }
        }

        #[inline(always)]
        unsafe fn quad_lane<const LANE: i32>(self, quad: float16x8_t) -> float16x8_t {
            unsafe { vdupq_laneq_f16::<LANE>(quad) }
        }
    }
}

/// `values` in `f32`: the same slice for `f32`, a widened copy for `f16` (a vector's worth per
/// conversion, inline: `half`'s slice conversion calls a function per four values).
pub fn widened<E: Element>(values: &[E]) -> std::borrow::Cow<'_, [f32]> {
    if !E::HALF {
        // `f32` is the only element type that is not `HALF`: the cast is to the type itself.
        return std::borrow::Cow::Borrowed(bytemuck::cast_slice(values));
    }
    let mut wide = vec![0f32; values.len()];
    E::dispatch(Widen { values, wide: &mut wide });
    std::borrow::Cow::Owned(wide)
}

/// `values` as `E`: the same vector for `f32`, a rounded copy (the original recycled) for
/// `f16`.
pub fn from_f32_vec<E: Element>(values: Vec<f32>) -> Vec<E> {
    let mut values = Some(values);
    if let Some(same) = (&mut values as &mut dyn Any).downcast_mut::<Option<Vec<E>>>() {
        return same.take().unwrap_or_default();
    }
    let values = values.unwrap_or_default();
    let narrow = narrowed(&values);
    buffers::give(values);
    narrow
}

/// `wide` rounded to `E`, a vector's worth per conversion (`half`'s slice conversion calls a
/// function per four values, and per value on a CPU without `f16` conversions it can inline).
/// Both conversions loop over offsets: over zipped chunks, LLVM tested both ends, 9
/// instructions per eight values on NEON where this takes 7 (a photo in `f16`: 0.17 M, now
/// 0.13 M).
pub fn narrowed<E: Element>(wide: &[f32]) -> Vec<E> {
    let mut narrow = buffers::zeroed::<E>(wide.len());
    E::dispatch(Narrow { wide, values: &mut narrow });
    narrow
}

/// [`widened`]'s conversion.
struct Widen<'a, E> {
    values: &'a [E],
    wide: &'a mut [f32],
}

impl<E: Element> WithLanes<E> for Widen<'_, E> {
    type Output = ();

    #[inline(always)]
    fn with_lanes<L: Lanes<Value = E>>(self, lanes: L) {
        assert_eq!(self.values.len(), self.wide.len(), "conversion: lengths");
        let tail = self.values.len() / L::LANES * L::LANES;
        for start in (0..tail).step_by(L::LANES) {
            // SAFETY: `start + LANES ≤ tail`, within both slices (of one length).
            unsafe { lanes.store_wide(self.wide.as_mut_ptr().add(start), lanes.load(self.values.as_ptr().add(start))) };
        }
        self.wide[tail..].iter_mut().zip(&self.values[tail..]).for_each(|(w, v)| *w = v.to_f32());
    }
}

/// [`narrowed`]'s conversion.
struct Narrow<'a, E> {
    wide: &'a [f32],
    values: &'a mut [E],
}

impl<E: Element> WithLanes<E> for Narrow<'_, E> {
    type Output = ();

    #[inline(always)]
    fn with_lanes<L: Lanes<Value = E>>(self, lanes: L) {
        assert_eq!(self.values.len(), self.wide.len(), "conversion: lengths");
        let tail = self.wide.len() / L::LANES * L::LANES;
        for start in (0..tail).step_by(L::LANES) {
            // SAFETY: `start + LANES ≤ tail`, within both slices (of one length).
            unsafe { lanes.store(self.values.as_mut_ptr().add(start), lanes.load_wide(self.wide.as_ptr().add(start))) };
        }
        self.values[tail..].iter_mut().zip(&self.wide[tail..]).for_each(|(v, &w)| *v = E::from_f32(w));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Lengths around every vector width, values that round (and one past `f16`'s range):
    /// each value converted as `half` converts it alone, in both directions.
    #[test]
    fn conversions_match_half_on_awkward_lengths() {
        for len in [0, 1, 3, 7, 8, 9, 15, 16, 17, 33, 1000] {
            let wide: Vec<f32> = (0..len).map(|i| (i as f32 - 7.3) * 0.1234567 + if i == 5 { 70000.0 } else { 0.0 }).collect();
            let narrow: Vec<f16> = from_f32_vec(wide.clone());
            assert_eq!(narrow, wide.iter().map(|&v| f16::from_f32(v)).collect::<Vec<_>>(), "f32 to f16, {len} values");
            let back = widened(&narrow);
            assert_eq!(*back, *narrow.iter().map(|v| v.to_f32()).collect::<Vec<_>>(), "f16 to f32, {len} values");
            assert_eq!(from_f32_vec::<f32>(wide.clone()), wide, "f32 stays itself");
        }
    }
}
