//! The register-tiled matrix product behind the network's 1x1 convolutions, the fused FFN
//! walk's ([`super::conv_mlp`]), the dense 3x3 convolutions ([`super::dense`], on gathered
//! patches) and the attention cores ([`super::attention`], on operands packed per call):
//! `dst (+)= x · w` for a row-major `x` (pixels x depth) and a weight packed at load
//! time into 16-column panels ([`pack_panels`]), so that a forward pass reads every weight
//! once, in the order the product uses it, and copies nothing. Output counts that fill no
//! whole panel (L's 40 channels, S1's 120) pad the last one with zero columns, and its tiles
//! run on a padded copy of their rows of `dst`: S1's 120-channel stage took 0.95x the time it
//! took with `gemm` (its FFN and downsampling, alternating runs of the per-stage profile).
//!
//! Each tile keeps 6 rows x 16 columns of `dst` in registers (12 AVX2 registers, 24 NEON
//! registers, 6 AVX-512 registers) while it walks the depth: one broadcast of `x[i, p]` per row
//! and the panel's 16 values of row `p` per step, as XNNPACK's `f32-gemm` 6x16 micro-kernels
//! do with their packed weights. The `gemm` crate instead packs both operands on every call;
//! with the network's weights cold (a forward pass of L reads 105 MB of them, more than L3)
//! the packed panels measured 5-22% faster than `gemm` on the stage-2 and stage-3 products
//! (49 or 196 rows). On the small weights of stages 0 and 1, which stay in cache, it is as
//! fast as `gemm` or faster (S0's 56x56 `fc1`, 32 to 128 channels, one thread: 373 µs
//! against 564, 516 against 602 with GELU; `fc2` equal), and its epilogue takes GELU on the
//! registers.
//!
//! The depth is walked in blocks of `DEPTH_BLOCK` (a panel block is then 16 KiB, in L1), the
//! rows in groups whose block of `x` stays in L2; an output value is always summed in the same
//! order, whatever the caller's split of rows and panels.
//!
//! The weights of the 14x14 and 7x7 stages come from memory (L's stage-3 FFN streams 4.7 MB per
//! block), and each is used by only 196 or 49 rows: the first tile over a panel block waited on
//! every line of it. So, as XNNPACK's `prfm` micro-kernels do, the tiles over one panel block
//! prefetch the next block the loop will reach, one line per depth step, the lines shared out
//! between the tiles. At one thread this took L's stage-3 FFN and attention to 0.79-0.80x of
//! their time, S0's to 0.83-0.84x, the whole of L to 0.89x and S0 to 0.91x (alternating runs of
//! the per-stage profile); alone, `m 49, k 384, n 1536` on cold weights ran 1.12-1.24x
//! faster.
//!
//! Written once over `pulp`'s `Simd` trait: the same code runs on NEON, AVX2 and AVX-512 (and
//! as scalar code elsewhere).

use std::mem::MaybeUninit;

use pulp::{Simd, WithSimd};

use super::gelu::gelu_f32s;
use super::matmul::Matrix;
use super::simd;

/// Columns of one panel (and of one tile).
pub const PANEL: usize = 16;
/// Rows of one tile.
pub const TILE_ROWS: usize = 6;
/// Depth walked per pass over a panel.
const DEPTH_BLOCK: usize = 256;
/// Values of `a` one group of rows may span (96 KiB, well inside L2).
const ROW_GROUP_VALUES: usize = 24 * 1024;

