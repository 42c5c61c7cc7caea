"""Writes timm's EfficientFormerV2 variants, filled with the tests' seeded weights, as ONNX files
(`onnx_peer.export`: opset 18, the exporter `head_to_head.py` uses), for the aarch64 instruction
benchmark's ONNX Runtime (`core/scripts/aarch64-insn.sh`):
    python export_onnx.py OUT_DIR [VARIANTS...]     # OUT_DIR/s0.onnx ...
Requires requirements.txt plus `onnx onnxscript`."""
import os
import sys

import timm
import torch

from onnx_peer import export
from seeded_weights import fill_state_dict, seeded_input


def main():
    out, variants = sys.argv[1], sys.argv[2:] or ["s0", "s1", "s2", "l"]
    os.makedirs(out, exist_ok=True)
    for variant in variants:
        model = timm.create_model(f"efficientformerv2_{variant}", pretrained=False).eval()
        fill_state_dict(model)
        export(model, torch.from_numpy(seeded_input((1, 3, 224, 224))), os.path.join(out, f"{variant}.onnx"))
        print(f"{variant}: {os.path.join(out, variant + '.onnx')}")


if __name__ == "__main__":
    main()
