//! The first half of timm's `ConvMlpWithNorm` in one launch: `fc1` (1x1 expand, + GELU) and
//! `mid` (depthwise 3x3, + GELU), which [`pointwise`](super::pointwise) and
//! [`direct`](super::direct) ran as two, with the expanded map written to memory and read
//! back nine times between them. `fc2` and the block's residual stay a pointwise launch: it
//! sums over every hidden channel, which one cube here does not hold.
//!
//! One cube per tile of the map, slice of [`SLICE`] hidden channels and image: it computes
//! `gelu(fc1(x))` on the tile and a one-pixel border into shared memory (zero outside the map,
//! the depthwise convolution's padding), then the depthwise convolution from there. The border
//! is computed twice, by this tile and its neighbour ([`tile_side`]: a third more `fc1` work
//! on the 56x56 and 28x28 maps, none on the 14x14 and 7x7 ones, one tile each).

use burn::backend::TensorMetadata;
use burn::tensor::Shape;
use burn_cubecl::kernel::into_contiguous;
use burn_cubecl::tensor::CubeTensor;
use cubecl::prelude::*;

use super::empty_output;
use super::gelu::gelu;

/// Hidden channels per cube.
pub const SLICE: usize = 16;

/// Largest tile side: a tile and its border of [`SLICE`] channels in `f32` is 16 KiB of shared
/// memory at most, the threadgroup memory of Apple's oldest Metal GPUs (A9, A10; 32 KiB later).
const MAX_TILE: usize = 14;

/// Threads per cube.
const THREADS: u32 = 256;

/// `fc1_weight: [hidden, channels]`, `mid_weight: [hidden, 9]`; `output: [B, hidden, H, W]`.
#[cube(launch)]
#[allow(clippy::too_many_arguments)]
fn mlp_expand_kernel<F: Float>(
    input: &Tensor<F>,
    fc1_weight: &Tensor<F>,
    fc1_bias: &Tensor<F>,
    mid_weight: &Tensor<F>,
    mid_bias: &Tensor<F>,
    output: &mut Tensor<F>,
    tiles_across: u32,
    #[comptime] tile: u32,
    #[define(F)] _dtype: ElemType,
) {
    let tile = tile as usize;
    let bordered = tile + 2;
    let area = bordered * bordered;
    let mut expanded = Shared::<[f32]>::new_slice(bordered * bordered * SLICE);
    let (channels, height, width) = (input.shape(1), input.shape(2), input.shape(3));
    let hidden = output.shape(1);
    let tiles_across = tiles_across as usize;
    let (tile_y, tile_x) = (CUBE_POS_X as usize / tiles_across, CUBE_POS_X as usize % tiles_across);
    let first_hidden = CUBE_POS_Y as usize * SLICE;
    let image = CUBE_POS_Z as usize;
    let unit = UNIT_POS_X as usize;
    let threads = CUBE_DIM_X as usize;

    // gelu(fc1(x)) on the tile and its border: consecutive threads take consecutive pixels of
    // one hidden channel (contiguous input reads, one weight row).
    let mut t = unit;
    while t < area * SLICE {
        let channel = first_hidden + t / area;
        let pixel = t % area;
        // Bordered coordinates: the map's row (column) is `tile · tile_y + by - 1`.
        let (by, bx) = (pixel / bordered, pixel % bordered);
        let (padded_y, padded_x) = (tile_y * tile + by, tile_x * tile + bx);
        let mut value = 0.0_f32;
        if channel < hidden && padded_y >= 1 && padded_y <= height && padded_x >= 1 && padded_x <= width {
            let at = (padded_y - 1) * width + padded_x - 1;
            let plane = image * channels * height * width;
            let mut sum = f32::cast_from(fc1_bias[channel]);
            for c in 0..channels {
                sum += f32::cast_from(fc1_weight[channel * channels + c]) * f32::cast_from(input[plane + c * height * width + at]);
            }
            value = gelu::<f32>(sum);
        }
        expanded[t] = value;
        t += threads;
    }
    sync_cube();

    // gelu(mid(·)) on the tile.
    let mut t = unit;
    while t < tile * tile * SLICE {
        let slot = t / (tile * tile);
        let channel = first_hidden + slot;
        let (ty, tx) = ((t % (tile * tile)) / tile, t % tile);
        let (y, x) = (tile_y * tile + ty, tile_x * tile + tx);
        if channel < hidden && y < height && x < width {
            let mut sum = f32::cast_from(mid_bias[channel]);
            #[unroll]
            for ky in 0..3 {
                #[unroll]
                for kx in 0..3 {
                    let tap = expanded[slot * area + (ty + ky) * bordered + tx + kx];
                    sum += f32::cast_from(mid_weight[channel * 9 + ky * 3 + kx]) * tap;
                }
            }
            output[((image * hidden + channel) * height + y) * width + x] = F::cast_from(gelu::<f32>(sum));
        }
        t += threads;
    }
}

/// The tile side for an `side`-wide map: the whole map up to [`MAX_TILE`] (7 and 14), else the
/// largest divisor of it from 8 to [`MAX_TILE`] (14 for 28 and 56: no partial tiles), else
/// [`MAX_TILE`].
fn tile_side(side: usize) -> usize {
    if side <= MAX_TILE {
        return side.max(1);
    }
    (8..=MAX_TILE).rev().find(|t| side % t == 0).unwrap_or(MAX_TILE)
}

/// `gelu(mid(gelu(fc1(x))))` for `x: [B, C, H, W]`, `fc1_weight: [hidden, C, 1, 1]`,
/// `mid_weight: [hidden, 1, 3, 3]` (depthwise, stride 1, padding 1).
pub fn launch(x: CubeTensor, [fc1_weight, fc1_bias]: [CubeTensor; 2], [mid_weight, mid_bias]: [CubeTensor; 2], dtype: ElemType) -> CubeTensor {
    let [batch, _, height, width] = x.shape().dims::<4>();
    let hidden = fc1_weight.shape()[0];
    let [x, fc1_weight, fc1_bias, mid_weight, mid_bias] = [x, fc1_weight, fc1_bias, mid_weight, mid_bias].map(into_contiguous);
    let output = empty_output(&x, Shape::new([batch, hidden, height, width]));
    let tile = tile_side(height.max(width));
    let (tiles_down, tiles_across) = (height.div_ceil(tile), width.div_ceil(tile));
    let client = x.client.clone();
    let threads = THREADS.min(client.properties().hardware.max_cube_dim.0);
    mlp_expand_kernel::launch(
        &client,
        CubeCount::Static((tiles_down * tiles_across) as u32, hidden.div_ceil(SLICE) as u32, batch as u32),
        CubeDim::new_1d(threads),
        x.into_tensor_arg(),
        fc1_weight.into_tensor_arg(),
        fc1_bias.into_tensor_arg(),
        mid_weight.into_tensor_arg(),
        mid_bias.into_tensor_arg(),
        output.clone().into_tensor_arg(),
        tiles_across as u32,
        tile as u32,
        dtype,
    );
    output
}
