"""Peer comparison for the latency probe (optional; CI does not run it): the same timm model
exported to ONNX and timed with ONNX Runtime, and PyTorch eager, on this machine, with the
probe's protocol (load once, one 224x224 input, batch 1, warm-up, timed runs, same threads).
Writes the probe's JSON (`efficientformer.probe/1`, backends `onnxruntime` and `pytorch`), so
one table shows all:

    python peer_benchmark.py --threads 2 --out peers.json
    cargo run --release --bin efficientformer -- probe --threads 2 --format json > ours.json

Requires requirements.txt plus `onnxruntime==1.31.1 onnx onnxscript`.
"""
import argparse
import json
import os
import platform
import resource
import statistics
import tempfile
import time

import numpy as np
import onnxruntime as ort
import timm
import torch

from onnx_peer import onnx_session
from seeded_weights import fill_state_dict, seeded_input

PAPER_MS = {"s0": 0.9, "s1": 1.1, "s2": 1.6, "l": 2.7}
PAPER_PROTOCOL = ("iPhone 12, iOS 16, Core ML (coremltools 5.2) on CPU+GPU+Neural Engine, batch 1, "
                  "224x224; burn cannot use the Neural Engine, so milliseconds are not expected to "
                  "match, ratios between variants are comparable")


def stats(times_s):
    ms = sorted(t * 1e3 for t in times_s)
    n = len(ms)
    rank = lambda p: ms[min(max(int(np.ceil(p * n)), 1), n) - 1]
    mean = sum(ms) / n
    return {"mean_ms": mean, "median_ms": rank(0.5), "p90_ms": rank(0.9), "p99_ms": rank(0.99),
            "min_ms": ms[0], "max_ms": ms[-1], "std_ms": statistics.pstdev(ms), "runs_per_s": 1e3 / mean}


def measure(run, warmup, runs):
    start = time.perf_counter()
    run()
    cold = time.perf_counter() - start
    for _ in range(warmup):
        run()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return cold * 1e3, stats(times)


def row(variant, backend, threads, load_ms, cold_ms, latency, model):
    return {
        "variant": variant, "backend": backend, "adapter": "cpu", "weights": "seeded",
        "threads": threads, "parameters": sum(p.numel() for p in model.parameters()),
        "toolbox_parameters": None, "gmacs": None, "paper_params_m": None, "paper_gmacs": None,
        "paper_iphone12_ms": PAPER_MS[variant], "load_ms": load_ms, "cold_ms": cold_ms,
        "latency": latency, "peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
        "ratio_to_s0": None, "paper_ratio_to_s0": round(PAPER_MS[variant] / PAPER_MS["s0"], 2),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variants", nargs="*", default=["s0", "s1", "s2", "l"])
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--warmup", type=int, default=50)
    parser.add_argument("--runs", type=int, default=500)
    parser.add_argument("--out", default="-")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    x = torch.from_numpy(seeded_input((1, 3, 224, 224)))
    rows = []
    for variant in args.variants:
        start = time.perf_counter()
        model = timm.create_model(f"efficientformerv2_{variant}", pretrained=False).eval()
        fill_state_dict(model)
        load_ms = (time.perf_counter() - start) * 1e3

        def torch_run():
            with torch.inference_mode():
                model(x)
        rows.append(row(variant, "pytorch", args.threads, load_ms, *measure(torch_run, args.warmup, args.runs), model))

        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, f"{variant}.onnx")
            start = time.perf_counter()
            session = onnx_session(model, x, args.threads, path)
            load_ms = (time.perf_counter() - start) * 1e3
        feed = {"images": x.numpy()}
        rows.append(row(variant, "onnxruntime", args.threads, load_ms, *measure(lambda: session.run(None, feed), args.warmup, args.runs), model))
    for r in rows:
        s0 = next((o for o in rows if o["variant"] == "s0" and o["backend"] == r["backend"]), None)
        r["ratio_to_s0"] = r["latency"]["mean_ms"] / s0["latency"]["mean_ms"] if s0 else None
    report = {
        "schema": "efficientformer.probe/1", "sdk_version": f"peers: torch {torch.__version__}, onnxruntime {ort.__version__}",
        "host": {"os": platform.system().lower(), "arch": platform.machine(), "logical_cpus": os.cpu_count()},
        "protocol": {"warmup": args.warmup, "runs": args.runs, "batch": 1, "paper": PAPER_PROTOCOL},
        "rows": rows, "skipped": [],
    }
    text = json.dumps(report, indent=2)
    if args.out == "-":
        print(text)
    else:
        with open(args.out, "w") as f:
            f.write(text)
    for r in rows:
        print(f"{r['variant']:>3} {r['backend']:<12} mean {r['latency']['mean_ms']:.2f} ms", flush=True)


if __name__ == "__main__":
    main()
