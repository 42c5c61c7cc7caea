"""timm key -> snap-research (official) key, the inverse of `core/src/weights/official_layout.rs`.

The official `models/efficientformer_v2.py` keeps the stem as `patch_embed` (a Sequential:
conv, bn, act, conv, bn, act), the stages and downsamples in one flat `network` list
(stage s at `network.{2s}`, its downsample at `network.{2s-1}`), BatchNorms as numbered
Sequential children or `norm*` siblings, and layer scales as `[C, 1, 1]`.
"""
import re

CONV_NORM_INDEX = {"conv": "0", "bn": "1"}
PROJ_INDEX = {"conv": "1", "bn": "2"}  # official proj = Sequential(act, conv, bn)
MLP_NAMES = {
    "fc1.conv": "fc1", "fc1.bn": "norm1",
    "mid.conv": "mid", "mid.bn": "mid_norm",
    "fc2.conv": "fc2", "fc2.bn": "norm2",
}
STEM_INDEX = {"conv1.conv": "0", "conv1.bn": "1", "conv2.conv": "3", "conv2.bn": "4"}


def attention_key(rest: str) -> str:
    """Keys inside `Attention2d` / `Attention2dDownsample` (after `token_mixer.` / `attn.`)."""
    m = re.fullmatch(r"(q|k|v|v_local|stride_conv)\.(conv|bn)\.(.+)", rest)
    if m:
        return f"{m[1]}.{CONV_NORM_INDEX[m[2]]}.{m[3]}"
    m = re.fullmatch(r"proj\.(conv|bn)\.(.+)", rest)
    if m:
        return f"proj.{PROJ_INDEX[m[1]]}.{m[2]}"
    m = re.fullmatch(r"q\.local\.(.+)", rest)
    if m:
        return f"q.local.0.{m[1]}"
    m = re.fullmatch(r"q\.proj\.(conv|bn)\.(.+)", rest)
    if m:
        return f"q.proj.{CONV_NORM_INDEX[m[1]]}.{m[2]}"
    return rest  # attention_biases, talking_head1/2


def timm_to_official(key: str) -> str:
    m = re.fullmatch(r"stem\.(conv[12]\.(?:conv|bn))\.(.+)", key)
    if m:
        return f"patch_embed.{STEM_INDEX[m[1]]}.{m[2]}"
    m = re.fullmatch(r"stages\.(\d+)\.blocks\.(\d+)\.(.+)", key)
    if m:
        prefix = f"network.{2 * int(m[1])}.{m[2]}"
        rest = m[3]
        if rest in ("ls1.gamma", "ls2.gamma"):
            return f"{prefix}.layer_scale_{rest[2]}"
        mm = re.fullmatch(r"mlp\.(fc1\.conv|fc1\.bn|mid\.conv|mid\.bn|fc2\.conv|fc2\.bn)\.(.+)", rest)
        if mm:
            return f"{prefix}.mlp.{MLP_NAMES[mm[1]]}.{mm[2]}"
        mm = re.fullmatch(r"token_mixer\.(.+)", rest)
        if mm:
            return f"{prefix}.token_mixer.{attention_key(mm[1])}"
        raise KeyError(key)
    m = re.fullmatch(r"stages\.(\d+)\.downsample\.(.+)", key)
    if m:
        stage = int(m[1])
        prefix = f"network.{2 * stage - 1}"
        rest = m[2]
        mm = re.fullmatch(r"conv\.(conv|bn)\.(.+)", rest)
        if mm:
            # the attention downsample (last stage) names its conv/bn plainly
            names = {"conv": "conv", "bn": "bn"} if stage == 3 else {"conv": "proj", "bn": "norm"}
            return f"{prefix}.{names[mm[1]]}.{mm[2]}"
        mm = re.fullmatch(r"attn\.(.+)", rest)
        if mm:
            return f"{prefix}.attn.{attention_key(mm[1])}"
        raise KeyError(key)
    if key.startswith("head_dist."):
        return "dist_head." + key[len("head_dist."):]
    return key  # norm.*, head.*


def to_official_state_dict(model) -> dict:
    """The official checkpoint's state dict for a timm model (adds `attention_bias_idxs`)."""
    out = {}
    for key, tensor in model.state_dict().items():
        official = timm_to_official(key)
        if official.endswith(("layer_scale_1", "layer_scale_2")):
            tensor = tensor.reshape(-1, 1, 1)
        out[official] = tensor.clone()
    for name, module in model.named_modules():
        if hasattr(module, "attention_bias_idxs"):
            biases_key = timm_to_official(f"{name}.attention_biases")
            out[biases_key.replace("attention_biases", "attention_bias_idxs")] = (
                module.attention_bias_idxs.clone())
    return out