/// A product `dst[m, n] (+)= a[m, k] · b[k, n]`, `a` and `dst` row-major, `b` in panels
/// ([`pack_panels`]), the last one padded when `n` is no multiple of [`PANEL`].
#[derive(Debug, Clone, Copy)]
pub struct Panels {
    /// `a[i, p]` at `a + i * a_row_stride + p`.
    pub a: *const f32,
    /// Elements between two rows of `a`.
    pub a_row_stride: usize,
    /// `b[p, j]` at `b + j / PANEL * k * PANEL + p * PANEL + j % PANEL`.
    pub b: *const f32,
    /// `dst[i, j]` at `dst + i * dst_row_stride + j`.
    pub dst: *mut f32,
    /// Elements between two rows of `dst`.
    pub dst_row_stride: usize,
    /// Rows of `a` and `dst`.
    pub m: usize,
    /// Depth.
    pub k: usize,
    /// Columns of `dst` (and of `b`, whose panels cover them rounded up to [`PANEL`]).
    pub n: usize,
    /// `bias[j]` at `bias + j`, added to every row, if any.
    pub bias: Option<*const f32>,
    /// Add to `dst`'s contents (else overwrite them).
    pub accumulate: bool,
    /// GELU on the result.
    pub gelu: bool,
}

/// The product's `b: [k, n]` in panels: panel `j / PANEL` holds rows `0..k` of columns
/// `j..j + PANEL`, one row after the other; the columns past `n` in the last panel are zero.
/// The convolution weights are packed once at load time (PyTorch's `[out, in]` through
/// [`Matrix::transposed`]), the attention's `k_hᵀ` and `v_h` on every call.
pub fn pack_panels(b: Matrix) -> Vec<f32> {
    assert!(b.in_bounds(), "pack_panels: view out of bounds");
    let (k, n) = (b.rows, b.cols);
    let mut panels = vec![0f32; n.next_multiple_of(PANEL) * k];
    if k == 0 {
        return panels;
    }
    for (panel, values) in panels.chunks_exact_mut(k * PANEL).enumerate() {
        let first_column = panel * PANEL;
        let width = PANEL.min(n - first_column);
        for (p, row) in values.chunks_exact_mut(PANEL).enumerate() {
            let start = p * b.row_stride + first_column * b.col_stride;
            if b.col_stride == 1 {
                row[..width].copy_from_slice(&b.data[start..start + width]);
            } else {
                row[..width].iter_mut().enumerate().for_each(|(lane, w)| *w = b.data[start + lane * b.col_stride]);
            }
        }
    }
    panels
}

/// Runs the product.
///
/// # Safety
/// Every element the fields name must be valid (`dst` for writes, used by no one else during
/// the call, initialised if `accumulate`; `b` for the whole of its last panel, and `bias` for
/// `n` values); `k > 0`.
pub unsafe fn multiply(product: Panels) {
    debug_assert!(product.k > 0);
    simd::arch().dispatch(product);
}

impl WithSimd for Panels {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: Simd>(self, simd: S) {
        // SAFETY: the caller's guarantees (`multiply`); a panel is `PANEL / lanes` vectors.
        unsafe {
            match S::F32_LANES {
                16 => drive::<S, 1>(simd, self),
                8 => drive::<S, 2>(simd, self),
                4 => drive::<S, 4>(simd, self),
                _ => drive::<S, PANEL>(simd, self),
            }
        }
    }
}

/// How a tile's registers start.
#[derive(Clone, Copy)]
enum Start {
    /// The bias (or zero when there is none).
    Bias(Option<*const f32>),
    /// `dst`'s contents, plus the bias if there is one.
    Dst(Option<*const f32>),
}

