//! The tensors a [`Config`] needs, in timm's key layout and `state_dict()` order, and the
//! inverse: the [`Config`] a set of tensors describes.
//!
//! Module order and names follow timm's `efficientformer_v2.py` (`Stem4`,
//! `EfficientFormerV2Stage`, `Downsample`, `Attention2dDownsample`, `EfficientFormerV2Block`,
//! `Attention2d`, `ConvMlpWithNorm`); a module's own parameters come before its children's, as
//! in PyTorch.

use crate::config::{
    ATTENTION_KEY_DIM, ATTENTION_RATIO, Config, DOWNSAMPLE_KEY_DIM, NUM_HEADS, NUM_STAGES,
};
use crate::error::{Error, Result};
use crate::model::bias_index;

use super::state_dict::StateDict;

/// One tensor of the network: timm key and shape.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TensorSpec {
    /// timm-layout key.
    pub key: String,
    /// Shape.
    pub shape: Vec<usize>,
}

impl TensorSpec {
    /// Whether this is a learned parameter (in `model.parameters()`), not a BatchNorm statistic.
    pub fn is_parameter(&self) -> bool {
        !self.key.ends_with("running_mean") && !self.key.ends_with("running_var")
    }
}

#[derive(Default)]
struct SpecBuilder {
    tensors: Vec<TensorSpec>,
}

impl SpecBuilder {
    fn push(&mut self, key: String, shape: Vec<usize>) {
        self.tensors.push(TensorSpec { key, shape });
    }

    /// `nn.Conv2d` with bias.
    fn conv(&mut self, prefix: &str, out: usize, in_per_group: usize, kernel: usize) {
        self.push(format!("{prefix}.weight"), vec![out, in_per_group, kernel, kernel]);
        self.push(format!("{prefix}.bias"), vec![out]);
    }

    /// `nn.BatchNorm2d` (affine, running statistics).
    fn batch_norm(&mut self, prefix: &str, channels: usize) {
        for leaf in ["weight", "bias", "running_mean", "running_var"] {
            self.push(format!("{prefix}.{leaf}"), vec![channels]);
        }
    }

    /// timm `ConvNorm` / `ConvNormAct`: `{prefix}.conv` then `{prefix}.bn`.
    fn conv_norm(&mut self, prefix: &str, out: usize, input: usize, kernel: usize, groups: usize) {
        self.conv(&format!("{prefix}.conv"), out, input / groups, kernel);
        self.batch_norm(&format!("{prefix}.bn"), out);
    }

    /// `Attention2d` (with `stride_conv` in stage 2, whose grid is then 7x7).
    fn attention(&mut self, prefix: &str, dim: usize, strided: bool) {
        let key_channels = ATTENTION_KEY_DIM * NUM_HEADS;
        let value_channels = ATTENTION_KEY_DIM * ATTENTION_RATIO * NUM_HEADS;
        let tokens = bias_index::ATTENTION_TOKENS;
        self.push(format!("{prefix}.attention_biases"), vec![NUM_HEADS, tokens]);
        if strided {
            self.conv_norm(&format!("{prefix}.stride_conv"), dim, dim, 3, dim);
        }
        self.conv_norm(&format!("{prefix}.q"), key_channels, dim, 1, 1);
        self.conv_norm(&format!("{prefix}.k"), key_channels, dim, 1, 1);
        self.conv_norm(&format!("{prefix}.v"), value_channels, dim, 1, 1);
        let v_local = format!("{prefix}.v_local");
        self.conv_norm(&v_local, value_channels, value_channels, 3, value_channels);
        self.conv(&format!("{prefix}.talking_head1"), NUM_HEADS, NUM_HEADS, 1);
        self.conv(&format!("{prefix}.talking_head2"), NUM_HEADS, NUM_HEADS, 1);
        self.conv_norm(&format!("{prefix}.proj"), dim, value_channels, 1, 1);
    }

    /// `Attention2dDownsample` with its `LocalGlobalQuery`.
    fn attention_downsample(&mut self, prefix: &str, dim: usize, out_dim: usize) {
        let key_channels = DOWNSAMPLE_KEY_DIM * NUM_HEADS;
        let value_channels = DOWNSAMPLE_KEY_DIM * ATTENTION_RATIO * NUM_HEADS;
        let tokens = bias_index::DOWNSAMPLE_KEY_TOKENS;
        self.push(format!("{prefix}.attention_biases"), vec![NUM_HEADS, tokens]);
        self.conv(&format!("{prefix}.q.local"), dim, 1, 3);
        self.conv_norm(&format!("{prefix}.q.proj"), key_channels, dim, 1, 1);
        self.conv_norm(&format!("{prefix}.k"), key_channels, dim, 1, 1);
        self.conv_norm(&format!("{prefix}.v"), value_channels, dim, 1, 1);
        let v_local = format!("{prefix}.v_local");
        self.conv_norm(&v_local, value_channels, value_channels, 3, value_channels);
        self.conv_norm(&format!("{prefix}.proj"), out_dim, value_channels, 1, 1);
    }

