//! What the network's matrix products share: read-only matrix views ([`Matrix`]), what happens
//! around a product in its destination ([`Epilogue`]), and how a product is cut over the
//! kernels' thread pool ([`for_each_block`]): by rows or, when rows are few (the 7x7 stages),
//! by columns, so that each core streams only its share of the weights. The products
//! themselves are the micro-kernel's ([`super::microkernel`]), which sums every output in an
//! order fixed by the layer, however the product is cut.

use super::parallel;

/// A read-only matrix view: element `(r, c)` is `data[r * row_stride + c * col_stride]`.
#[derive(Debug, Clone, Copy)]
pub struct Matrix<'a, T = f32> {
    /// Backing storage.
    pub data: &'a [T],
    /// Rows.
    pub rows: usize,
    /// Columns.
    pub cols: usize,
    /// Elements between two rows.
    pub row_stride: usize,
    /// Elements between two columns.
    pub col_stride: usize,
}

impl<'a, T> Matrix<'a, T> {
    /// A row-major `rows × cols` matrix.
    pub fn row_major(data: &'a [T], rows: usize, cols: usize) -> Matrix<'a, T> {
        Matrix { data, rows, cols, row_stride: cols, col_stride: 1 }
    }

    /// The `rows × cols` matrix whose transpose `data` holds row-major: PyTorch's `[out, in]`
    /// weight as the product's `[in, out]`.
    pub fn transposed(data: &'a [T], rows: usize, cols: usize) -> Matrix<'a, T> {
        Matrix { data, rows, cols, row_stride: 1, col_stride: rows }
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
pub struct Epilogue<'a, E = f32> {
    /// Added to every row (a convolution's folded bias).
    pub bias: Option<&'a [E]>,
    /// Keep the destination's contents and add to them (a residual connection).
    pub accumulate: bool,
    /// Apply GELU to the result.
    pub gelu: bool,
}

/// Rows below which a product is split by columns instead (keeps both cores busy on the 7x7
/// stages without each reading every weight).
const MIN_ROWS_PER_TASK: usize = 48;
/// Tasks per thread a product is cut into, at most.
const TASKS_PER_THREAD: usize = 4;

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
