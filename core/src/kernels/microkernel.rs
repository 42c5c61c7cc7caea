//! The register-tiled matrix product behind the network's 1x1 convolutions, the fused FFN
//! walk's ([`super::conv_mlp`]), the dense 3x3 convolutions ([`super::dense`], on gathered
//! patches) and the attention cores ([`super::attention`], on operands packed per call):
//! `dst (+)= x · w` for a row-major `x` (pixels x depth) and a weight packed at load
//! time into panels of 16 columns in `f32`, 32 in `f16` ([`pack_panels`]), so that a forward
//! pass reads every weight once, in the order the product uses it, and copies nothing. Output
//! counts that fill no whole panel (L's 40 channels, S1's 120) pad the last one with zero
//! columns, and its tiles run on a padded copy of their rows of `dst`: S1's 120-channel stage
//! took 0.95x the time it took with `gemm` (its FFN and downsampling, alternating runs of the
//! per-stage profile). In `f16` a last panel with 16 columns or fewer left is 16 wide
//! ([`NARROW_PANEL`]), so that 48 channels are not padded to 64.
//!
//! Each tile keeps 6 rows x 16 columns of `dst` in registers in `f32` (12 AVX2 registers, 24
//! NEON registers, 6 AVX-512 registers) while it walks the depth: one broadcast of `x[i, p]`
//! per row and the panel's 16 values of row `p` per step, as XNNPACK's `f32-gemm` 6x16
//! micro-kernels do with their packed weights. In `f16` a tile is 6 x 32 (24 NEON registers of
//! 8 lanes, the 6 rows' next eight values in 6 more, two weight vectors in the last two): its
//! main loop takes 220 instructions per 192 `fmla` where the 6x16 tile with four-step quads
//! took 64 per 48, and S0's pass in `f16` went from 112 to 101 million instructions
//! (`core/scripts/aarch64-insn.sh`, `-cpu max`: 106 with the wider tile, 101 with quads of
//! eight steps). The `gemm` crate instead packs both operands on every call; with the network's
//! weights cold (a forward pass of L reads 105 MB of them, more than L3)
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

use super::gelu::gelu_lanes;
use super::lanes::{Element, Lanes, WithLanes};
use super::matmul::Matrix;

/// Columns of the narrowest panel. A product's panels are [`Element::PANEL`] wide, except a
/// last one with at most this many columns left, which is this wide: in `f16` (32-wide panels)
/// S0's 48 channels are a panel of 32 and one of 16, not 64 columns of which 16 are zero.
pub const NARROW_PANEL: usize = 16;
/// Columns of the widest panel, of either element type.
const MAX_PANEL: usize = 32;
/// Rows of one tile.
pub const TILE_ROWS: usize = 6;
/// Depth walked per pass over a panel. In `f16` also the longest run of depth steps a tile
/// sums in its registers: each block's run is added in `f32` to what `dst` held (the residual,
/// or the blocks before it) and rounded to `f16` once. A running `f16` sum rounds at 4.9e-4 of
/// itself on every step. Summed whole in `f16`, residual included, the products took the
/// logits 0.7-1.8% from PyTorch's (S0-S2, seeded batch); in runs of 64 moved into `f32` sums,
/// 0.19-0.38% (all four variants, photo and batch); in runs of a whole block, 0.26-0.62%, for
/// 6-7% fewer instructions (the move cost 9 instructions per vector of eight lanes, a tenth of
/// a 64-step run's loop; passes under `qemu-aarch64 -cpu max`: S0 96.8 M before, 91.1 M after,
/// L 533.9 and 495.5), which took every stage under 0.55 of `f32`'s instructions (stage 3 had
/// been 0.55-0.59, the stems 0.59).
const DEPTH_BLOCK: usize = 256;
/// Bytes of `a` one group of rows may span (96 KiB, well inside L2).
const ROW_GROUP_BYTES: usize = 96 * 1024;
/// Bytes of one cache line.
const LINE_BYTES: usize = 64;

/// Columns of the panel of `E` that starts at `column` (a multiple of [`Element::PANEL`]) of a
/// product `n` columns wide.
pub fn panel_width<E: Element>(n: usize, column: usize) -> usize {
    if n - column <= NARROW_PANEL { NARROW_PANEL } else { E::PANEL }
}

