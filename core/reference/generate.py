"""Write the PyTorch reference fixtures under `core/tests/fixtures/` (run: see README.md here).

For each variant (S0, S1, S2, L) the timm model is filled with the seeded weights of
`seeded_weights.py` (which Rust regenerates bit for bit, so no weight file is committed), run on
the seeded input batch, and its logits, sampled per-stage activations, exact parameter count and
`toolbox.py` accounting are written to `fixtures/reference/<variant>.safetensors`.

A reduced-width model is also written as real files from torch (`fixtures/tiny/`): timm-layout
safetensors in f32, f16 and bf16, the official layout as `{'model': state_dict}` `.pth`, and a
bare timm-layout f16 `.pth`, with the expected logits for each weight precision, so the `.pth`
and safetensors readers are tested on bytes PyTorch wrote.

Rerunning this script reproduces every file bit for bit (one thread, deterministic kernels).
"""
import argparse
import json
import math
import pathlib
import re

import numpy as np
import timm
import torch
import torch.nn as nn
from safetensors.numpy import save_file as save_numpy
from safetensors.torch import save_file as save_torch
from timm.models.efficientformer_v2 import Attention2d, Attention2dDownsample, EfficientFormerV2

from official_layout import timm_to_official, to_official_state_dict
from seeded_weights import DEFAULT_SEED, fill_state_dict, seeded_input

VARIANTS = {"s0": 2, "s1": 1, "s2": 1, "l": 1}  # variant -> batch size of the test input
STAGE_SAMPLES = 4096
TINY_ARGS = dict(
    depths=(1, 1, 2, 2), embed_dims=(8, 16, 24, 32),
    mlp_ratios=(4, 4, (4, 3), (3, 4)), num_vit=1, num_classes=10,
)
FIXTURES = pathlib.Path(__file__).resolve().parent.parent / "tests" / "fixtures"
SHARED_KEYS = pathlib.Path(__file__).resolve().parents[3] / "shared" / "reference" / "state-dict-keys.md"


def toolbox_accounting(model: nn.Module) -> tuple:
    """MACs and params by the rules of the official `toolbox.py` hooks (paper.md)."""
    macs = 0

    def conv_hook(m, _inp, out):
        nonlocal macs
        kh, kw = m.kernel_size
        macs += m.out_channels * out.shape[2] * out.shape[3] * kh * kw * m.in_channels // m.groups

    def linear_hook(m, inp, _out):
        nonlocal macs
        tokens = inp[0].shape[1] if inp[0].dim() == 3 else 1
        macs += m.out_features * m.in_features * tokens

    def gelu_hook(_m, _inp, out):
        nonlocal macs
        macs += out.shape[1] * out.shape[2]

    def pool_hook(m, _inp, out):
        nonlocal macs
        k = m.kernel_size if isinstance(m.kernel_size, int) else m.kernel_size[0]
        macs += out.shape[1] * out.shape[2] * out.shape[3] * k * k

    def attention_hook(m, _inp, _out):
        nonlocal macs
        n2 = m.N2 if isinstance(m, Attention2dDownsample) else m.N
        macs += m.key_dim * m.N * n2 * m.num_heads + m.dh * m.N * n2

    params = 0
    hooks = []
    for module in model.modules():
        if isinstance(module, nn.Conv2d):
            params += module.weight.numel() + module.weight.size(1)
            hooks.append(module.register_forward_hook(conv_hook))
        elif isinstance(module, nn.Linear):
            params += module.weight.numel() + module.bias.numel()
            hooks.append(module.register_forward_hook(linear_hook))
        elif type(module).__name__ == "GELU":
            hooks.append(module.register_forward_hook(gelu_hook))
        elif isinstance(module, nn.AvgPool2d):
            hooks.append(module.register_forward_hook(pool_hook))
        elif isinstance(module, (Attention2d, Attention2dDownsample)):
            hooks.append(module.register_forward_hook(attention_hook))
    with torch.no_grad():
        model(torch.zeros(1, 3, 224, 224))
    for hook in hooks:
        hook.remove()
    return macs, params


def key_listing(state_dict: dict) -> str:
    return "\n".join(
        f"{k} {list(t.shape)} {str(t.dtype).removeprefix('torch.')}" for k, t in state_dict.items())


def check_official_layout(variant: str, model: nn.Module) -> None:
    """The key map against the team's listing of the official checkpoints, when it is present."""
    if not SHARED_KEYS.exists():
        return
    text = SHARED_KEYS.read_text()
    section = re.search(rf"## {variant} — official layout.*?```\n(.*?)```", text, re.S)[1]
    expected = section.strip()
    ours = key_listing(to_official_state_dict(model))
    assert sorted(ours.splitlines()) == sorted(expected.splitlines()), f"official layout differs for {variant}"
    print(f"{variant}: official key map matches {SHARED_KEYS.name}")


def run_with_stages(model: EfficientFormerV2, x: torch.Tensor) -> tuple:
    stages = []
    hooks = [s.register_forward_hook(lambda _m, _i, out: stages.append(out.detach().clone()))
             for s in model.stages]
    with torch.no_grad():
        logits = model(x)
    for hook in hooks:
        hook.remove()
    return logits, stages


