"""Our CPU path against ONNX Runtime, interleaved (optional; CI does not run it).

On a shared 2-core VM the same binary's mean latency drifts by ±25% from one minute to the next,
so two benchmarks run one after the other can disagree by more than the difference measured.
This script alternates short rounds of the two in one process tree (ONNX Runtime session loaded
once here; the probe run as a subprocess per round) and reports, per variant and thread count,
the median over rounds of each side's mean and the median of the per-round ratios:
    python head_to_head.py --binary ../../target/release/efficientformer --threads 1 2 --rounds 9
Requires requirements.txt plus `onnxruntime==1.31.1 onnx onnxscript` (as peer_benchmark.py).
"""
import argparse
import json
import os
import statistics
import subprocess
import tempfile
import time

import onnxruntime as ort
import timm
import torch

from onnx_peer import onnx_session
from seeded_weights import fill_state_dict, seeded_input


def ort_session(variant, threads, directory):
    model = timm.create_model(f"efficientformerv2_{variant}", pretrained=False).eval()
    fill_state_dict(model)
    x = torch.from_numpy(seeded_input((1, 3, 224, 224)))
    session = onnx_session(model, x, threads, os.path.join(directory, f"{variant}-{threads}.onnx"))
    feed = {"images": x.numpy()}
    return lambda: session.run(None, feed)


def ort_mean_ms(run, warmup, runs):
    for _ in range(warmup):
        run()
    start = time.perf_counter()
    for _ in range(runs):
        run()
    return (time.perf_counter() - start) * 1e3 / runs


def ours_mean_ms(binary, variant, threads, warmup, runs):
    out = subprocess.run(
        [binary, "probe", "--backends", "cpu", "--variants", variant, "--threads", str(threads),
         "--warmup", str(warmup), "--runs", str(runs), "--format", "json"],
        check=True, capture_output=True, text=True).stdout
    return json.loads(out)["rows"][0]["latency"]["mean_ms"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--binary", required=True, help="the efficientformer CLI (release build)")
    parser.add_argument("--variants", nargs="*", default=["s0", "s1", "s2", "l"])
    parser.add_argument("--threads", nargs="*", type=int, default=[1, 2])
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--out", default=None, help="write the table as JSON here")
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory() as directory:
        for threads in args.threads:
            torch.set_num_threads(threads)
            for variant in args.variants:
                run = ort_session(variant, threads, directory)
                ours, theirs = [], []
                for _ in range(args.rounds):
                    theirs.append(ort_mean_ms(run, args.warmup, args.runs))
                    ours.append(ours_mean_ms(args.binary, variant, threads, args.warmup, args.runs))
                ratios = [o / t for o, t in zip(ours, theirs)]
                row = {"variant": variant, "threads": threads, "rounds": args.rounds, "runs_per_round": args.runs,
                       "ours_ms": statistics.median(ours), "onnxruntime_ms": statistics.median(theirs),
                       "ratio_median": statistics.median(ratios), "ratio_min": min(ratios), "ratio_max": max(ratios)}
                results.append(row)
                print(f"{variant:>3} {threads}t  ours {row['ours_ms']:7.2f} ms  ORT {row['onnxruntime_ms']:7.2f} ms  "
                      f"ours/ORT {row['ratio_median']:.2f} (rounds {row['ratio_min']:.2f}-{row['ratio_max']:.2f})", flush=True)
    if args.out:
        with open(args.out, "w") as f:
            json.dump({"schema": "efficientformer.head_to_head/1", "onnxruntime": ort.__version__, "rows": results}, f, indent=2)


if __name__ == "__main__":
    main()
