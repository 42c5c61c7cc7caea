//! Parameter and MAC counts by the rules of the official `toolbox.py` (its forward hooks, as
//! the paper's Table 1 was computed), from the configuration alone.
//!
//! `toolbox.py` counts, at batch 1 and 224x224: every Conv2d `Cout·Hout·Wout·k·k·Cin/groups`;
//! every Linear `out·in`; every GELU `C·H` of its output (one element per channel row: a
//! quirk of the hook, kept so the totals match the paper); `AvgPool2d` `C·Hout·Wout·k·k`;
//! each attention module `key_dim·N·N2·heads + dh·N·N2`. BatchNorm is not counted. Its
//! "params" are every conv's `weight.numel() + weight.size(1)` plus every Linear's weight and
//! bias; BatchNorm, layer scales and attention biases are not counted.

use crate::config::{
    ATTENTION_KEY_DIM, ATTENTION_RATIO, Config, DOWNSAMPLE_KEY_DIM, NUM_HEADS, NUM_STAGES,
};
use crate::model::bias_index::{ATTENTION_GRID, ATTENTION_TOKENS, DOWNSAMPLE_KEY_TOKENS};
use crate::weights::spec::{self, expected_tensors};

/// True parameter count: `sum(p.numel() for p in model.parameters())`.
pub fn parameter_count(config: &Config) -> usize {
    spec::parameter_count(config)
}

/// `toolbox.py`'s parameter count (the paper's "Params" column).
pub fn toolbox_parameters(config: &Config) -> usize {
    expected_tensors(config)
        .iter()
        .map(|t| match (t.key.rsplit_once('.'), t.shape.as_slice()) {
            (Some((_, "weight")), [_, in_per_group, _, _]) => t.shape.iter().product::<usize>() + in_per_group,
            (Some((module, "weight" | "bias")), _) if module == "head" || module == "head_dist" => {
                t.shape.iter().product()
            }
            _ => 0,
        })
        .sum()
}

#[derive(Default)]
struct MacCounter {
    total: u64,
}

impl MacCounter {
    fn conv(&mut self, out: usize, side: usize, kernel: usize, in_per_group: usize) {
        self.total += (out * side * side * kernel * kernel * in_per_group) as u64;
    }

    fn gelu(&mut self, channels: usize, side: usize) {
        self.total += (channels * side) as u64;
    }

    fn attention(&mut self, key_dim: usize, value_channels: usize, keys: usize, queries: usize) {
        self.total += (key_dim * keys * queries * NUM_HEADS + value_channels * keys * queries) as u64;
    }

    /// `Attention2d` on a `side`x`side` map (stage 2's subsamples 14 -> 7 and upsamples back).
    fn attention2d(&mut self, dim: usize, side: usize, strided: bool) {
        let key_channels = ATTENTION_KEY_DIM * NUM_HEADS;
        let value_channels = key_channels * ATTENTION_RATIO;
        let grid = ATTENTION_GRID;
        if strided {
            self.conv(dim, grid, 3, 1);
        }
        self.conv(key_channels, grid, 1, dim);
        self.conv(key_channels, grid, 1, dim);
        self.conv(value_channels, grid, 1, dim);
        self.conv(value_channels, grid, 3, 1);
        self.conv(NUM_HEADS, ATTENTION_TOKENS, 1, NUM_HEADS); // talking_head1 on [8, N, N]
        self.conv(NUM_HEADS, ATTENTION_TOKENS, 1, NUM_HEADS); // talking_head2
        self.attention(ATTENTION_KEY_DIM, value_channels, ATTENTION_TOKENS, ATTENTION_TOKENS);
        self.gelu(value_channels, side);
        self.conv(dim, side, 1, value_channels);
    }

    /// `Attention2dDownsample` from a 14x14 map of `dim` channels to 7x7 of `out_dim`.
    fn attention_downsample(&mut self, dim: usize, out_dim: usize) {
        let key_channels = DOWNSAMPLE_KEY_DIM * NUM_HEADS;
        let value_channels = key_channels * ATTENTION_RATIO;
        let (grid, key_grid) = (ATTENTION_GRID, ATTENTION_GRID * 2);
        self.conv(dim, grid, 3, 1); // q.local
        self.total += (dim * grid * grid) as u64; // q.pool, AvgPool2d(1, 2)
        self.conv(key_channels, grid, 1, dim); // q.proj
        self.conv(key_channels, key_grid, 1, dim);
        self.conv(value_channels, key_grid, 1, dim);
        self.conv(value_channels, grid, 3, 1);
        self.attention(DOWNSAMPLE_KEY_DIM, value_channels, DOWNSAMPLE_KEY_TOKENS, ATTENTION_TOKENS);
        self.gelu(value_channels, grid);
        self.conv(out_dim, grid, 1, value_channels);
    }

    fn mlp(&mut self, dim: usize, hidden: usize, side: usize) {
        self.conv(hidden, side, 1, dim);
        self.gelu(hidden, side);
        self.conv(hidden, side, 3, 1);
        self.gelu(hidden, side);
        self.conv(dim, side, 1, hidden);
    }
}

/// `toolbox.py`'s MAC count for one 224x224 image (the paper's "GMACs" column, times 1e9).
pub fn toolbox_macs(config: &Config) -> u64 {
    let mut count = MacCounter::default();
    let widths = config.widths;
    let stem_side = Config::resolution(0) * 2;
    count.conv(widths[0] / 2, stem_side, 3, 3);
    count.gelu(widths[0] / 2, stem_side);
    count.conv(widths[0], Config::resolution(0), 3, widths[0] / 2);
    count.gelu(widths[0], Config::resolution(0));
    for stage in 0..NUM_STAGES {
        let side = Config::resolution(stage);
        let dim = widths[stage];
        if stage > 0 {
            count.conv(dim, side, 3, widths[stage - 1]);
            if stage == 3 {
                count.attention_downsample(widths[2], dim);
            }
        }
        for (block, &ratio) in config.mlp_ratios[stage].iter().enumerate() {
            if config.block_uses_attention(stage, block) {
                count.attention2d(dim, side, stage == 2);
            }
            count.mlp(dim, dim * ratio, side);
        }
    }
    count.total += 2 * (config.num_classes * widths[3]) as u64; // head, head_dist
    count.total
}
