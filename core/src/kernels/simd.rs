//! Run-time instruction-set dispatch for the element-wise kernels.
//!
//! A kernel body is a closure of plain loops marked `#[inline(always)]` (so are the functions
//! it calls); [`dispatch`] runs it inside `pulp`'s per-architecture entry points
//! (`#[target_feature]` functions for x86-64-v3/v4, NEON on aarch64), where LLVM vectorises the
//! loops for the instruction set the CPU has. Without the attribute LLVM may keep the closure
//! out of line, compiled for the baseline instruction set (seen in `perf`: SSE2 and `rintf`
//! calls instead of AVX2).

use std::sync::OnceLock;

use pulp::{Arch, Simd, WithSimd};

struct Body<F>(F);

impl<R, F: FnOnce() -> R> WithSimd for Body<F> {
    type Output = R;

    #[inline(always)]
    fn with_simd<S: Simd>(self, _simd: S) -> R {
        (self.0)()
    }
}

/// The best instruction set of this CPU, detected once; its `dispatch` runs a kernel written
/// over `pulp`'s `Simd` trait ([`super::microkernel`]).
pub fn arch() -> Arch {
    static ARCH: OnceLock<Arch> = OnceLock::new();
    *ARCH.get_or_init(Arch::new)
}

/// Runs `body` compiled for the best instruction set of this CPU.
#[inline(always)]
pub fn dispatch<R>(body: impl FnOnce() -> R) -> R {
    arch().dispatch(Body(body))
}
