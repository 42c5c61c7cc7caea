//! Matrix products through the `gemm` crate (the one burn-flex uses), with the bias, the
//! residual and GELU applied to each output block while it is still in cache, and the work
//! split over the calling rayon pool by rows or, when rows are few (the 7x7 stages), by
//! columns, so that each core streams only its share of the weights.

use gemm::{Parallelism, gemm};
use rayon::prelude::*;

use super::gelu::gelu_in_place;

/// A read-only matrix view: element `(r, c)` is `data[r * row_stride + c * col_stride]`.
#[derive(Debug, Clone, Copy)]
pub struct Matrix<'a> {
    /// Backing storage.
    pub data: &'a [f32],
    /// Rows.
    pub rows: usize,
    /// Columns.
    pub cols: usize,
    /// Elements between two rows.
    pub row_stride: usize,
    /// Elements between two columns.
    pub col_stride: usize,
}

impl<'a> Matrix<'a> {
    /// A row-major `rows × cols` matrix.
    pub fn row_major(data: &'a [f32], rows: usize, cols: usize) -> Matrix<'a> {
        Matrix { data, rows, cols, row_stride: cols, col_stride: 1 }
    }

    /// The transpose of a row-major `cols × rows` matrix (a `[out, in]` weight read as
    /// `[in, out]`), without moving it.
    pub fn transposed(data: &'a [f32], rows: usize, cols: usize) -> Matrix<'a> {
        Matrix { data, rows, cols, row_stride: 1, col_stride: rows }
    }

    fn rows_from(self, start: usize, count: usize) -> Matrix<'a> {
        let offset = if count == 0 { 0 } else { start * self.row_stride };
        Matrix { data: &self.data[offset..], rows: count, ..self }
    }

    fn cols_from(self, start: usize, count: usize) -> Matrix<'a> {
        let offset = if count == 0 { 0 } else { start * self.col_stride };
        Matrix { data: &self.data[offset..], cols: count, ..self }
    }

    /// Whether every element the view names lies inside `data`.
    fn in_bounds(&self) -> bool {
        self.rows == 0
            || self.cols == 0
            || (self.rows - 1) * self.row_stride + (self.cols - 1) * self.col_stride < self.data.len()
    }
}

/// What happens around the product `a · b` in the destination.
#[derive(Debug, Clone, Copy, Default)]
pub struct Epilogue<'a> {
    /// Added to every row (a convolution's folded bias).
    pub bias: Option<&'a [f32]>,
    /// Keep the destination's contents and add to them (a residual connection).
    pub accumulate: bool,
    /// Apply GELU to the result.
    pub gelu: bool,
}

/// `dst[i, j] (+)= bias[j] + Σ_k a[i, k] · b[k, j]`, then GELU, on the calling thread; `dst`
/// is row-major with `dst_row_stride` elements between rows.
pub fn matmul(dst: &mut [f32], dst_row_stride: usize, a: Matrix, b: Matrix, epilogue: Epilogue) {
    let (m, n) = (a.rows, b.cols);
    assert!(m == 0 || n == 0 || (m - 1) * dst_row_stride + n <= dst.len(), "matmul: destination too small");
    // SAFETY: the assert keeps every row segment inside `dst`, which this call borrows whole.
    unsafe { matmul_raw(dst.as_mut_ptr(), dst_row_stride, a, b, epilogue) }
}

/// [`matmul`] on a raw destination.
///
/// # Safety
/// Row segments `dst[i * dst_row_stride..][..b.cols]` for `i < a.rows` must be valid for writes
/// and written by no one else during the call.
unsafe fn matmul_raw(dst: *mut f32, dst_row_stride: usize, a: Matrix, b: Matrix, epilogue: Epilogue) {
    let (m, n, k) = (a.rows, b.cols, a.cols);
    assert!(a.in_bounds() && b.in_bounds() && a.cols == b.rows, "matmul: operands out of bounds");
    if m == 0 || n == 0 {
        return;
    }
    // SAFETY: the caller guarantees each row segment is valid and exclusively ours.
    let row = |i: usize| unsafe { std::slice::from_raw_parts_mut(dst.add(i * dst_row_stride), n) };
    for i in 0..m {
        let row = row(i);
        match (epilogue.bias, epilogue.accumulate) {
            (Some(bias), true) => row.iter_mut().zip(&bias[..n]).for_each(|(d, b)| *d += b),
            (Some(bias), false) => row.copy_from_slice(&bias[..n]),
            (None, true) => {}
            (None, false) => row.fill(0.0),
        }
    }
    if k > 0 {
        // SAFETY: `in_bounds` keeps every operand index inside its slice; the destination
        // rows are the caller's.
        unsafe {
            gemm(
                m,
                n,
                k,
                dst,
                1,
                dst_row_stride as isize,
                true,
                a.data.as_ptr(),
                a.col_stride as isize,
                a.row_stride as isize,
                b.data.as_ptr(),
                b.col_stride as isize,
                b.row_stride as isize,
                1.0,
                1.0,
                false,
                false,
                false,
                Parallelism::None,
            );
        }
    }
    if epilogue.gelu {
        (0..m).for_each(|i| gelu_in_place(row(i)));
    }
}