/// Columns the panels of `E` cover for a product `n` columns wide: `n` rounded up to whole
/// panels, the last one possibly narrow ([`panel_width`]).
pub fn packed_columns<E: Element>(n: usize) -> usize {
    let full = n / E::PANEL * E::PANEL;
    if full == n { n } else { full + panel_width::<E>(n, full) }
}

/// A product `dst[m, n] (+)= a[m, k] · b[k, n]`, `a` and `dst` row-major, `b` in panels
/// ([`pack_panels`]), the last one padded when `n` fills no whole panel.
#[derive(Debug, Clone, Copy)]
pub struct Panels<E> {
    /// `a[i, p]` at `a + i * a_row_stride + p`.
    pub a: *const E,
    /// Elements between two rows of `a`.
    pub a_row_stride: usize,
    /// `b[p, j]` at `b + j / P * k * P + p * w + j % P`, `P` the element's
    /// [`Element::PANEL`] and `w` the width of the panel holding column `j` ([`panel_width`]).
    pub b: *const E,
    /// `dst[i, j]` at `dst + i * dst_row_stride + j`.
    pub dst: *mut E,
    /// Elements between two rows of `dst`.
    pub dst_row_stride: usize,
    /// Rows of `a` and `dst`.
    pub m: usize,
    /// Depth.
    pub k: usize,
    /// Columns of `dst` (and of `b`, whose panels cover them rounded up: [`packed_columns`]).
    pub n: usize,
    /// `bias[j]` at `bias + j`, added to every row, if any.
    pub bias: Option<*const E>,
    /// Add to `dst`'s contents (else overwrite them).
    pub accumulate: bool,
    /// GELU on the result.
    pub gelu: bool,
}

/// The product's `b: [k, n]` in panels of `E`: the panel at column `j` (a multiple of
/// [`Element::PANEL`]) holds rows `0..k` of columns `j..j + w` (`w` its [`panel_width`]), one
/// row after the other, from `j · k` on; the columns past `n` in the last panel are zero.
/// The convolution weights are packed once at load time (PyTorch's `[out, in]` through
/// [`Matrix::transposed`], rounded to `f16` for `Precision::F16`), the attention's `k_hᵀ` and
/// `v_h` on every call.
pub fn pack_panels<T: Element, E: Element>(b: Matrix<T>) -> Vec<E> {
    assert!(b.in_bounds(), "pack_panels: view out of bounds");
    let (k, n) = (b.rows, b.cols);
    let mut panels = vec![E::ZERO; packed_columns::<E>(n) * k];
    if k == 0 {
        return panels;
    }
    for first_column in (0..n).step_by(E::PANEL) {
        let panel = panel_width::<E>(n, first_column);
        let width = panel.min(n - first_column);
        for (p, row) in panels[first_column * k..][..k * panel].chunks_exact_mut(panel).enumerate() {
            let start = p * b.row_stride + first_column * b.col_stride;
            if b.col_stride == 1 {
                // A row-major `b` (the attention's `v_h`, packed on every call): slices that
                // compile to a copy, where the indexed loop below moved one value per 6
                // instructions on aarch64 (S0's pass: 2.1 M instructions fewer in `f16`, 1.9 M
                // in `f32`).
                row[..width].iter_mut().zip(&b.data[start..start + width]).for_each(|(w, &v)| *w = convert(v));
            } else {
                row[..width].iter_mut().enumerate().for_each(|(lane, w)| *w = convert(b.data[start + lane * b.col_stride]));
            }
        }
    }
    panels
}

/// `value` as `E`: itself when `T` is `E`, else through `f32`.
#[inline(always)]
fn convert<T: Element, E: Element>(value: T) -> E {
    // `f32` is the only type that is not `HALF`, `f16` the only one that is.
    if T::HALF == E::HALF { bytemuck::cast(value) } else { E::from_f32(value.to_f32()) }
}

