"""Seeded, non-trivial EfficientFormerV2 weights, bit-identical to `core/src/weights/seeded.rs`.

Every tensor is filled from its own counter-based stream, so Rust and Python agree on every
bit without sharing any file:

* stream seed = FNV-1a 64 of the tensor's timm key (UTF-8) XOR the global seed;
* element ``i`` is ``splitmix64(seed + (i + 1) * 0x9E3779B97F4A7C15)`` (the splitmix64 output
  function applied to the ``i``-th state), turned into ``u = (z >> 11) * 2**-53`` in [0, 1);
* the value is ``float32(lo + (hi - lo) * u)`` computed in float64, where ``[lo, hi)`` depends
  on what the tensor is (``value_range``).

The ranges keep every branch visible in the logits: layer scales 0.1-0.5 (timm's 1e-5 init
would hide a broken token mixer), attention biases of order one, BatchNorm statistics far
from identity.
"""
import math

import numpy as np

GOLDEN_GAMMA = 0x9E3779B97F4A7C15
DEFAULT_SEED = 0x5EED_EF2_0000_0001
MASK64 = (1 << 64) - 1


def fnv1a64(text: str) -> int:
    h = 0xCBF29CE484222325
    for byte in text.encode("utf-8"):
        h ^= byte
        h = (h * 0x100000001B3) & MASK64
    return h


def uniform_stream(key: str, count: int, seed: int = DEFAULT_SEED) -> np.ndarray:
    """``count`` float64 values in [0, 1) for ``key``."""
    base = np.uint64(fnv1a64(key) ^ seed)
    with np.errstate(over="ignore"):
        z = base + (np.arange(1, count + 1, dtype=np.uint64) * np.uint64(GOLDEN_GAMMA))
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
    return (z >> np.uint64(11)).astype(np.float64) * (2.0 ** -53)


def is_norm_module(module: str) -> bool:
    return module.endswith(".bn") or module == "norm"


def value_range(key: str, shape) -> tuple:
    """The ``[lo, hi)`` a tensor is drawn from (mirrored by ``value_range`` in seeded.rs)."""
    module, _, leaf = key.rpartition(".")
    if leaf == "running_mean":
        return (-0.5, 0.5)
    if leaf == "running_var":
        return (0.5, 2.0)
    if leaf == "gamma":
        return (0.1, 0.5)
    if leaf == "attention_biases":
        return (-1.0, 1.0)
    if leaf == "weight" and is_norm_module(module):
        return (0.5, 1.5)
    if leaf == "bias" and is_norm_module(module):
        return (-0.2, 0.2)
    if leaf == "bias":
        return (-0.1, 0.1)
    if leaf == "weight":
        fan_in = math.prod(shape[1:])
        bound = math.sqrt(3.0 / fan_in)
        return (-bound, bound)
    raise ValueError(f"no seeded rule for {key}")


def seeded_tensor(key: str, shape, seed: int = DEFAULT_SEED) -> np.ndarray:
    lo, hi = value_range(key, shape)
    u = uniform_stream(key, math.prod(shape), seed)
    return (lo + (hi - lo) * u).astype(np.float32).reshape(shape)


def seeded_input(shape, seed: int = DEFAULT_SEED) -> np.ndarray:
    """The test image batch: uniform in [-2, 2), roughly the range of normalised pixels."""
    u = uniform_stream("input", math.prod(shape), seed)
    return (-2.0 + 4.0 * u).astype(np.float32).reshape(shape)


def fill_state_dict(model, seed: int = DEFAULT_SEED) -> None:
    """Overwrite every floating-point entry of ``model.state_dict()`` in place."""
    import torch

    with torch.no_grad():
        for key, tensor in model.state_dict().items():
            if key.endswith("num_batches_tracked"):
                tensor.zero_()
                continue
            tensor.copy_(torch.from_numpy(seeded_tensor(key, tuple(tensor.shape), seed)))
