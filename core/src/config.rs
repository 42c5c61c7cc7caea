//! Architecture presets, ported from the tables at the top of timm's
//! `timm/models/efficientformer_v2.py` (`EfficientFormer_width`, `EfficientFormer_depth`,
//! `EfficientFormer_expansion_ratios`, and the `num_vit` of each `efficientformerv2_*`
//! constructor), which are the paper's Table 1 (arXiv 2212.08059).

use std::fmt;

/// The four published EfficientFormerV2 sizes, or a network of another width/depth built from
/// the same blocks (a fine-tuned head with fewer classes, a reduced test model).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Variant {
    /// EfficientFormerV2-S0: 3.5M parameters, 0.40 GMACs.
    S0,
    /// EfficientFormerV2-S1: 6.1M parameters, 0.65 GMACs.
    S1,
    /// EfficientFormerV2-S2: 12.6M parameters, 1.25 GMACs.
    S2,
    /// EfficientFormerV2-L: 26.1M parameters, 2.56 GMACs.
    L,
    /// Same blocks, other widths, depths, expansion ratios or class count.
    Custom,
}

impl Variant {
    /// The four published variants, smallest first.
    pub const PUBLISHED: [Variant; 4] = [Variant::S0, Variant::S1, Variant::S2, Variant::L];

    /// Lower-case name as timm spells it (`s0`, `s1`, `s2`, `l`, `custom`).
    pub fn name(self) -> &'static str {
        match self {
            Variant::S0 => "s0",
            Variant::S1 => "s1",
            Variant::S2 => "s2",
            Variant::L => "l",
            Variant::Custom => "custom",
        }
    }

    /// Parses `s0`, `S1`, `efficientformerv2_s2`, `l`, … (case-insensitive).
    pub fn from_name(name: &str) -> Option<Variant> {
        let lower = name.to_ascii_lowercase();
        let short = lower.strip_prefix("efficientformerv2_").unwrap_or(&lower);
        Variant::PUBLISHED.into_iter().find(|v| v.name() == short)
    }

    /// [`Variant::from_name`], with [`crate::Error::InvalidInput`] for an unknown name (the
    /// bindings pass variants across the FFI boundary by name).
    pub fn parse(name: &str) -> crate::Result<Variant> {
        Variant::from_name(name)
            .ok_or_else(|| crate::Error::InvalidInput(format!("unknown variant `{name}` (s0, s1, s2 or l)")))
    }

    /// The preset configuration (`None` for [`Variant::Custom`]).
    pub fn config(self) -> Option<Config> {
        match self {
            Variant::S0 => Some(Config::s0()),
            Variant::S1 => Some(Config::s1()),
            Variant::S2 => Some(Config::s2()),
            Variant::L => Some(Config::l()),
            Variant::Custom => None,
        }
    }
}

impl fmt::Display for Variant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

pub use efficientformer_formats::preprocess::IMAGE_SIZE;
/// Number of stages; stage `i` runs at stride `4 * 2^i`.
pub const NUM_STAGES: usize = 4;
/// `Attention2d` defaults in timm: `key_dim=32, num_heads=8, attn_ratio=4`.
pub const ATTENTION_KEY_DIM: usize = 32;
/// `Attention2dDownsample` defaults in timm: `key_dim=16, num_heads=8, attn_ratio=4`.
pub const DOWNSAMPLE_KEY_DIM: usize = 16;
/// Heads of both attention modules.
pub const NUM_HEADS: usize = 8;
/// Value width per head over key width (`attn_ratio`).
pub const ATTENTION_RATIO: usize = 4;
/// BatchNorm epsilon (`norm_eps=1e-5`).
pub const BATCH_NORM_EPS: f64 = 1e-5;

/// One network's shape: everything the state dict does not say by itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// Channels of each stage (`EfficientFormer_width`).
    pub widths: [usize; NUM_STAGES],
    /// FFN expansion ratio of every block, per stage (`EfficientFormer_expansion_ratios`);
    /// the stage depth is the length (`EfficientFormer_depth`).
    pub mlp_ratios: [Vec<usize>; NUM_STAGES],
    /// How many of the last blocks of stages 2 and 3 carry an attention token mixer.
    pub num_vit: usize,
    /// Classifier outputs (1000 for ImageNet-1k).
    pub num_classes: usize,
}

impl Config {
    /// EfficientFormerV2-S0: widths (32, 48, 96, 176), depths (2, 2, 6, 4), `num_vit=2`.
    pub fn s0() -> Config {
        Config {
            widths: [32, 48, 96, 176],
            mlp_ratios: [vec![4; 2], vec![4; 2], vec![4, 3, 3, 3, 4, 4], vec![4, 3, 3, 4]],
            num_vit: 2,
            num_classes: 1000,
        }
    }

    /// EfficientFormerV2-S1: widths (32, 48, 120, 224), depths (3, 3, 9, 6), `num_vit=2`.
    pub fn s1() -> Config {
        Config {
            widths: [32, 48, 120, 224],
            mlp_ratios: [
                vec![4; 3],
                vec![4; 3],
                vec![4, 4, 3, 3, 3, 3, 4, 4, 4],
                vec![4, 4, 3, 3, 4, 4],
            ],
            num_vit: 2,
            num_classes: 1000,
        }
    }

    /// EfficientFormerV2-S2: widths (32, 64, 144, 288), depths (4, 4, 12, 8), `num_vit=4`.
    pub fn s2() -> Config {
        Config {
            widths: [32, 64, 144, 288],
            mlp_ratios: [
                vec![4; 4],
                vec![4; 4],
                vec![4, 4, 3, 3, 3, 3, 3, 3, 4, 4, 4, 4],
                vec![4, 4, 3, 3, 3, 3, 4, 4],
            ],
            num_vit: 4,
            num_classes: 1000,
        }
    }

    /// EfficientFormerV2-L: widths (40, 80, 192, 384), depths (5, 5, 15, 10), `num_vit=6`.
    pub fn l() -> Config {
        Config {
            widths: [40, 80, 192, 384],
            mlp_ratios: [
                vec![4; 5],
                vec![4; 5],
                vec![4, 4, 4, 4, 3, 3, 3, 3, 3, 3, 3, 4, 4, 4, 4],
                vec![4, 4, 4, 3, 3, 3, 3, 4, 4, 4],
            ],
            num_vit: 6,
            num_classes: 1000,
        }
    }

    /// Which published variant this is, or [`Variant::Custom`].
    pub fn variant(&self) -> Variant {
        Variant::PUBLISHED
            .into_iter()
            .find(|v| v.config().as_ref() == Some(self))
            .unwrap_or(Variant::Custom)
    }

    /// Blocks in stage `stage`.
    pub fn depth(&self, stage: usize) -> usize {
        self.mlp_ratios[stage].len()
    }

    /// Whether block `block` of stage `stage` has an attention token mixer
    /// (timm: `block_use_attn and block_idx > depth - num_vit - 1`, `block_use_attn = i >= 2`).
    pub fn block_uses_attention(&self, stage: usize, block: usize) -> bool {
        stage >= 2 && block + self.num_vit >= self.depth(stage)
    }

    /// Side of the token grid of stage `stage` (56, 28, 14, 7 at 224x224 input).
    pub const fn resolution(stage: usize) -> usize {
        IMAGE_SIZE / (4 << stage)
    }
}
