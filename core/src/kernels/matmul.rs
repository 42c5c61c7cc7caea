//! Matrix products through the `gemm` crate (the one burn-flex uses), with the bias, the
//! residual and GELU applied to each output block while it is still in cache, and the work
//! split over the kernels' thread pool ([`parallel`]) by rows or, when rows are few (the 7x7
//! stages), by columns, so that each core streams only its share of the weights.

use std::mem::MaybeUninit;

use gemm::{Parallelism, gemm};

use super::gelu::gelu_in_place;
use super::{buffers, parallel};

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

    /// The `rows × cols` matrix whose transpose `data` holds row-major: PyTorch's `[out, in]`
    /// weight as the product's `[in, out]`.
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
    pub fn in_bounds(&self) -> bool {
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

/// [`matmul`] into rows that need not be initialised (no `accumulate`): every element of the
/// `a.rows` row segments is written.
pub fn matmul_uninit(dst: &mut [MaybeUninit<f32>], dst_row_stride: usize, a: Matrix, b: Matrix, epilogue: Epilogue) {
    let (m, n) = (a.rows, b.cols);
    assert!(!epilogue.accumulate, "matmul_uninit: nothing to accumulate into");
    assert!(m == 0 || n == 0 || (m - 1) * dst_row_stride + n <= dst.len(), "matmul: destination too small");
    // SAFETY: as in `matmul`; without `accumulate` the rows are written before they are read.
    unsafe { matmul_raw(dst.as_mut_ptr().cast(), dst_row_stride, a, b, epilogue) }
}

/// [`matmul`] on a raw destination.
///
/// # Safety
/// Row segments `dst[i * dst_row_stride..][..b.cols]` for `i < a.rows` must be valid for writes
/// and written by no one else during the call; with `epilogue.accumulate` they must hold
/// initialised values, without it they may be uninitialised (they are written before read).
unsafe fn matmul_raw(dst: *mut f32, dst_row_stride: usize, a: Matrix, b: Matrix, epilogue: Epilogue) {
    let (m, n, k) = (a.rows, b.cols, a.cols);
    assert!(a.in_bounds() && b.in_bounds() && a.cols == b.rows, "matmul: operands out of bounds");
    assert!(epilogue.bias.is_none_or(|bias| bias.len() >= n), "matmul: bias too short");
    if m == 0 || n == 0 {
        return;
    }
    for i in 0..m {
        // SAFETY: the caller guarantees each row segment is valid and exclusively ours, and
        // initialised where it is read (`accumulate`).
        unsafe {
            let row = dst.add(i * dst_row_stride);
            match (epilogue.bias, epilogue.accumulate) {
                (Some(bias), true) => std::slice::from_raw_parts_mut(row, n).iter_mut().zip(bias).for_each(|(d, b)| *d += b),
                (Some(bias), false) => std::ptr::copy_nonoverlapping(bias.as_ptr(), row, n),
                (None, true) => {}
                (None, false) => std::ptr::write_bytes(row, 0, n),
            }
        }
    }
    // The depth is cut into equal pieces of at most `DEPTH_PIECE`, each a `gemm` call that
    // accumulates into `dst`: `gemm` then never blocks the depth itself (it would cut it by
    // rules that depend on the product's other sizes), so every output value is summed in the
    // same order however the rows and columns are split: results do not depend on the batch
    // size or the thread count.
    let piece = k.div_ceil(k.div_ceil(DEPTH_PIECE).max(1)).max(1);
    for start in (0..k).step_by(piece) {
        let depth = piece.min(k - start);
        // SAFETY: `in_bounds` keeps every operand index inside its slice; the destination
        // rows are the caller's and initialised.
        unsafe { gemm_accumulate(dst, dst_row_stride, a.cols_from(start, depth), b.rows_from(start, depth)) }
    }
    if epilogue.gelu {
        // SAFETY: as above; every row is initialised by now.
        (0..m).for_each(|i| gelu_in_place(unsafe { std::slice::from_raw_parts_mut(dst.add(i * dst_row_stride), n) }));
    }
}

/// The longest depth `gemm` sums in one block whatever the product's shape (its `kc` is the
/// whole depth up to 512; see `matmul_raw`).
const DEPTH_PIECE: usize = 512;

/// `dst += a · b` through one `gemm` call on the calling thread.
///
/// # Safety
/// As [`matmul_raw`], with the destination rows initialised.
unsafe fn gemm_accumulate(dst: *mut f32, dst_row_stride: usize, a: Matrix, b: Matrix) {
    // SAFETY: the caller's guarantees.
    unsafe {
        gemm(
            a.rows,
            b.cols,
            a.cols,
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

/// Rows below which a product is split by columns instead (keeps both cores busy on the 7x7
/// stages without each reading every weight).
const MIN_ROWS_PER_TASK: usize = 48;
/// Tasks per thread a product is cut into, at most.
const TASKS_PER_THREAD: usize = 4;
/// Column blocks of a `gemm` product stay multiples of this (a few SIMD registers wide).
const COLUMN_ALIGN: usize = 16;

/// [`matmul`] into a contiguous row-major `dst[a.rows, b.cols]`, split over the installed
/// thread pool.
pub fn par_matmul(dst: &mut [f32], a: Matrix, b: Matrix, epilogue: Epilogue) {
    assert_eq!(dst.len(), a.rows * b.cols, "par_matmul: destination size");
    // SAFETY: `dst` is `a.rows × b.cols`, initialised, and borrowed whole by this call.
    unsafe { par_matmul_raw(dst.as_mut_ptr(), a, b, epilogue) }
}

/// [`par_matmul`] into a new `[a.rows, b.cols]` matrix, which each task writes (bias first) as
/// it computes its block: no pass that zeroes it beforehand.
pub fn par_matmul_new(a: Matrix, b: Matrix, epilogue: Epilogue) -> Vec<f32> {
    assert!(!epilogue.accumulate, "par_matmul_new: nothing to accumulate into");
    let len = a.rows * b.cols;
    let mut dst = buffers::take(len);
    // SAFETY: the spare capacity holds `len` values; without `accumulate` every element is
    // written before it is read, and all are written when the call returns.
    unsafe {
        par_matmul_raw(dst.as_mut_ptr(), a, b, epilogue);
        dst.set_len(len);
    }
    dst
}

/// # Safety
/// `dst` must be valid for writes of `a.rows × b.cols` values, used by no one else during the
/// call, and initialised if `epilogue.accumulate`.
unsafe fn par_matmul_raw(dst: *mut f32, a: Matrix, b: Matrix, epilogue: Epilogue) {
    let n = b.cols;
    let dst = parallel::SharedPtr(dst);
    for_each_block([a.rows, n, a.cols], [1, COLUMN_ALIGN], |[first_row, rows], [first_column, columns]| {
        let bias = epilogue.bias.map(|bias| &bias[first_column..first_column + columns]);
        // SAFETY: `dst` holds `a.rows` rows of `n`; this block alone writes its rows and columns.
        unsafe {
            matmul_raw(
                dst.at(first_row * n + first_column),
                n,
                a.rows_from(first_row, rows),
                b.cols_from(first_column, columns),
                Epilogue { bias, ..epilogue },
            )
        }
    });
}

/// Cuts a product of `m` rows, `n` columns and depth `k` over the installed pool, calling
/// `block([first_row, rows], [first_column, columns])` once per piece: whole on one thread
/// or when it is small; else by rows (several tasks per thread, so that a thread the OS
/// delays leaves less of the loop to wait for; each task reads all of `b`, so not many),
/// or, when rows are few (the 7x7 stage), by columns, so that each thread streams only its
/// share of the weights. Pieces start at multiples of `[row_align, column_align]`.
pub fn for_each_block(
    [m, n, k]: [usize; 3],
    [row_align, column_align]: [usize; 2],
    block: impl Fn([usize; 2], [usize; 2]) + Sync,
) {
    let tasks = parallel::current_threads();
    if tasks == 1 || m * n * k < 32 * 1024 {
        return block([0, m], [0, n]);
    }
    if m >= tasks * MIN_ROWS_PER_TASK || n < 2 * column_align {
        let rows_per_task = m.div_ceil(tasks * TASKS_PER_THREAD).max(MIN_ROWS_PER_TASK).next_multiple_of(row_align);
        parallel::for_each_task(m.div_ceil(rows_per_task), |task| {
            let first = task * rows_per_task;
            block([first, rows_per_task.min(m - first)], [0, n]);
        });
    } else {
        let columns_per_task = n.div_ceil(tasks * TASKS_PER_THREAD).next_multiple_of(column_align);
        parallel::for_each_task(n.div_ceil(columns_per_task), |task| {
            let first = task * columns_per_task;
            block([0, m], [first, columns_per_task.min(n - first)]);
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::test_values as values;

    fn reference(a: &[f32], b: &[f32], (m, k, n): (usize, usize, usize)) -> Vec<f32> {
        (0..m)
            .flat_map(|i| (0..n).map(move |j| (0..k).map(|p| f64::from(a[i * k + p]) * f64::from(b[p * n + j])).sum::<f64>() as f32))
            .collect()
    }

    /// Row and column splits, shapes that are not multiples of any block, depths cut into
    /// several pieces, bias and residual.
    #[test]
    fn par_matmul_matches_reference_on_awkward_shapes() {
        let pool = parallel::ThreadPool::new(3).unwrap();
        for &(m, k, n) in &[(1, 1, 1), (7, 5, 3), (49, 96, 1024), (50, 33, 70), (300, 17, 45), (2, 300, 200), (7, 1100, 45), (100, 1537, 33)] {
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
            parallel::install(&pool, || par_matmul(&mut dst, Matrix::row_major(&a, m, k), Matrix::row_major(&b, k, n), epilogue));
            for (got, want) in dst.iter().zip(&expected) {
                assert!((got - want).abs() < 1e-4, "({m},{k},{n}): {got} vs {want}");
            }
        }
    }
}