/// The blocks of depth, groups of rows and panels, in that order (`VECTORS` vectors of
/// `S::F32_LANES` make a panel).
#[inline(always)]
unsafe fn drive<S: Simd, const VECTORS: usize>(simd: S, p: Panels) {
    debug_assert_eq!(VECTORS * S::F32_LANES, PANEL);
    let group_rows = (ROW_GROUP_VALUES / DEPTH_BLOCK.min(p.k)).max(TILE_ROWS) / TILE_ROWS * TILE_ROWS;
    let mut depth = 0;
    while depth < p.k {
        let block = DEPTH_BLOCK.min(p.k - depth);
        let last = depth + block == p.k;
        let mut first_row = 0;
        while first_row < p.m {
            let rows = group_rows.min(p.m - first_row);
            let last_group = first_row + rows == p.m;
            for column in (0..p.n).step_by(PANEL) {
                // SAFETY: the caller's operands, offset inside their bounds.
                unsafe {
                    // The panel block this loop reaches next, unless it is already in cache
                    // (panel 0 of the same depth block, for the next group of rows).
                    let next = if column + PANEL < p.n {
                        p.b.add((column + PANEL) * p.k + depth * PANEL)
                    } else if last_group && !last {
                        p.b.add((depth + block) * PANEL)
                    } else {
                        std::ptr::null()
                    };
                    let bias = p.bias.map(|bias| bias.add(column));
                    let start = match (depth == 0, p.accumulate) {
                        (true, false) => Start::Bias(bias),
                        (true, true) => Start::Dst(bias),
                        (false, _) => Start::Dst(None),
                    };
                    let tile = Tile {
                        a: p.a.add(first_row * p.a_row_stride + depth),
                        a_row_stride: p.a_row_stride,
                        b: p.b.add(column * p.k + depth * PANEL),
                        dst: p.dst.add(first_row * p.dst_row_stride + column),
                        dst_row_stride: p.dst_row_stride,
                        width: PANEL.min(p.n - column),
                        depth: block,
                        start,
                        gelu: last && p.gelu,
                        prefetch: (next, if next.is_null() { 0 } else { block }),
                    };
                    panel_rows::<S, VECTORS>(simd, rows, tile);
                }
            }
            first_row += rows;
        }
        depth += block;
    }
}

/// One tile's operands: `a` and `dst` at its first row, `b` and `dst` at its first column.
#[derive(Clone, Copy)]
struct Tile {
    a: *const f32,
    a_row_stride: usize,
    b: *const f32,
    dst: *mut f32,
    dst_row_stride: usize,
    /// Columns of `dst`: [`PANEL`], or fewer in a last panel.
    width: usize,
    depth: usize,
    start: Start,
    gelu: bool,
    /// `(first, lines)`: the cache lines to prefetch, one per depth step, `lines` lines of 64
    /// bytes from `first` (none when `lines` is 0).
    prefetch: (*const f32, usize),
}

impl Tile {
    /// The same tile `rows` rows further down.
    unsafe fn down(self, rows: usize) -> Tile {
        // SAFETY: the caller stays inside the product's rows.
        unsafe { Tile { a: self.a.add(rows * self.a_row_stride), dst: self.dst.add(rows * self.dst_row_stride), ..self } }
    }
}

/// `rows` rows of one panel: full tiles, then one of the remaining 1-5 rows. The lines the
/// tile names for prefetching are shared out between the tiles, so that the requests spread
/// over the whole panel block's work instead of queueing up behind the first tile.
#[inline(always)]
unsafe fn panel_rows<S: Simd, const VECTORS: usize>(simd: S, rows: usize, tile: Tile) {
    let full = rows / TILE_ROWS * TILE_ROWS;
    let (first_line, lines) = tile.prefetch;
    let share = lines.div_ceil(rows.div_ceil(TILE_ROWS));
    let part = |index: usize, tile: Tile| {
        let skip = (index * share).min(lines);
        Tile { prefetch: (first_line.wrapping_add(skip * PANEL), share.min(lines - skip)), ..tile }
    };
    // SAFETY: every tile lies inside the caller's rows.
    unsafe {
        for row in (0..full).step_by(TILE_ROWS) {
            multiply_tile::<S, TILE_ROWS, VECTORS>(simd, part(row / TILE_ROWS, tile.down(row)));
        }
        let tail = part(full / TILE_ROWS, tile.down(full));
        match rows - full {
            0 => {}
            1 => multiply_tile::<S, 1, VECTORS>(simd, tail),
            2 => multiply_tile::<S, 2, VECTORS>(simd, tail),
            3 => multiply_tile::<S, 3, VECTORS>(simd, tail),
            4 => multiply_tile::<S, 4, VECTORS>(simd, tail),
            _ => multiply_tile::<S, 5, VECTORS>(simd, tail),
        }
    }
}