/// Runs the product.
///
/// # Safety
/// Every element the fields name must be valid (`dst` for writes, used by no one else during
/// the call, initialised if `accumulate`; `b` for the whole of its last panel, and `bias` for
/// `n` values); `k > 0`.
pub unsafe fn multiply<E: Element>(product: Panels<E>) {
    debug_assert!(product.k > 0);
    E::dispatch(product);
}

impl<E: Element> WithLanes<E> for Panels<E> {
    type Output = ();

    #[inline(always)]
    fn with_lanes<L: Lanes<Value = E>>(self, lanes: L) {
        // SAFETY: the caller's guarantees (`multiply`); a panel is `E::PANEL / lanes` vectors,
        // a narrow one `NARROW_PANEL / lanes`: 16 and 16 values in `f32`, 32 and 16 in `f16`,
        // on NEON (4 or 8 lanes), AVX2 (8), AVX-512 (16) or scalar code.
        unsafe {
            match (E::PANEL / L::LANES, NARROW_PANEL / L::LANES) {
                (1, 1) => drive::<L, 1, 1>(lanes, self),
                (2, 1) => drive::<L, 2, 1>(lanes, self),
                (2, 2) => drive::<L, 2, 2>(lanes, self),
                (4, 2) => drive::<L, 4, 2>(lanes, self),
                (4, 4) => drive::<L, 4, 4>(lanes, self),
                (8, 4) => drive::<L, 8, 4>(lanes, self),
                (16, 16) => drive::<L, 16, 16>(lanes, self),
                _ => drive::<L, 32, 16>(lanes, self),
            }
        }
    }
}

/// How a tile's registers start.
#[derive(Clone, Copy)]
enum Start<E> {
    /// The bias (or zero when there is none).
    Bias(Option<*const E>),
    /// `dst`'s contents, plus the bias if there is one.
    Dst(Option<*const E>),
}

/// The blocks of depth, groups of rows and panels, in that order (`VECTORS` vectors of
/// `L::LANES` make a panel, `NARROW` a narrow one).
#[inline(always)]
unsafe fn drive<L: Lanes, const VECTORS: usize, const NARROW: usize>(lanes: L, p: Panels<L::Value>) {
    let panel = L::Value::PANEL;
    debug_assert!(VECTORS * L::LANES == panel && NARROW * L::LANES == NARROW_PANEL);
    let row_group_values = ROW_GROUP_BYTES / size_of::<L::Value>();
    let group_rows = (row_group_values / DEPTH_BLOCK.min(p.k)).max(TILE_ROWS) / TILE_ROWS * TILE_ROWS;
    let mut depth = 0;
    while depth < p.k {
        let block = DEPTH_BLOCK.min(p.k - depth);
        let last = depth + block == p.k;
        let mut first_row = 0;
        while first_row < p.m {
            let rows = group_rows.min(p.m - first_row);
            let last_group = first_row + rows == p.m;
            for column in (0..p.n).step_by(panel) {
                let width = panel_width::<L::Value>(p.n, column);
                // SAFETY: the caller's operands, offset inside their bounds.
                unsafe {
                    // The panel block this loop reaches next, unless it is already in cache
                    // (panel 0 of the same depth block, for the next group of rows).
                    let (next, next_width) = if column + panel < p.n {
                        let next_width = panel_width::<L::Value>(p.n, column + panel);
                        (p.b.add((column + panel) * p.k + depth * next_width), next_width)
                    } else if last_group && !last {
                        let next_width = panel_width::<L::Value>(p.n, 0);
                        (p.b.add((depth + block) * next_width), next_width)
                    } else {
                        (std::ptr::null(), 0)
                    };
                    let bias = p.bias.map(|bias| bias.add(column));
                    let start = match (depth == 0, p.accumulate) {
                        (true, false) => Start::Bias(bias),
                        (true, true) => Start::Dst(bias),
                        (false, _) => Start::Dst(None),
                    };
                    let lines = block * next_width * size_of::<L::Value>() / LINE_BYTES;
                    let tile = Tile {
                        a: p.a.add(first_row * p.a_row_stride + depth),
                        a_row_stride: p.a_row_stride,
                        b: p.b.add(column * p.k + depth * width),
                        dst: p.dst.add(first_row * p.dst_row_stride + column),
                        dst_row_stride: p.dst_row_stride,
                        width: width.min(p.n - column),
                        depth: block,
                        start,
                        gelu: last && p.gelu,
                        prefetch: (next.cast(), lines),
                    };
                    if width == panel {
                        panel_rows::<L, VECTORS>(lanes, rows, tile);
                    } else {
                        panel_rows::<L, NARROW>(lanes, rows, tile);
                    }
                }
            }
            first_row += rows;
        }
        depth += block;
    }
}