    /// `EfficientFormerV2Block`: optional token mixer, `ls1`, `ConvMlpWithNorm`, `ls2`.
    fn block(&mut self, prefix: &str, dim: usize, ratio: usize, attention: Option<bool>) {
        if let Some(strided) = attention {
            self.attention(&format!("{prefix}.token_mixer"), dim, strided);
            self.push(format!("{prefix}.ls1.gamma"), vec![dim]);
        }
        let hidden = dim * ratio;
        self.conv_norm(&format!("{prefix}.mlp.fc1"), hidden, dim, 1, 1);
        self.conv_norm(&format!("{prefix}.mlp.mid"), hidden, hidden, 3, hidden);
        self.conv_norm(&format!("{prefix}.mlp.fc2"), dim, hidden, 1, 1);
        self.push(format!("{prefix}.ls2.gamma"), vec![dim]);
    }
}

/// Every tensor `config` needs (BatchNorm step counters excluded), in `state_dict()` order.
pub fn expected_tensors(config: &Config) -> Vec<TensorSpec> {
    let mut spec = SpecBuilder::default();
    let widths = config.widths;
    spec.conv_norm("stem.conv1", widths[0] / 2, 3, 3, 1);
    spec.conv_norm("stem.conv2", widths[0], widths[0] / 2, 3, 1);
    for stage in 0..NUM_STAGES {
        if stage > 0 {
            let prefix = format!("stages.{stage}.downsample");
            spec.conv_norm(&format!("{prefix}.conv"), widths[stage], widths[stage - 1], 3, 1);
            if stage == 3 {
                spec.attention_downsample(&format!("{prefix}.attn"), widths[2], widths[3]);
            }
        }
        for (block, &ratio) in config.mlp_ratios[stage].iter().enumerate() {
            let attention = config.block_uses_attention(stage, block).then_some(stage == 2);
            let prefix = format!("stages.{stage}.blocks.{block}");
            spec.block(&prefix, widths[stage], ratio, attention);
        }
    }
    spec.batch_norm("norm", widths[3]);
    for head in ["head", "head_dist"] {
        spec.push(format!("{head}.weight"), vec![config.num_classes, widths[3]]);
        spec.push(format!("{head}.bias"), vec![config.num_classes]);
    }
    spec.tensors
}

/// Learned parameters of `config` (`sum(p.numel() for p in model.parameters())` in timm).
pub fn parameter_count(config: &Config) -> usize {
    expected_tensors(config)
        .iter()
        .filter(|t| t.is_parameter())
        .map(|t| t.shape.iter().product::<usize>())
        .sum()
}

fn anchor<'a>(state: &'a StateDict, key: &str) -> Result<&'a [usize]> {
    state.shape(key).ok_or_else(|| {
        Error::UnrecognizedModel(format!("no `{key}` among the file's {} tensors", state.tensors.len()))
    })
}

/// The network a state dict describes: widths from the stem and downsample convolutions,
/// depths and expansion ratios from the FFN convolutions, `num_vit` from the attention blocks
/// of the last stage, classes from the head. The caller then checks every tensor against
/// [`expected_tensors`] of the result.
pub fn infer_config(state: &StateDict) -> Result<Config> {
    let mut widths = [0; NUM_STAGES];
    widths[0] = anchor(state, "stem.conv2.conv.weight")?[0];
    for (stage, width) in widths.iter_mut().enumerate().skip(1) {
        *width = anchor(state, &format!("stages.{stage}.downsample.conv.conv.weight"))?[0];
    }
    let mut mlp_ratios: [Vec<usize>; NUM_STAGES] = Default::default();
    for (stage, ratios) in mlp_ratios.iter_mut().enumerate() {
        while let Some(shape) =
            state.shape(&format!("stages.{stage}.blocks.{}.mlp.fc1.conv.weight", ratios.len()))
        {
            if widths[stage] == 0 || shape[0] % widths[stage] != 0 {
                return Err(Error::UnrecognizedModel(format!(
                    "stage {stage} block {} expands {} channels to {}, not a whole ratio",
                    ratios.len(),
                    widths[stage],
                    shape[0]
                )));
            }
            ratios.push(shape[0] / widths[stage]);
        }
        if ratios.is_empty() {
            return Err(Error::UnrecognizedModel(format!(
                "no `stages.{stage}.blocks.0.mlp.fc1.conv.weight`"
            )));
        }
    }
    let num_vit = (0..mlp_ratios[3].len())
        .filter(|b| state.shape(&format!("stages.3.blocks.{b}.token_mixer.q.conv.weight")).is_some())
        .count();
    let num_classes = anchor(state, "head.weight")?[0];
    Ok(Config { widths, mlp_ratios, num_vit, num_classes })
}

/// Checks that `state` holds exactly the tensors of `config`: the first missing or mis-shaped
/// tensor in `state_dict()` order, else the first extra one, is the error.
pub fn check_tensors(state: &StateDict, config: &Config) -> Result<()> {
    let expected = expected_tensors(config);
    for spec in &expected {
        match state.shape(&spec.key) {
            None => {
                return Err(Error::MissingTensor { key: spec.key.clone(), expected: spec.shape.clone() });
            }
            Some(found) if found != spec.shape.as_slice() => {
                return Err(Error::ShapeMismatch {
                    key: spec.key.clone(),
                    expected: spec.shape.clone(),
                    found: found.to_vec(),
                });
            }
            Some(_) => {}
        }
    }
    if state.tensors.len() > expected.len() {
        let known: std::collections::HashSet<&str> = expected.iter().map(|s| s.key.as_str()).collect();
        if let Some((key, tensor)) = state.tensors.iter().find(|(k, _)| !known.contains(k.as_str())) {
            return Err(Error::UnexpectedTensor { key: key.clone(), shape: tensor.shape.clone() });
        }
    }
    Ok(())
}
