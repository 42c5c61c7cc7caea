//! Attention-bias index tables, computed rather than loaded (timm builds them in
//! `Attention2d.__init__` and `Attention2dDownsample.__init__`; the official checkpoints
//! store them as `attention_bias_idxs`, which the loader ignores).
//!
//! Entry `[query, key]` of a table is `|Δrow| * width + |Δcol|` between the two token
//! positions, so one learned bias per head and per relative offset is shared by every pair of
//! tokens at that offset.

use crate::config::{Config, NUM_STAGES};

/// Side of the grid `Attention2d` attends over: 7 in both attention stages (stage 2 attends
/// after its stride-2 convolution on the 14x14 map, stage 3 runs at 7x7).
pub const ATTENTION_GRID: usize = 7;
/// Tokens of `Attention2d` (7x7).
pub const ATTENTION_TOKENS: usize = ATTENTION_GRID * ATTENTION_GRID;
/// Side of the key grid of `Attention2dDownsample` (the 14x14 map entering stage 3).
pub const DOWNSAMPLE_KEY_GRID: usize = 14;
/// Keys of `Attention2dDownsample` (14x14).
pub const DOWNSAMPLE_KEY_TOKENS: usize = DOWNSAMPLE_KEY_GRID * DOWNSAMPLE_KEY_GRID;
/// Queries of `Attention2dDownsample` (every other row and column: 7x7).
pub const DOWNSAMPLE_QUERY_TOKENS: usize = ATTENTION_TOKENS;

const _: () = assert!(Config::resolution(NUM_STAGES - 1) == ATTENTION_GRID);

fn offset_index(query: (usize, usize), key: (usize, usize), width: usize) -> usize {
    query.0.abs_diff(key.0) * width + query.1.abs_diff(key.1)
}

fn table(queries: &[(usize, usize)], keys: &[(usize, usize)], width: usize) -> Vec<usize> {
    queries
        .iter()
        .flat_map(|&q| keys.iter().map(move |&k| offset_index(q, k, width)))
        .collect()
}

fn grid(side: usize, step: usize) -> Vec<(usize, usize)> {
    (0..side)
        .step_by(step)
        .flat_map(|row| (0..side).step_by(step).map(move |col| (row, col)))
        .collect()
}

/// `[49, 49]` table of `Attention2d` (row-major).
pub fn attention() -> Vec<usize> {
    let tokens = grid(ATTENTION_GRID, 1);
    table(&tokens, &tokens, ATTENTION_GRID)
}

/// `[49, 196]` table of `Attention2dDownsample`: queries on the even rows and columns of the
/// 14x14 key grid.
pub fn attention_downsample() -> Vec<usize> {
    table(&grid(DOWNSAMPLE_KEY_GRID, 2), &grid(DOWNSAMPLE_KEY_GRID, 1), DOWNSAMPLE_KEY_GRID)
}

/// Expands learned biases `[heads, offsets]` through `table` (`[queries, keys]`) to
/// `[heads, queries, keys]`: `attention_biases[:, attention_bias_idxs]`.
pub fn gather(biases: &[f32], offsets: usize, table: &[usize]) -> Vec<f32> {
    biases
        .chunks_exact(offsets)
        .flat_map(|head| table.iter().map(move |&i| head[i]))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attention_table_is_symmetric_with_zero_diagonal() {
        let t = attention();
        assert_eq!(t.len(), ATTENTION_TOKENS * ATTENTION_TOKENS);
        for q in 0..ATTENTION_TOKENS {
            assert_eq!(t[q * ATTENTION_TOKENS + q], 0);
            for k in 0..ATTENTION_TOKENS {
                assert_eq!(t[q * ATTENTION_TOKENS + k], t[k * ATTENTION_TOKENS + q]);
            }
        }
        // token 0 at (0,0) and token 48 at (6,6): offset (6,6) -> 6*7+6
        assert_eq!(t[48], 48);
    }

    #[test]
    fn downsample_table_uses_every_offset_of_the_key_grid() {
        let t = attention_downsample();
        assert_eq!(t.len(), DOWNSAMPLE_QUERY_TOKENS * DOWNSAMPLE_KEY_TOKENS);
        assert_eq!(*t.iter().max().unwrap(), DOWNSAMPLE_KEY_TOKENS - 1);
        // query 1 sits at (0,2); key 0 at (0,0): offset 2
        assert_eq!(t[DOWNSAMPLE_KEY_TOKENS], 2);
    }
}