/// One tile's operands: `a` and `dst` at its first row, `b` and `dst` at its first column.
#[derive(Clone, Copy)]
struct Tile<E> {
    a: *const E,
    a_row_stride: usize,
    b: *const E,
    dst: *mut E,
    dst_row_stride: usize,
    /// Columns of `dst`: the panel's width, or fewer in a last panel.
    width: usize,
    depth: usize,
    start: Start<E>,
    gelu: bool,
    /// `(first, lines)`: the cache lines to prefetch, `lines` lines of [`LINE_BYTES`] from
    /// `first` (none when `lines` is 0), one per depth step while they last.
    prefetch: (*const u8, usize),
}

impl<E> Tile<E> {
    /// The same tile `rows` rows further down.
    unsafe fn down(self, rows: usize) -> Tile<E> {
        // SAFETY: the caller stays inside the product's rows.
        unsafe { Tile { a: self.a.add(rows * self.a_row_stride), dst: self.dst.add(rows * self.dst_row_stride), ..self } }
    }
}

/// `rows` rows of one panel: full tiles, then one of the remaining 1-5 rows. The lines the
/// tile names for prefetching are shared out between the tiles, so that the requests spread
/// over the whole panel block's work instead of queueing up behind the first tile.
#[inline(always)]
unsafe fn panel_rows<L: Lanes, const VECTORS: usize>(lanes: L, rows: usize, tile: Tile<L::Value>) {
    let full = rows / TILE_ROWS * TILE_ROWS;
    let (first_line, lines) = tile.prefetch;
    let share = lines.div_ceil(rows.div_ceil(TILE_ROWS));
    let part = |index: usize, tile: Tile<L::Value>| {
        let skip = (index * share).min(lines);
        Tile { prefetch: (first_line.wrapping_add(skip * LINE_BYTES), share.min(lines - skip)), ..tile }
    };
    // SAFETY: every tile lies inside the caller's rows.
    unsafe {
        for row in (0..full).step_by(TILE_ROWS) {
            multiply_tile::<L, TILE_ROWS, VECTORS>(lanes, part(row / TILE_ROWS, tile.down(row)));
        }
        let tail = part(full / TILE_ROWS, tile.down(full));
        match rows - full {
            0 => {}
            1 => multiply_tile::<L, 1, VECTORS>(lanes, tail),
            2 => multiply_tile::<L, 2, VECTORS>(lanes, tail),
            3 => multiply_tile::<L, 3, VECTORS>(lanes, tail),
            4 => multiply_tile::<L, 4, VECTORS>(lanes, tail),
            _ => multiply_tile::<L, 5, VECTORS>(lanes, tail),
        }
    }
}

