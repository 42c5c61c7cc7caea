//! Hand-written CubeCL kernels behind burn-wgpu's implementation of the fused ops
//! ([`crate::fused`]): the same blocks as few GPU launches, on Metal (iOS), Vulkan (Android,
//! Linux) and, without a GPU, wgpu's OpenGL ES backend. They read and write burn's row-major
//! `[B, C, H, W]` maps, so every other burn op still reads their outputs as it is.
//!
//! What a launch replaces, per block of the network: the FFN (`ConvMlpWithNorm`: fc1 + GELU,
//! depthwise mid + GELU, fc2 + residual) is two launches ([`mlp_expand`], [`pointwise`])
//! instead of three convolutions, two bias adds, two five-launch GELUs and an add;
//! `Attention2d`'s q, k and v are one ([`pointwise`] with three outputs); the attention core
//! ([`attention`]) is one launch instead of fifteen (two matmuls, two talking-head
//! convolutions, the bias add and a five-launch softmax, the reshapes' copies and the final
//! add), with the local branch's depthwise convolution and `proj`'s leading GELU; the stem's and the downsampling layers' dense 3x3
//! convolutions ([`direct`]) need neither burn's autotuned convolution nor a separate GELU; the
//! stride-2 attention's bilinear upsample ([`upsample`]) is one launch instead of two matmuls
//! and their transposed copies; the head's pooling ([`pool`]) is one launch instead of burn's
//! reduction, and its classifier a 1x1 convolution ([`pointwise`]).
//!
//! Each kernel is generic over the type its tensors store (`f32`, or `f16` for
//! `Precision::F16` where the adapter has `SHADER_F16`) and computes in `f32`. It is compiled
//! once per data type and comptime setting, with no autotuning, so it adds shader compilation
//! but never tuning to a cold start.

pub mod attention;
pub mod direct;
pub mod gelu;
pub mod mlp_expand;
pub mod pointwise;
pub mod pool;
pub mod upsample;

use burn::backend::TensorMetadata;
use burn::backend::cubecl::dtype_to_storage_type;
use burn::tensor::Shape;
use burn_cubecl::ops::numeric::empty_device_dtype;
use burn_cubecl::tensor::CubeTensor;
use cubecl::calculate_cube_count_elemwise;
use cubecl::ir::ElemType;
use cubecl::prelude::{CubeCount, CubeDim};

/// The kernels' element type: the one every operand shares (`None` when they differ, or for
/// a non-float tensor), so that a launch never reads a buffer as another type.
pub fn shared_float_type(tensors: &[&CubeTensor]) -> Option<ElemType> {
    let dtype = tensors.first()?.dtype;
    (dtype.is_float() && tensors.iter().all(|t| t.dtype == dtype)).then(|| dtype_to_storage_type(dtype))
}

/// Whether every tensor is `f32`: the attention's biases and mixing weights and the upsampling
/// matrix, which the model keeps in `f32` in either precision and the kernels read as such.
pub fn all_f32(tensors: &[&CubeTensor]) -> bool {
    tensors.iter().all(|t| t.dtype == burn::tensor::DType::F32)
}

/// An uninitialised row-major tensor of `shape` for a kernel to write, on `like`'s device and
/// of its data type.
fn empty_output(like: &CubeTensor, shape: Shape) -> CubeTensor {
    empty_device_dtype(like.client.clone(), like.device.clone(), shape, like.dtype)
}

/// The launch size of a kernel with one thread per element of `output`.
fn one_thread_per_element(output: &CubeTensor) -> (CubeCount, CubeDim) {
    let elements = output.shape().num_elements();
    let cube_dim = CubeDim::new(&output.client, elements);
    (calculate_cube_count_elemwise(&output.client, elements, cube_dim), cube_dim)
}
