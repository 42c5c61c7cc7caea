//! The official snap-research key layout (`models/efficientformer_v2.py` of
//! github.com/snap-research/EfficientFormer), mapped onto timm's: the one key map of the SDK.
//!
//! Official names: the stem is `patch_embed` (Sequential: conv, bn, act, conv, bn, act); stages
//! and downsamples share one flat `network` list (stage `s` at `network.{2s}`, its downsample
//! at `network.{2s-1}`, whose conv/bn are `proj`/`norm`, or `conv`/`bn` for the attention
//! downsample); `ConvNorm`s are numbered Sequentials (`.0` conv, `.1` bn; `proj` is
//! `(act, conv, bn)`); FFN norms are `norm1`/`mid_norm`/`norm2`; layer scales are
//! `layer_scale_{1,2}` of shape `[C, 1, 1]` (timm: `ls{1,2}.gamma`, `[C]`); the distillation
//! head is `dist_head` (timm: `head_dist`).

use std::collections::BTreeMap;

use super::state_dict::{HostTensor, StateDict};

/// Whether a checkpoint's keys are in the official layout.
pub fn is_official<'a>(mut keys: impl Iterator<Item = &'a String>) -> bool {
    keys.any(|k| k.starts_with("patch_embed.") || k.starts_with("network."))
}

/// Renames every key of an official-layout state dict to timm's and flattens layer scales.
/// Keys that fit no rule are kept as they are, so the shape check reports them.
pub fn to_timm(state: StateDict) -> StateDict {
    let tensors: BTreeMap<String, HostTensor> = state
        .tensors
        .into_iter()
        .map(|(key, mut tensor)| {
            let timm = official_to_timm(&key).unwrap_or(key);
            if timm.ends_with(".gamma") && tensor.shape.len() == 3 && tensor.shape[1..] == [1, 1] {
                tensor.shape.truncate(1);
            }
            (timm, tensor)
        })
        .collect();
    StateDict { tensors, dtype: state.dtype, metadata: state.metadata }
}

/// The timm key of an official key, if it fits the layout.
pub fn official_to_timm(key: &str) -> Option<String> {
    if let Some(rest) = key.strip_prefix("patch_embed.") {
        let (index, leaf) = rest.split_once('.')?;
        let module = match index {
            "0" => "stem.conv1.conv",
            "1" => "stem.conv1.bn",
            "3" => "stem.conv2.conv",
            "4" => "stem.conv2.bn",
            _ => return None,
        };
        return Some(format!("{module}.{leaf}"));
    }
    if let Some(rest) = key.strip_prefix("network.") {
        let (index, rest) = rest.split_once('.')?;
        let index: usize = index.parse().ok()?;
        if index % 2 == 0 {
            let (block, rest) = rest.split_once('.')?;
            block.parse::<usize>().ok()?;
            return Some(format!("stages.{}.blocks.{block}.{}", index / 2, block_key(rest)?));
        }
        return Some(format!("stages.{}.downsample.{}", index.div_ceil(2), downsample_key(rest)?));
    }
    if let Some(leaf) = key.strip_prefix("dist_head.") {
        return Some(format!("head_dist.{leaf}"));
    }
    Some(key.to_owned())
}

fn block_key(rest: &str) -> Option<String> {
    match rest {
        "layer_scale_1" => return Some("ls1.gamma".into()),
        "layer_scale_2" => return Some("ls2.gamma".into()),
        _ => {}
    }
    if let Some(mlp) = rest.strip_prefix("mlp.") {
        let (module, leaf) = mlp.split_once('.')?;
        let timm = match module {
            "fc1" => "fc1.conv",
            "norm1" => "fc1.bn",
            "mid" => "mid.conv",
            "mid_norm" => "mid.bn",
            "fc2" => "fc2.conv",
            "norm2" => "fc2.bn",
            _ => return None,
        };
        return Some(format!("mlp.{timm}.{leaf}"));
    }
    let mixer = rest.strip_prefix("token_mixer.")?;
    Some(format!("token_mixer.{}", attention_key(mixer)?))
}

fn downsample_key(rest: &str) -> Option<String> {
    let (module, leaf) = rest.split_once('.')?;
    match module {
        "proj" | "conv" => Some(format!("conv.conv.{leaf}")),
        "norm" | "bn" => Some(format!("conv.bn.{leaf}")),
        "attn" => Some(format!("attn.{}", attention_key(leaf)?)),
        _ => None,
    }
}

/// Keys inside `Attention4D` / `Attention4DDownsample` (official) = `Attention2d` /
/// `Attention2dDownsample` (timm).
fn attention_key(rest: &str) -> Option<String> {
    let parts: Vec<&str> = rest.split('.').collect();
    let mapped = match parts.as_slice() {
        ["q", "local", "0", leaf] => format!("q.local.{leaf}"),
        ["q", "proj", index, leaf] => format!("q.proj.{}.{leaf}", conv_norm(index)?),
        ["proj", "1", leaf] => format!("proj.conv.{leaf}"),
        ["proj", "2", leaf] => format!("proj.bn.{leaf}"),
        [module @ ("q" | "k" | "v" | "v_local" | "stride_conv"), index, leaf] => {
            format!("{module}.{}.{leaf}", conv_norm(index)?)
        }
        _ => rest.to_owned(),
    };
    Some(mapped)
}

fn conv_norm(index: &str) -> Option<&'static str> {
    match index {
        "0" => Some("conv"),
        "1" => Some("bn"),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::official_to_timm;

    #[test]
    fn maps_each_kind_of_key() {
        let cases = [
            ("patch_embed.4.running_var", "stem.conv2.bn.running_var"),
            ("network.0.1.mlp.mid_norm.weight", "stages.0.blocks.1.mlp.mid.bn.weight"),
            ("network.4.7.token_mixer.stride_conv.1.bias", "stages.2.blocks.7.token_mixer.stride_conv.bn.bias"),
            ("network.6.4.token_mixer.proj.1.weight", "stages.3.blocks.4.token_mixer.proj.conv.weight"),
            ("network.6.4.layer_scale_1", "stages.3.blocks.4.ls1.gamma"),
            ("network.3.proj.weight", "stages.2.downsample.conv.conv.weight"),
            ("network.3.norm.running_mean", "stages.2.downsample.conv.bn.running_mean"),
            ("network.5.bn.bias", "stages.3.downsample.conv.bn.bias"),
            ("network.5.attn.q.local.0.weight", "stages.3.downsample.attn.q.local.weight"),
            ("network.5.attn.q.proj.1.weight", "stages.3.downsample.attn.q.proj.bn.weight"),
            ("network.5.attn.proj.2.bias", "stages.3.downsample.attn.proj.bn.bias"),
            ("network.5.attn.attention_biases", "stages.3.downsample.attn.attention_biases"),
            ("dist_head.weight", "head_dist.weight"),
            ("norm.weight", "norm.weight"),
        ];
        for (official, timm) in cases {
            assert_eq!(official_to_timm(official).as_deref(), Some(timm), "{official}");
        }
    }
}