/// `ROWS x (VECTORS · LANES)` values of `dst` (a panel's width), accumulated in registers over
/// the tile's depth. A tile narrower than its panel runs on a copy of its rows of `dst` and of
/// its bias, padded to the panel ([`Staged`]); the panel's padding columns are zero, the copy's
/// extra columns unused.
#[inline(always)]
unsafe fn multiply_tile<L: Lanes, const ROWS: usize, const VECTORS: usize>(lanes: L, tile: Tile<L::Value>) {
    let panel = VECTORS * L::LANES;
    let mut staged = MaybeUninit::uninit();
    // SAFETY: the caller's tile, `ROWS` rows high.
    let t = if tile.width < panel { unsafe { stage(&mut staged, tile, ROWS, panel) } } else { tile };
    let width = L::LANES;
    let zero = lanes.splat(0.0);
    let mut acc = [[zero; VECTORS]; ROWS];
    // In `f16`, what `dst` held (a residual, or the sum of the depth blocks before this one) is
    // added in `f32` to the registers' run of the block ([`DEPTH_BLOCK`]) at the end, and each
    // output rounded to `f16` once. (In `f32` the registers start from `dst`.)
    let dst_added_at_end = L::Value::HALF && matches!(t.start, Start::Dst(_));
    // SAFETY: the tile's rows, columns and depth lie inside the caller's operands.
    unsafe {
        let start = match t.start {
            Start::Dst(bias) if dst_added_at_end => Start::Bias(bias),
            start => start,
        };
        for (r, row) in acc.iter_mut().enumerate() {
            for (v, value) in row.iter_mut().enumerate() {
                let dst = || lanes.load(t.dst.add(r * t.dst_row_stride + v * width));
                *value = match start {
                    Start::Bias(None) => zero,
                    Start::Bias(Some(bias)) => lanes.load(bias.add(v * width)),
                    Start::Dst(None) => dst(),
                    Start::Dst(Some(bias)) => lanes.add(dst(), lanes.load(bias.add(v * width))),
                };
            }
        }
        // The tile's share of the lines to prefetch, a quad's worth at a time (the last quad
        // may ask for up to three lines past the share: hints, which never fault).
        let (first_line, lines) = t.prefetch;
        let line = |index: usize| first_line.wrapping_add(index * LINE_BYTES);
        // The quads are counted loops (with the end tested in the quad loop, an earlier `f16`
        // loop spent 11 instructions per quad on it beside its 48 `fmla`). On NEON (quads in
        // registers) the quads after the tile's last prefetch are a loop of their own; on x86
        // (AVX2's 16 registers) that second loop made LLVM keep the accumulators on the stack
        // (S0 1.7x slower), so there one loop tests each quad. S0's pass under `qemu-aarch64
        // -cpu max`, with the end tested per step: `f16` 128.3 M instructions, counted 119.2 M;
        // `f32` 190.8 M and 185.5 M. The two loops sit in an outer one that ends after one
        // pass: written without it, or under an `if`, LLVM kept the `f16` accumulators on the
        // stack (S0's pass in `f16` 123-129 M instructions against 91 M, `f32` 181 M against 180).
        let quads_end = t.depth / L::STEPS * L::STEPS;
        let mut step = 0;
        while step < quads_end {
            let prefetched_end = if L::QUAD_IN_REGISTER { lines.next_multiple_of(L::STEPS).clamp(step, quads_end) } else { quads_end };
            while step < prefetched_end {
                if L::QUAD_IN_REGISTER || step < lines {
                    (step..step + L::STEPS).for_each(|index| prefetch(line(index)));
                }
                quad_steps::<L, ROWS, VECTORS>(lanes, &mut acc, t, step);
                step += L::STEPS;
            }
            while step < quads_end {
                quad_steps::<L, ROWS, VECTORS>(lanes, &mut acc, t, step);
                step += L::STEPS;
            }
        }
        while step < t.depth {
            if step < lines {
                prefetch(line(step));
            }
            let quads: [L::Quad; ROWS] = std::array::from_fn(|r| lanes.quad_of_one(t.a.add(r * t.a_row_stride + step)));
            quad_step::<L, ROWS, VECTORS, 0>(lanes, &mut acc, &quads, t.b.add(step * panel));
            step += 1;
        }
        if dst_added_at_end {
            for r in 0..ROWS {
                for v in 0..VECTORS {
                    acc[r][v] = lanes.add_in_f32(lanes.load(t.dst.add(r * t.dst_row_stride + v * width)), acc[r][v]);
                }
            }
        }
        // On NEON (quads in registers) GELU runs on the stored tile, the same operations on the
        // same values: with it in the loop over `acc`, LLVM kept `acc` on the stack and stored it
        // after every multiply-add (S0 292 million instructions a pass in `f32` against 192,
        // 198 in `f16` against 129). On x86 it runs on the registers, as measured there.
        let gelu_in_registers = t.gelu && !L::QUAD_IN_REGISTER;
        for (r, row) in acc.iter().enumerate() {
            let out = t.dst.add(r * t.dst_row_stride);
            for (v, &value) in row.iter().enumerate() {
                let value = if gelu_in_registers { gelu_lanes(lanes, value) } else { value };
                lanes.store(out.add(v * width), value);
            }
        }
        if t.gelu && L::QUAD_IN_REGISTER {
            for r in 0..ROWS {
                let out = t.dst.add(r * t.dst_row_stride);
                for v in 0..VECTORS {
                    lanes.store(out.add(v * width), gelu_lanes(lanes, lanes.load(out.add(v * width))));
                }
            }
        }
        if tile.width < panel {
            unstage(&staged, tile, ROWS, panel);
        }
    }
}

