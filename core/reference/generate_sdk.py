"""Write the fixtures of the SDK facade (`core/tests/fixtures/{preprocess,classify}`) and the
embedded ImageNet-1k labels (`core/src/classify/imagenet_labels.txt`).

* preprocess/<image>.safetensors: the 224x224 RGB uint8 crop timm's eval transform makes of
  each bundled sample image (bicubic resize of the shorter side to floor(224 / 0.95) = 235,
  centre crop), before ToTensor/Normalize.
* classify/chelsea_235.png: the cat photo with its shorter side already 235, so timm's resize
  is the identity and the whole preprocessing is exact; classify/logits.safetensors: timm's
  logits on it for every variant with the seeded weights of `seeded_weights.py`, and its
  embedding (`<variant>_embedding`: `forward_head(x, pre_logits=True)`).

Rerunning reproduces the files bit for bit.
"""
import json
import pathlib

import numpy as np
import timm
import torch
from PIL import Image
from safetensors.numpy import save_file
from timm.data import ImageNetInfo, create_transform, resolve_data_config

from seeded_weights import fill_state_dict

ROOT = pathlib.Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "core" / "tests" / "fixtures"
IMAGES = ROOT / "examples" / "images"
LABELS = ROOT / "core" / "src" / "classify" / "imagenet_labels.txt"


def eval_transform():
    model = timm.create_model("efficientformerv2_s0", pretrained=False)
    return create_transform(**resolve_data_config({}, model=model))


def write_preprocess(transform) -> None:
    out = FIXTURES / "preprocess"
    out.mkdir(parents=True, exist_ok=True)
    geometric = [t for t in transform.transforms if type(t).__name__ in ("Resize", "CenterCrop")]
    for path in sorted(p for p in IMAGES.iterdir() if p.suffix in (".png", ".jpg")):
        image = Image.open(path).convert("RGB")
        for step in geometric:
            image = step(image)
        crop = np.asarray(image, dtype=np.uint8)
        source = json.dumps({"image": path.name, "transform": repr(transform)}, sort_keys=True)
        save_file({"crop": crop}, str(out / f"{path.stem}.safetensors"), metadata={"source": source})
        print(f"{path.name}: crop {crop.shape}")


def write_classify(transform) -> None:
    out = FIXTURES / "classify"
    out.mkdir(parents=True, exist_ok=True)
    cat = Image.open(IMAGES / "chelsea.png").convert("RGB")
    short = 235
    cat = cat.resize((round(cat.width * short / cat.height), short), Image.BICUBIC)
    cat.save(out / "chelsea_235.png", optimize=False)
    x = transform(Image.open(out / "chelsea_235.png").convert("RGB")).unsqueeze(0)
    logits = {}
    for variant in ("s0", "s1", "s2", "l"):
        model = timm.create_model(f"efficientformerv2_{variant}", pretrained=False).eval()
        fill_state_dict(model)
        with torch.no_grad():
            logits[variant] = model(x).numpy()
            # What `num_classes=0` returns: norm, then the spatial mean, before the heads.
            logits[f"{variant}_embedding"] = model.forward_head(model.forward_features(x), pre_logits=True).numpy()
        print(f"{variant}: top5 {logits[variant][0].argsort()[::-1][:5].tolist()}")
    save_file(logits, str(out / "logits.safetensors"), metadata={"image": "chelsea_235.png"})


def write_labels() -> None:
    info = ImageNetInfo()
    LABELS.parent.mkdir(parents=True, exist_ok=True)
    LABELS.write_text("".join(f"{info.index_to_description(i)}\n" for i in range(info.num_classes())))


def main() -> None:
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    transform = eval_transform()
    print(transform)
    write_preprocess(transform)
    write_classify(transform)
    write_labels()


if __name__ == "__main__":
    main()