/// `ROWS x PANEL` values of `dst`, accumulated in registers over the tile's depth. A tile
/// narrower than a panel runs on a copy of its rows of `dst` and of its bias, padded to the
/// panel ([`Staged`]); the panel's padding columns are zero, the copy's extra columns unused.
#[inline(always)]
unsafe fn multiply_tile<S: Simd, const ROWS: usize, const VECTORS: usize>(simd: S, tile: Tile) {
    let mut staged = MaybeUninit::uninit();
    // SAFETY: the caller's tile, `ROWS` rows high.
    let t = if tile.width < PANEL { unsafe { stage(&mut staged, tile, ROWS) } } else { tile };
    let lanes = S::F32_LANES;
    let load = |ptr: *const f32| unsafe { std::ptr::read_unaligned(ptr.cast::<S::f32s>()) };
    let zero = simd.splat_f32s(0.0);
    let mut acc = [[zero; VECTORS]; ROWS];
    // SAFETY: the tile's rows, columns and depth lie inside the caller's operands.
    unsafe {
        for (r, row) in acc.iter_mut().enumerate() {
            for (v, value) in row.iter_mut().enumerate() {
                let dst = || load(t.dst.add(r * t.dst_row_stride + v * lanes));
                *value = match t.start {
                    Start::Bias(None) => zero,
                    Start::Bias(Some(bias)) => load(bias.add(v * lanes)),
                    Start::Dst(None) => dst(),
                    Start::Dst(Some(bias)) => simd.add_f32s(dst(), load(bias.add(v * lanes))),
                };
            }
        }
        // The tile's share of the lines to prefetch, a quad's worth at a time (the last quad
        // may ask for up to three lines past the share: hints, which never fault).
        let (first_line, lines) = t.prefetch;
        let mut step = 0;
        while step + QUAD <= t.depth {
            if step < lines {
                (step..step + QUAD).for_each(|line| prefetch(first_line.wrapping_add(line * PANEL)));
            }
            let quads: [Quad; ROWS] = std::array::from_fn(|r| Quad::load::<S>(t.a.add(r * t.a_row_stride + step)));
            let b = t.b.add(step * PANEL);
            quad_step::<S, ROWS, VECTORS, 0>(simd, &mut acc, &quads, b);
            quad_step::<S, ROWS, VECTORS, 1>(simd, &mut acc, &quads, b.add(PANEL));
            quad_step::<S, ROWS, VECTORS, 2>(simd, &mut acc, &quads, b.add(2 * PANEL));
            quad_step::<S, ROWS, VECTORS, 3>(simd, &mut acc, &quads, b.add(3 * PANEL));
            step += QUAD;
        }
        while step < t.depth {
            if step < lines {
                prefetch(first_line.wrapping_add(step * PANEL));
            }
            let quads: [Quad; ROWS] = std::array::from_fn(|r| Quad::one(t.a.add(r * t.a_row_stride + step)));
            quad_step::<S, ROWS, VECTORS, 0>(simd, &mut acc, &quads, t.b.add(step * PANEL));
            step += 1;
        }
        for (r, row) in acc.iter().enumerate() {
            let out = t.dst.add(r * t.dst_row_stride);
            for (v, &value) in row.iter().enumerate() {
                let value = if t.gelu { gelu_f32s(simd, value) } else { value };
                std::ptr::write_unaligned(out.add(v * lanes).cast::<S::f32s>(), value);
            }
        }
        if tile.width < PANEL {
            unstage(&staged, tile, ROWS);
        }
    }
}