/// Rows below which a product is split by columns instead (keeps both cores busy on the 7x7
/// stages without each reading every weight).
const MIN_ROWS_PER_TASK: usize = 48;
/// Column blocks stay multiples of this (a few SIMD registers wide).
const COLUMN_ALIGN: usize = 16;

/// [`matmul`] into a contiguous row-major `dst[a.rows, b.cols]`, split over the rayon pool.
pub fn par_matmul(dst: &mut [f32], a: Matrix, b: Matrix, epilogue: Epilogue) {
    let (m, n) = (a.rows, b.cols);
    assert_eq!(dst.len(), m * n, "par_matmul: destination size");
    let tasks = rayon::current_num_threads();
    if tasks == 1 || m * n * a.cols < 32 * 1024 {
        return matmul(dst, n, a, b, epilogue);
    }
    if m >= tasks * MIN_ROWS_PER_TASK || n < 2 * COLUMN_ALIGN {
        let rows_per_task = m.div_ceil(tasks);
        dst.par_chunks_mut(rows_per_task * n).enumerate().for_each(|(task, block)| {
            let rows = block.len() / n;
            matmul(block, n, a.rows_from(task * rows_per_task, rows), b, epilogue);
        });
    } else {
        let cols_per_task = n.div_ceil(tasks).div_ceil(COLUMN_ALIGN) * COLUMN_ALIGN;
        let dst = SharedDst(dst.as_mut_ptr());
        (0..n.div_ceil(cols_per_task)).into_par_iter().for_each(|task| {
            let start = task * cols_per_task;
            let cols = cols_per_task.min(n - start);
            let bias = epilogue.bias.map(|bias| &bias[start..start + cols]);
            // SAFETY: `dst` holds `m` rows of `n`; this task alone writes columns
            // `start..start + cols` of each.
            unsafe { matmul_raw(dst.at(start), n, a, b.cols_from(start, cols), Epilogue { bias, ..epilogue }) }
        });
    }
}

/// The destination shared by column tasks.
#[derive(Clone, Copy)]
struct SharedDst(*mut f32);

// SAFETY: tasks write disjoint column ranges through it (see `par_matmul`).
unsafe impl Send for SharedDst {}
unsafe impl Sync for SharedDst {}

impl SharedDst {
    /// # Safety
    /// `offset` must lie inside the destination.
    unsafe fn at(self, offset: usize) -> *mut f32 {
        unsafe { self.0.add(offset) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reference(a: &[f32], b: &[f32], (m, k, n): (usize, usize, usize)) -> Vec<f32> {
        (0..m)
            .flat_map(|i| (0..n).map(move |j| (0..k).map(|p| f64::from(a[i * k + p]) * f64::from(b[p * n + j])).sum::<f64>() as f32))
            .collect()
    }

    fn values(len: usize, seed: u32) -> Vec<f32> {
        (0..len).map(|i| ((i as u32).wrapping_mul(2_654_435_761).wrapping_add(seed) >> 8) as f32 / (1 << 24) as f32 - 0.5).collect()
    }

    /// Row and column splits, shapes that are not multiples of any block, bias and residual.
    #[test]
    fn par_matmul_matches_reference_on_awkward_shapes() {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(3).build().unwrap();
        for &(m, k, n) in &[(1, 1, 1), (7, 5, 3), (49, 96, 1024), (50, 33, 70), (300, 17, 45), (2, 300, 200)] {
            let a = values(m * k, 1);
            let b = values(k * n, 2);
            let bias = values(n, 3);
            let residual = values(m * n, 4);
            let expected: Vec<f32> = reference(&a, &b, (m, k, n))
                .iter()
                .enumerate()
                .map(|(i, v)| v + bias[i % n] + residual[i])
                .collect();
            let mut dst = residual.clone();
            let epilogue = Epilogue { bias: Some(&bias), accumulate: true, gelu: false };
            pool.install(|| par_matmul(&mut dst, Matrix::row_major(&a, m, k), Matrix::row_major(&b, k, n), epilogue));
            for (got, want) in dst.iter().zip(&expected) {
                assert!((got - want).abs() < 1e-4, "({m},{k},{n}): {got} vs {want}");
            }
        }
    }
}