/// Depth steps `step..step + L::STEPS` of a tile: one quad ([`Lanes::Quad`]) per row, its
/// lanes the steps. On aarch64 a quad is one NEON register, and each step's multiply-adds take
/// their lane of it (`fmla v.4s, v.4s, v.s[i]`, or `v.8h, v.8h, v.h[i]` in `f16`, whose quads
/// are eight steps: a whole register): one load per row every four steps instead of a
/// load-and-broadcast (`ld1r`) per row and step, and (as LLVM compiles it) the accumulators
/// stay in registers, where the one-step loop also stored all 24 to the stack on every step. A
/// main loop of 124 instructions per 96 `fmla` against 63 per 24: S0's pass went from 305 to
/// 197 million instructions, L's from 1816 to 1078 (`core/scripts/aarch64-insn.sh`, with the
/// prefetch below once per quad). Elsewhere each value is broadcast from memory when its step
/// needs it (x86's `vbroadcastss` is a load). The same multiply-adds in the same order either
/// way.
///
/// # Safety
/// The steps lie inside the tile's depth.
#[inline(always)]
unsafe fn quad_steps<L: Lanes, const ROWS: usize, const VECTORS: usize>(
    lanes: L,
    acc: &mut [[L::Vector; VECTORS]; ROWS],
    t: Tile<L::Value>,
    step: usize,
) {
    // SAFETY: the caller's steps, inside the tile's operands.
    unsafe {
        let quads: [L::Quad; ROWS] = std::array::from_fn(|r| lanes.quad(t.a.add(r * t.a_row_stride + step)));
        let panel = VECTORS * L::LANES;
        let b = t.b.add(step * panel);
        quad_step::<L, ROWS, VECTORS, 0>(lanes, acc, &quads, b);
        quad_step::<L, ROWS, VECTORS, 1>(lanes, acc, &quads, b.add(panel));
        quad_step::<L, ROWS, VECTORS, 2>(lanes, acc, &quads, b.add(2 * panel));
        quad_step::<L, ROWS, VECTORS, 3>(lanes, acc, &quads, b.add(3 * panel));
        if L::STEPS == 8 {
            quad_step::<L, ROWS, VECTORS, 4>(lanes, acc, &quads, b.add(4 * panel));
            quad_step::<L, ROWS, VECTORS, 5>(lanes, acc, &quads, b.add(5 * panel));
            quad_step::<L, ROWS, VECTORS, 6>(lanes, acc, &quads, b.add(6 * panel));
            quad_step::<L, ROWS, VECTORS, 7>(lanes, acc, &quads, b.add(7 * panel));
        }
    }
}

/// One depth step of a tile: `acc[r][v] += a[r, step] · b[step, v]` with `a`'s values lane
/// `LANE` of the rows' quads and `b` the panel's row of the step. Where a quad is a register
/// (NEON), vector by vector of the panel, so that one weight vector is live beside the
/// accumulators (24 in `f32`, 12 in `f16`) and 6 quads (30 of NEON's 32 registers at most);
/// elsewhere row by row with the panel's vectors loaded first, so that one broadcast is live
/// beside the accumulators and the weights (15 of AVX2's 16). Each accumulator gets the same
/// multiply-add either way.
#[inline(always)]
unsafe fn quad_step<L: Lanes, const ROWS: usize, const VECTORS: usize, const LANE: i32>(
    lanes: L,
    acc: &mut [[L::Vector; VECTORS]; ROWS],
    quads: &[L::Quad; ROWS],
    b: *const L::Value,
) {
    let weight = |v: usize| unsafe { lanes.load(b.add(v * L::LANES)) };
    // SAFETY: the caller's panel row and quads.
    unsafe {
        if L::QUAD_IN_REGISTER {
            for v in 0..VECTORS {
                let w = weight(v);
                for (row, &quad) in acc.iter_mut().zip(quads) {
                    row[v] = lanes.mul_add(lanes.quad_lane::<LANE>(quad), w, row[v]);
                }
            }
        } else {
            let weights: [L::Vector; VECTORS] = std::array::from_fn(weight);
            for (row, &quad) in acc.iter_mut().zip(quads) {
                let x = lanes.quad_lane::<LANE>(quad);
                for (value, &w) in row.iter_mut().zip(&weights) {
                    *value = lanes.mul_add(x, w, *value);
                }
            }
        }
    }
}