/// Depth steps one [`Quad`] covers.
const QUAD: usize = 4;

/// Four consecutive values of one row of `a`, for four depth steps. On aarch64 they are one
/// NEON register, and each step's multiply-adds take their lane of it (`fmla v.4s, v.4s,
/// v.s[i]`): one load per row every four steps instead of a load-and-broadcast (`ld1r`) per
/// row and step, and (as LLVM compiles it) the accumulators stay in registers, where the
/// one-step loop also stored all 24 to the stack on every step. A main loop of 124
/// instructions per 96 `fmla` against 63 per 24: S0's pass went from 305 to 197 million
/// instructions, L's from 1816 to 1078 (`core/scripts/aarch64-insn.sh`, with the prefetch
/// below once per quad). Elsewhere each value is broadcast from memory when its step needs it
/// (x86's `vbroadcastss` is a load). The same multiply-adds in the same order either way.
#[derive(Clone, Copy)]
struct Quad {
    values: *const f32,
    #[cfg(target_arch = "aarch64")]
    vector: std::arch::aarch64::float32x4_t,
}

impl Quad {
    /// The four values from `values` on.
    ///
    /// # Safety
    /// `values` must point at four readable values.
    #[inline(always)]
    unsafe fn load<S: Simd>(values: *const f32) -> Quad {
        // SAFETY: the caller's four values.
        #[cfg(target_arch = "aarch64")]
        let vector = unsafe {
            if Quad::in_register::<S>() { std::arch::aarch64::vld1q_f32(values) } else { std::arch::aarch64::vdupq_n_f32(0.0) }
        };
        Quad {
            values,
            #[cfg(target_arch = "aarch64")]
            vector,
        }
    }

    /// The value at `value` in every lane: a quad of which only lane 0 is read (the steps
    /// after the last whole quad).
    ///
    /// # Safety
    /// `value` must be readable.
    #[inline(always)]
    unsafe fn one(value: *const f32) -> Quad {
        Quad {
            values: value,
            // SAFETY: the caller's value.
            #[cfg(target_arch = "aarch64")]
            vector: unsafe { std::arch::aarch64::vld1q_dup_f32(value) },
        }
    }

    /// Whether quads of `S` are held in a register (NEON's 4 lanes), not read from memory.
    #[inline(always)]
    const fn in_register<S: Simd>() -> bool {
        cfg!(target_arch = "aarch64") && S::F32_LANES == 4
    }

    /// Value `LANE` broadcast to every lane of `S`'s vector.
    ///
    /// # Safety
    /// Value `LANE` must be readable (lane 0 only, for a quad from [`Quad::one`]).
    #[inline(always)]
    unsafe fn lane<S: Simd, const LANE: i32>(self, simd: S) -> S::f32s {
        #[cfg(target_arch = "aarch64")]
        if Quad::in_register::<S>() {
            // SAFETY: with 4 lanes `S::f32s` is NEON's `float32x4_t` (pulp's `f32x4`).
            return unsafe { std::mem::transmute_copy(&std::arch::aarch64::vdupq_laneq_f32::<LANE>(self.vector)) };
        }
        // SAFETY: the caller's guarantee.
        simd.splat_f32s(unsafe { *self.values.add(LANE as usize) })
    }
}

