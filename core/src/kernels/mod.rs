//! Hand-written CPU kernels behind burn-flex's implementation of the fused ops
//! ([`crate::fused`]). They work on channels-last (`NHWC`) `f32` slices, so that a 1x1
//! convolution is one matrix product over pixels and a depthwise convolution runs along
//! contiguous channels.
//!
//! Portability: the matrix products of the convolutions and the attention cores go through
//! [`microkernel`] (written over `pulp`'s `Simd` trait), dispatched at run time to AVX2/FMA,
//! AVX-512 or NEON; the element-wise kernels are written as plain loops and compiled once per
//! instruction set through `pulp`'s run-time dispatch ([`simd::dispatch`]), so the same code
//! runs with NEON on a phone and AVX2 or AVX-512 on a desktop. Work is split over the
//! kernels' own thread pool ([`parallel`], the classifier's `cpu_threads`), whose workers spin
//! between the forward pass's many short loops instead of parking.

pub mod attention;
pub mod buffers;
pub mod conv_mlp;
pub mod dense;
pub mod depthwise;
pub mod gelu;
pub mod lanes;
pub mod matmul;
pub mod microkernel;
pub mod parallel;
pub mod pointwise;
pub mod pool;
pub mod simd;
pub mod softmax;
pub mod transpose;
pub mod upsample;

/// Test operands: `len` values in [-0.5, 0.5) hashed from their index and `seed`.
#[cfg(test)]
pub(crate) fn test_values(len: usize, seed: u32) -> Vec<f32> {
    (0..len).map(|i| ((i as u32).wrapping_mul(2_654_435_761).wrapping_add(seed) >> 8) as f32 / (1 << 24) as f32 - 0.5).collect()
}