/// A narrow tile's rows of `dst` and its bias, padded to a whole panel (rows a panel apart).
struct Staged<E> {
    dst: [E; TILE_ROWS * MAX_PANEL],
    bias: [E; MAX_PANEL],
}

/// Fills `slot` from `tile` (`rows` high, `tile.width` wide, the padding zero) and returns the
/// tile pointed at the copy, whose rows are `panel` values apart.
///
/// # Safety
/// `tile` must name `rows` rows of `tile.width` values of `dst` and, if it has one, a bias of
/// `tile.width` values; `panel` is at most [`MAX_PANEL`].
#[inline(always)]
unsafe fn stage<E: Element>(slot: &mut MaybeUninit<Staged<E>>, tile: Tile<E>, rows: usize, panel: usize) -> Tile<E> {
    let staged = slot.write(Staged { dst: [E::ZERO; TILE_ROWS * MAX_PANEL], bias: [E::ZERO; MAX_PANEL] });
    let width = tile.width;
    // SAFETY: the caller's guarantees.
    unsafe {
        let mut bias = |source: Option<*const E>| {
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
                std::ptr::copy_nonoverlapping(tile.dst.add(r * tile.dst_row_stride), staged.dst.as_mut_ptr().add(r * panel), width);
            }
        }
        Tile { dst: staged.dst.as_mut_ptr(), dst_row_stride: panel, width: panel, start, ..tile }
    }
}

/// Writes the copy's `tile.width` columns back to `tile`'s `rows` rows of `dst`.
///
/// # Safety
/// [`stage`] must have filled `slot` for this tile with this `panel`.
#[inline(always)]
unsafe fn unstage<E>(slot: &MaybeUninit<Staged<E>>, tile: Tile<E>, rows: usize, panel: usize) {
    // SAFETY: the caller's guarantees.
    unsafe {
        let staged = slot.assume_init_ref();
        for r in 0..rows {
            std::ptr::copy_nonoverlapping(staged.dst.as_ptr().add(r * panel), tile.dst.add(r * tile.dst_row_stride), tile.width);
        }
    }
}

