"""Write the YUV 4:2:0 fixtures (`core/tests/fixtures/yuv/`) the camera-frame tests compare with.

* planes.safetensors: seeded random Y, U, V planes of an odd-sized frame (37 x 23, chroma
  19 x 12) and, for each matrix (BT.601, BT.709) and range (full, video), the RGB image numpy
  computes from them with the recommendations' coefficients in float64 (E'R = E'Y + 2(1-Kr)
  E'Cr, E'G = E'Y - 2Kb(1-Kb)/Kg E'Cb - 2Kr(1-Kr)/Kg E'Cr, E'B = E'Y + 2(1-Kb) E'Cb; video
  range scales Y by 255/219 after removing 16 and chroma by 255/224), nearest chroma site,
  rounded half up and clamped. BT.601 full range is checked here against PIL's own YCbCr ->
  RGB conversion (libjpeg's fixed-point tables), an implementation written independently.
* photo.safetensors: the bundled cat photo (`examples/images/chelsea.png`) converted to
  BT.601 full-range YUV 4:2:0 by PIL (chroma averaged over each 2x2 block), and the RGB image
  the numpy conversion above makes back of those planes: classifying the planes as a YUV frame
  must agree with classifying that RGB image.

Rerunning reproduces the files bit for bit.
"""
import pathlib

import numpy as np
from PIL import Image
from safetensors.numpy import save_file

ROOT = pathlib.Path(__file__).resolve().parents[2]
OUT = ROOT / "core" / "tests" / "fixtures" / "yuv"
WEIGHTS = {"bt601": (0.299, 0.114), "bt709": (0.2126, 0.0722)}


def to_rgb(y, u, v, matrix, video_range):
    """RGB uint8 [H, W, 3] of 4:2:0 planes, nearest chroma site."""
    kr, kb = WEIGHTS[matrix]
    kg = 1.0 - kr - kb
    height, width = y.shape
    up = lambda c: np.repeat(np.repeat(c.astype(np.float64), 2, axis=0), 2, axis=1)[:height, :width]
    luma, cb, cr = y.astype(np.float64), up(u) - 128.0, up(v) - 128.0
    if video_range:
        luma, cb, cr = (luma - 16.0) * 255.0 / 219.0, cb * 255.0 / 224.0, cr * 255.0 / 224.0
    r = luma + 2.0 * (1.0 - kr) * cr
    g = luma - 2.0 * kb * (1.0 - kb) / kg * cb - 2.0 * kr * (1.0 - kr) / kg * cr
    b = luma + 2.0 * (1.0 - kb) * cb
    return np.clip(np.floor(np.stack([r, g, b], axis=-1) + 0.5), 0, 255).astype(np.uint8)


def pil_rgb(y, u, v):
    """PIL's JPEG (BT.601 full range) YCbCr -> RGB of the same planes, chroma upsampled alike."""
    height, width = y.shape
    up = lambda c: np.repeat(np.repeat(c, 2, axis=0), 2, axis=1)[:height, :width]
    ycbcr = np.stack([y, up(u), up(v)], axis=-1)
    return np.asarray(Image.fromarray(ycbcr, mode="YCbCr").convert("RGB"))


def planes():
    rng = np.random.default_rng(2212_08059)
    width, height = 37, 23
    y = rng.integers(0, 256, (height, width), dtype=np.uint8)
    u = rng.integers(0, 256, ((height + 1) // 2, (width + 1) // 2), dtype=np.uint8)
    v = rng.integers(0, 256, ((height + 1) // 2, (width + 1) // 2), dtype=np.uint8)
    tensors = {"y": y, "u": u, "v": v}
    for matrix in WEIGHTS:
        for name, video in (("full", False), ("video", True)):
            tensors[f"rgb_{matrix}_{name}"] = to_rgb(y, u, v, matrix, video)
    pil = pil_rgb(y, u, v).astype(np.int16)
    worst = np.abs(pil - tensors["rgb_bt601_full"].astype(np.int16)).max()
    assert worst <= 1, f"numpy and PIL disagree by {worst} steps"
    save_file(tensors, str(OUT / "planes.safetensors"))
    print(f"planes: {width}x{height}, numpy vs PIL (BT.601 full) max |diff| {worst}")


def photo():
    rgb = Image.open(ROOT / "examples" / "images" / "chelsea.png").convert("RGB")
    ycbcr = np.asarray(rgb.convert("YCbCr")).astype(np.float64)
    height, width = ycbcr.shape[:2]
    padded = np.pad(ycbcr, ((0, height % 2), (0, width % 2), (0, 0)), mode="edge")
    chroma = padded.reshape(padded.shape[0] // 2, 2, padded.shape[1] // 2, 2, 3).mean(axis=(1, 3))
    y = ycbcr[..., 0].astype(np.uint8)
    u, v = (np.floor(chroma[..., c] + 0.5).astype(np.uint8) for c in (1, 2))
    save_file({"y": y, "u": u, "v": v, "rgb": to_rgb(y, u, v, "bt601", False)}, str(OUT / "photo.safetensors"))
    print(f"photo: {width}x{height}")


if __name__ == "__main__":
    OUT.mkdir(parents=True, exist_ok=True)
    planes()
    photo()