def stage_sample(stage: torch.Tensor) -> tuple:
    flat = stage.reshape(-1).numpy()
    stride = max(1, flat.size // STAGE_SAMPLES)
    return flat[::stride][:STAGE_SAMPLES].copy(), stride


def write_variant(variant: str, batch: int) -> None:
    model = timm.create_model(f"efficientformerv2_{variant}", pretrained=False).eval()
    fill_state_dict(model)
    check_official_layout(variant, model)
    x = torch.from_numpy(seeded_input((batch, 3, 224, 224)))
    logits, stages = run_with_stages(model, x)
    macs, toolbox_params = toolbox_accounting(model)
    tensors = {"logits": logits.numpy()}
    meta = {
        "variant": variant, "batch": str(batch), "seed": str(DEFAULT_SEED),
        "param_count": str(sum(p.numel() for p in model.parameters())),
        "toolbox_macs": str(macs), "toolbox_params": str(toolbox_params),
        "keys": key_listing(model.state_dict()),
    }
    for i, stage in enumerate(stages):
        tensors[f"stage{i}"], stride = stage_sample(stage)
        meta[f"stage{i}_shape"] = json.dumps(list(stage.shape))
        meta[f"stage{i}_stride"] = str(stride)
    out = FIXTURES / "reference" / f"{variant}.safetensors"
    out.parent.mkdir(parents=True, exist_ok=True)
    # one metadata key: safetensors writes a multi-key metadata map in hash order
    save_numpy(tensors, str(out), metadata={"reference": json.dumps(meta, sort_keys=True)})
    top5 = logits[0].topk(5).indices.tolist()
    print(f"{variant}: params {meta['param_count']} toolbox {toolbox_params / 1e6:.4f}M "
          f"{macs / 1e9:.4f} GMACs, |logits|max {logits.abs().max():.3f}, top5 {top5}, "
          f"stage std {[round(float(s.std()), 3) for s in stages]}")


def logits_with_weights(model: nn.Module, dtype: torch.dtype, x: torch.Tensor) -> np.ndarray:
    """Logits of the float32 model after its float weights are rounded through ``dtype``."""
    rounded = EfficientFormerV2(**TINY_ARGS).eval()
    rounded.load_state_dict({
        k: (v.to(dtype).to(torch.float32) if v.is_floating_point() else v)
        for k, v in model.state_dict().items()})
    with torch.no_grad():
        return rounded(x).numpy()


def rounded_state(state: dict, dtype: torch.dtype) -> dict:
    return {k: (v.to(dtype) if v.is_floating_point() else v) for k, v in state.items()}


def write_tiny() -> None:
    model = EfficientFormerV2(**TINY_ARGS).eval()
    fill_state_dict(model)
    out = FIXTURES / "tiny"
    out.mkdir(parents=True, exist_ok=True)
    state = {k: v.contiguous() for k, v in model.state_dict().items()}
    save_torch(state, str(out / "timm_f32.safetensors"))
    for name, dtype in (("f16", torch.float16), ("bf16", torch.bfloat16)):
        save_torch(rounded_state(state, dtype), str(out / f"timm_{name}.safetensors"))
    torch.save(rounded_state(state, torch.float16), out / "timm_bare_f16.pth")
    torch.save({"model": to_official_state_dict(model)}, out / "official.pth")
    x = torch.from_numpy(seeded_input((1, 3, 224, 224)))
    with torch.no_grad():
        logits = model(x).numpy()
    save_numpy({
        "logits_f32": logits,
        "logits_f16": logits_with_weights(model, torch.float16, x),
        "logits_bf16": logits_with_weights(model, torch.bfloat16, x),
    }, str(out / "expected.safetensors"), metadata={"config": json.dumps(TINY_ARGS)})
    print(f"tiny: {sum(p.numel() for p in model.parameters())} params, logits {logits[0][:3]}")
    write_tiny_overflow(model, x)


def write_tiny_overflow(model: torch.nn.Module, x: torch.Tensor) -> None:
    """Finite weights on which the network overflows: the final norm scaled by float32's
    largest value over a zero running variance. PyTorch's logits are non-finite too."""
    state = {k: v.clone().contiguous() for k, v in model.state_dict().items()}
    state["norm.weight"].fill_(torch.finfo(torch.float32).max)
    state["norm.running_var"].zero_()
    overflowing = EfficientFormerV2(**TINY_ARGS).eval()
    overflowing.load_state_dict(state)
    with torch.no_grad():
        logits = overflowing(x)
    assert all(torch.isfinite(v).all() for v in state.values() if v.is_floating_point())
    assert not torch.isfinite(logits).all(), "the overflow fixture must overflow in PyTorch"
    save_torch(state, str(FIXTURES / "tiny" / "overflow_f32.safetensors"))
    print(f"tiny overflow: {(~torch.isfinite(logits)).sum().item()} of {logits.numel()} logits non-finite")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variants", nargs="*", default=list(VARIANTS))
    args = parser.parse_args()
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    for variant in args.variants:
        write_variant(variant, VARIANTS[variant])
    write_tiny()


if __name__ == "__main__":
    main()