/// Asks for the cache line holding `address` to be brought into L1 (a hint, which never
/// faults); nothing on other architectures.
#[inline(always)]
fn prefetch(address: *const u8) {
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
    use half::f16;

    use super::*;
    use crate::kernels::test_values as values;

    /// Every tail of the 6-row tile, depths of one value, of one block plus one, and of three
    /// blocks; two whole panels, and a last panel 5 or 3 wide; with bias, residual and GELU,
    /// against an `f64` reference. Outside the `n` columns `dst` stays untouched.
    #[test]
    fn panels_match_reference_on_awkward_shapes() {
        for n in [2 * f32::PANEL, f32::PANEL + 5, 3] {
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
        for (k, n) in [(7, 3), (DEPTH_BLOCK + 1, f32::PANEL + 5), (176, 1000)] {
            let (m, a, b) = (13, values(13 * k, 1), values(k * n, 2));
            let packed: Vec<f32> = pack_panels(Matrix::row_major(&b, k, n));
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
        let packed: Vec<f32> = pack_panels(Matrix::row_major(&b, k, n));
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

    /// The product in `f16` (half-precision lanes where the CPU has them, `f32` lanes on `f16`
    /// values elsewhere) against the `f32` product of the same, rounded operands, on the shapes
    /// of [`panels_match_reference_on_awkward_shapes`], `f16`'s panels two whole ones, a last
    /// narrow one (16 wide) full or 5 wide, a last wide one 21 wide, and 3 columns. The bound
    /// is `f16`'s: 2e-3 of the sum of the magnitudes the output adds up (a running sum in `f16`
    /// rounds at 4.9e-4 of itself), plus GELU's own error in `f16` (5.5e-3,
    /// [`super::super::gelu`]).
    #[test]
    fn half_products_match_f32_on_awkward_shapes() {
        let panel = f16::PANEL;
        for n in [2 * panel, panel + NARROW_PANEL, panel + 5, panel + 21, 3] {
            for m in [1, 5, 6, 7, 13] {
                for k in [1, 7, DEPTH_BLOCK + 1, 3 * DEPTH_BLOCK - 5] {
                    check_half_product(m, k, n);
                }
            }
        }
    }

    fn check_half_product(m: usize, k: usize, n: usize) {
        let stride = n + 2;
        let round = |values: Vec<f32>| values.into_iter().map(|v| f16::from_f32(v).to_f32()).collect::<Vec<_>>();
        let (a, b, bias, residual) = (round(values(m * k, 1)), round(values(k * n, 2)), round(values(n, 3)), round(values(m * stride, 4)));
        let half = |values: &[f32]| values.iter().map(|&v| f16::from_f32(v)).collect::<Vec<_>>();
        let (packed, packed_half): (Vec<f32>, Vec<f16>) = (pack_panels(Matrix::row_major(&b, k, n)), pack_panels(Matrix::row_major(&b, k, n)));
        let (a_half, bias_half) = (half(&a), half(&bias));
        for (accumulate, gelu) in [(false, false), (true, false), (false, true)] {
            let mut want = residual.clone();
            let mut got = half(&residual);
            // SAFETY: every operand is as large as the product names.
            unsafe {
                multiply(Panels { a: a.as_ptr(), a_row_stride: k, b: packed.as_ptr(), dst: want.as_mut_ptr(), dst_row_stride: stride, m, k, n, bias: Some(bias.as_ptr()), accumulate, gelu });
                multiply(Panels { a: a_half.as_ptr(), a_row_stride: k, b: packed_half.as_ptr(), dst: got.as_mut_ptr(), dst_row_stride: stride, m, k, n, bias: Some(bias_half.as_ptr()), accumulate, gelu });
            }
            for i in 0..m {
                for j in 0..n {
                    let magnitude: f32 = (0..k).map(|p| (a[i * k + p] * b[p * n + j]).abs()).sum::<f32>()
                        + bias[j].abs()
                        + if accumulate { residual[i * stride + j].abs() } else { 0.0 };
                    let (g, w) = (got[i * stride + j].to_f32(), want[i * stride + j]);
                    let bound = 2e-3 * magnitude + 1e-3 * w.abs() + if gelu { 5.5e-3 * w.abs().max(1.0) } else { 0.0 };
                    assert!((g - w).abs() <= bound, "m {m} k {k} n {n} ({i}, {j}) accumulate {accumulate} gelu {gelu}: {g} vs {w}");
                }
            }
        }
    }

    /// In `f16` too, each row of a product is the same bits as that row alone.
    #[test]
    fn half_rows_do_not_depend_on_the_tile_they_fall_in() {
        let (m, k, n) = (13, DEPTH_BLOCK + 1, f16::PANEL + 5);
        let a: Vec<f16> = values(m * k, 1).into_iter().map(f16::from_f32).collect();
        let packed: Vec<f16> = pack_panels(Matrix::row_major(&values(k * n, 2), k, n));
        let product = |rows: std::ops::Range<usize>| {
            let mut dst = vec![f16::ZERO; rows.len() * n];
            // SAFETY: `a` holds the rows named, `dst` is `rows x n`, `packed` `k x n`.
            unsafe {
                multiply(Panels { a: a.as_ptr().add(rows.start * k), a_row_stride: k, b: packed.as_ptr(), dst: dst.as_mut_ptr(), dst_row_stride: n, m: rows.len(), k, n, bias: None, accumulate: false, gelu: true })
            };
            dst
        };
        let whole = product(0..m);
        for row in 0..m {
            assert_eq!(&whole[row * n..][..n], product(row..row + 1).as_slice(), "row {row}");
        }
    }
}