/// One depth step of a tile: `acc[r][v] += a[r, step] · b[step, v]` with `a`'s values lane
/// `LANE` of the rows' quads and `b` the panel's row of the step. Where a quad is a register
/// (NEON), vector by vector of the panel, so that one weight vector is live beside the 24
/// accumulators and 6 quads (30 of NEON's 32 registers); elsewhere row by row with the
/// panel's vectors loaded first, so that one broadcast is live beside the accumulators and
/// the weights (15 of AVX2's 16). Each accumulator gets the same multiply-add either way.
#[inline(always)]
unsafe fn quad_step<S: Simd, const ROWS: usize, const VECTORS: usize, const LANE: i32>(
    simd: S,
    acc: &mut [[S::f32s; VECTORS]; ROWS],
    quads: &[Quad; ROWS],
    b: *const f32,
) {
    let weight = |v: usize| unsafe { std::ptr::read_unaligned(b.add(v * S::F32_LANES).cast::<S::f32s>()) };
    // SAFETY: the caller's panel row and quads.
    unsafe {
        if Quad::in_register::<S>() {
            for v in 0..VECTORS {
                let w = weight(v);
                for (row, quad) in acc.iter_mut().zip(quads) {
                    row[v] = simd.mul_add_e_f32s(quad.lane::<S, LANE>(simd), w, row[v]);
                }
            }
        } else {
            let weights: [S::f32s; VECTORS] = std::array::from_fn(weight);
            for (row, quad) in acc.iter_mut().zip(quads) {
                let x = quad.lane::<S, LANE>(simd);
                for (value, &w) in row.iter_mut().zip(&weights) {
                    *value = simd.mul_add_e_f32s(x, w, *value);
                }
            }
        }
    }
}

/// A narrow tile's rows of `dst` and its bias, padded to a whole panel.
struct Staged {
    dst: [f32; TILE_ROWS * PANEL],
    bias: [f32; PANEL],
}

/// Fills `slot` from `tile` (`rows` high, `tile.width` wide, the padding zero) and returns the
/// tile pointed at the copy.
///
/// # Safety
/// `tile` must name `rows` rows of `tile.width` values of `dst` and, if it has one, a bias of
/// `tile.width` values.
#[inline(always)]
unsafe fn stage(slot: &mut MaybeUninit<Staged>, tile: Tile, rows: usize) -> Tile {
    let staged = slot.write(Staged { dst: [0.0; TILE_ROWS * PANEL], bias: [0.0; PANEL] });
    let width = tile.width;
    // SAFETY: the caller's guarantees.
    unsafe {
        let mut bias = |source: Option<*const f32>| {
            source.map(|source| {
                std::ptr::copy_nonoverlapping(source, staged.bias.as_mut_ptr(), width);
                staged.bias.as_ptr()
            })
        };
        let start = match tile.start {
            Start::Bias(source) => Start::Bias(bias(source)),
            Start::Dst(source) => Start::Dst(bias(source)),
        };
        if let Start::Dst(_) = start {
            for r in 0..rows {
                std::ptr::copy_nonoverlapping(tile.dst.add(r * tile.dst_row_stride), staged.dst.as_mut_ptr().add(r * PANEL), width);
            }
        }
        Tile { dst: staged.dst.as_mut_ptr(), dst_row_stride: PANEL, width: PANEL, start, ..tile }
    }
}

/// Writes the copy's `tile.width` columns back to `tile`'s `rows` rows of `dst`.
///
/// # Safety
/// [`stage`] must have filled `slot` for this tile.
#[inline(always)]
unsafe fn unstage(slot: &MaybeUninit<Staged>, tile: Tile, rows: usize) {
    // SAFETY: the caller's guarantees.
    unsafe {
        let staged = slot.assume_init_ref();
        for r in 0..rows {
            std::ptr::copy_nonoverlapping(staged.dst.as_ptr().add(r * PANEL), tile.dst.add(r * tile.dst_row_stride), tile.width);
        }
    }
}

/// Asks for the cache line holding `address` to be brought into L1 (a hint, which never
/// faults); nothing on other architectures.
#[inline(always)]
fn prefetch(address: *const f32) {
    // SAFETY: a prefetch reads nothing the program sees and never faults, whatever the address.
    #[cfg(target_arch = "x86_64")]
    unsafe {
        std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(address.cast())
    };
    // SAFETY: as above (`prfm` is a hint).
    #[cfg(target_arch = "aarch64")]
    unsafe {
        std::arch::asm!("prfm pldl1keep, [{0}]", in(reg) address, options(nomem, nostack, preserves_flags))
    };
    #[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
    let _ = address;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::test_values as values;

    /// Every tail of the 6-row tile, depths of one value, of one block plus one, and of three
    /// blocks; two whole panels, and a last panel 5 or 3 wide; with bias, residual and GELU,
    /// against an `f64` reference. Outside the `n` columns `dst` stays untouched.
    #[test]
    fn panels_match_reference_on_awkward_shapes() {
        for n in [2 * PANEL, PANEL + 5, 3] {
            for m in 1..=13 {
                for k in [1, 7, DEPTH_BLOCK + 1, 3 * DEPTH_BLOCK - 5] {
                    check_product(m, k, n);
                }
            }
        }
    }

    /// Each row of a product is the same bits as that row alone: a tile of any height sums
    /// every value in the same order.
    #[test]
    fn rows_do_not_depend_on_the_tile_they_fall_in() {
        for (k, n) in [(7, 3), (DEPTH_BLOCK + 1, PANEL + 5), (176, 1000)] {
            let (m, a, b) = (13, values(13 * k, 1), values(k * n, 2));
            let packed = pack_panels(Matrix::row_major(&b, k, n));
            let product = |rows: std::ops::Range<usize>| {
                let mut dst = vec![0f32; rows.len() * n];
                // SAFETY: `a` holds the rows named, `dst` is `rows x n`, `packed` `k x n`.
                unsafe {
                    multiply(Panels {
                        a: a.as_ptr().add(rows.start * k),
                        a_row_stride: k,
                        b: packed.as_ptr(),
                        dst: dst.as_mut_ptr(),
                        dst_row_stride: n,
                        m: rows.len(),
                        k,
                        n,
                        bias: None,
                        accumulate: false,
                        gelu: false,
                    })
                };
                dst
            };
            let whole = product(0..m);
            for row in 0..m {
                assert_eq!(&whole[row * n..][..n], product(row..row + 1).as_slice(), "k {k} n {n}: row {row}");
            }
        }
    }

    fn check_product(m: usize, k: usize, n: usize) {
        // `dst` rows are `n + 2` apart, with guard values between them.
        let stride = n + 2;
        let (a, b, bias, residual) = (values(m * k, 1), values(k * n, 2), values(n, 3), values(m * stride, 4));
        let packed = pack_panels(Matrix::row_major(&b, k, n));
        for (accumulate, gelu) in [(false, false), (true, false), (false, true)] {
            let mut dst = if accumulate { residual.clone() } else { vec![f32::NAN; m * stride] };
            let before = dst.clone();
            // SAFETY: every operand is as large as the product names.
            unsafe {
                multiply(Panels {
                    a: a.as_ptr(),
                    a_row_stride: k,
                    b: packed.as_ptr(),
                    dst: dst.as_mut_ptr(),
                    dst_row_stride: stride,
                    m,
                    k,
                    n,
                    bias: Some(bias.as_ptr()),
                    accumulate,
                    gelu,
                })
            };
            for i in 0..m {
                assert!(dst[i * stride + n..][..2].iter().zip(&before[i * stride + n..]).all(|(d, b)| d.to_bits() == b.to_bits()), "m {m} k {k} n {n}: row {i}'s guard");
                for j in 0..n {
                    let sum: f64 = (0..k).map(|p| f64::from(a[i * k + p]) * f64::from(b[p * n + j])).sum();
                    let mut want = (sum + f64::from(bias[j])) as f32 + if accumulate { residual[i * stride + j] } else { 0.0 };
                    if gelu {
                        want = crate::kernels::gelu::gelu(want);
                    }
                    let got = dst[i * stride + j];
                    assert!((got - want).abs() <= 1e-4 * want.abs().max(1.0), "m {m} k {k} n {n} ({i}, {j}): {got} vs {want}");
                }
            }
        }
    }
}
