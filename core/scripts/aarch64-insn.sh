#!/usr/bin/env bash
# The aarch64 cost benchmark (outside CI's pass/fail): guest instructions per inference at one
# thread, ours (the CLI's probe) against ONNX Runtime's own aarch64 build (its PyPI wheel's
# `libonnxruntime.so`, driven by `core/scripts/ortdrv`), both under the same qemu with the same
# `-cpu`, counted by the plugin in `core/scripts/qemu-insn/`. Deterministic: the same binary
# gives the same count on any machine, whatever else it is doing. Needs root (chroot).
#
#   bash core/scripts/aarch64-insn.sh [VARIANTS...]        (default: s0 s1 s2 l)
#
# Per variant: each program runs with N and N+K passes (N = 1, K = $PASSES, default 2; our
# probe also makes one cold pass in both), and the difference over K is the cost of one
# inference, loading and start-up cancelled out; then one profiled pass of ours, split by
# layer as `probe --profile` splits its time (the plugin reads the labels the profile passes
# to `instruction_mark`). Against the network's multiply-accumulates (the paper's MAC count):
# instructions per MAC, where one NEON `fmla` per 4 MACs is the floor.
#
# Environment: QEMU_CPU (default cortex-a76: ARMv8.2 with FP16 and the dot product, what
# ONNX Runtime's CPU detection is shown in core/scripts/qemu-insn/cpuinfo-cortex-a76.txt),
# PASSES (K), PYTHON (a Python with core/reference/requirements.txt and `onnx onnxscript`, to
# export the ONNX files; default python3), ORT_VERSION (default 1.32.0), HIST=1 (also write
# where our instructions go, by function, for the first variant: hist-VARIANT.txt, from a run
# of N+K passes), OURS (another aarch64 build of the CLI to measure, for a before/after),
# PRECISIONS (ours in each, default `f32 f16`: the f16 column needs a -cpu with FEAT_FP16, as
# cortex-a76 and max have), ORT=0 (leave ONNX Runtime out, e.g. under -cpu max, for which
# there is no cpuinfo file it can parse).
# Output: $CARGO_TARGET_DIR/aarch64/insn/report.md and report.json.
#
# The first run builds qemu 10 from Debian trixie's source with plugins enabled (trixie's
# packaged qemu-user is static and loads no plugins; bookworm's hangs on threads): ~5 min
# on 2 cores, kept in the chroot under /opt/qemu-plugins.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd -P)
cd "$root"
scripts=$root/core/scripts
mkdir -p "${CARGO_TARGET_DIR:-$root/target}"
host_target=$(cd "${CARGO_TARGET_DIR:-$root/target}" && pwd -P)
target_dir=$host_target/aarch64
chroot_dir=${AARCH64_CHROOT:-/var/cache/efficientformer/aarch64-trixie}
work=$target_dir/insn
qemu_dir=/opt/qemu-plugins
ort_version=${ORT_VERSION:-1.32.0}
cpu=${QEMU_CPU:-cortex-a76}
mkdir -p "$work/onnx" "$work/ort"

echo "== aarch64 build (core/scripts/aarch64.sh)"
bash "$scripts/aarch64.sh" build >/dev/null

echo "== qemu with plugins"
if [ ! -x "$chroot_dir$qemu_dir/qemu-aarch64" ]; then
  grep -q '^deb-src' "$chroot_dir/etc/apt/sources.list" ||
    echo "deb-src http://deb.debian.org/debian trixie main" >>"$chroot_dir/etc/apt/sources.list"
  chroot "$chroot_dir" apt-get update -qq
  chroot "$chroot_dir" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    build-essential python3 python3-venv python3-setuptools python3-pycotap meson ninja-build \
    pkg-config libglib2.0-dev flex bison zlib1g-dev xz-utils dpkg-dev
  chroot "$chroot_dir" sh -c "mkdir -p /src && cd /src && apt-get source --download-only qemu \
    && rm -rf qemu-10.* && tar xf qemu_*.orig.tar.xz && cd qemu-10.* && mkdir build && cd build \
    && ../configure --target-list=aarch64-linux-user --enable-plugins --disable-system --disable-docs \
         --disable-tools --disable-werror --disable-install-blobs >/dev/null \
    && ninja qemu-aarch64 && mkdir -p $qemu_dir && cp qemu-aarch64 $qemu_dir/ \
    && cp -r ../include/qemu $qemu_dir/include"
fi
cp "$scripts/qemu-insn/insn_count.c" "$chroot_dir$qemu_dir/"
chroot "$chroot_dir" sh -c "cd $qemu_dir && cc -shared -fPIC -O2 -I include \$(pkg-config --cflags glib-2.0) \
  -o libinsn_count.so insn_count.c"

variants=("$@")
[ ${#variants[@]} -gt 0 ] || variants=(s0 s1 s2 l)
if [ "${ORT:-1}" = 1 ]; then
  echo "== ONNX Runtime $ort_version (aarch64 wheel) and its driver"
  if [ ! -f "$work/ort/libonnxruntime.so.$ort_version" ]; then
    "${PYTHON:-python3}" -m pip download -q --no-deps --only-binary=:all: --platform manylinux_2_28_aarch64 \
      --python-version 3.11 -d "$work/ort" "onnxruntime==$ort_version"
    (cd "$work/ort" && python3 -m zipfile -e onnxruntime-"$ort_version"-*.whl wheel \
      && cp wheel/onnxruntime/capi/libonnxruntime.so."$ort_version" . && rm -rf wheel)
  fi
  env PATH="/usr/bin:$PATH" CARGO_TARGET_DIR="$target_dir/ortdrv" \
    CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER=aarch64-linux-gnu-gcc \
    cargo build -q --release --target aarch64-unknown-linux-gnu --manifest-path "$scripts/ortdrv/Cargo.toml"

  for variant in "${variants[@]}"; do
    [ -f "$work/onnx/$variant.onnx" ] ||
      (cd core/reference && "${PYTHON:-python3}" export_onnx.py "$work/onnx" "$variant")
  done
fi
echo "== counting under qemu-aarch64 -cpu $cpu"
AARCH64_CPUINFO="$scripts/qemu-insn/cpuinfo-$cpu.txt"
[ -f "$AARCH64_CPUINFO" ] || AARCH64_CPUINFO=
export AARCH64_CPUINFO
python3 - "$work" "$cpu" "${PASSES:-2}" "${HIST:-0}" "${ORT:-1}" "${PRECISIONS:-f32 f16}" "${variants[@]}" <<'EOF'
import json, os, re, subprocess, sys
from collections import defaultdict
work, cpu, passes, hist, with_ort, precisions, variants = (sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4] == "1",
                                                           sys.argv[5] == "1", sys.argv[6].split(), sys.argv[7:])
root = os.getcwd()
release = os.path.join(os.path.dirname(work), "aarch64-unknown-linux-gnu", "release")
cli = os.environ.get("OURS") or os.path.join(release, "efficientformer")
ortdrv = os.path.join(os.path.dirname(work), "ortdrv", "aarch64-unknown-linux-gnu", "release", "ortdrv")
ort_lib = with_ort and next(os.path.join(work, "ort", f) for f in os.listdir(os.path.join(work, "ort")) if f.startswith("libonnxruntime.so."))
# The labels of `efficientformer::model::profile::mark_label`: (stage + 1) << 8 | kind.
KINDS = ["stem", "downsample", "attention_downsample", "ffn", "attention", "head"]
START = 0xFFFF
def count(program, plugin_args=""):
    """Runs an aarch64 program under the counting qemu; returns (stdout, instructions, marks)."""
    plugin = "/opt/qemu-plugins/libinsn_count.so" + plugin_args
    done = subprocess.run(["bash", "core/scripts/aarch64.sh", "exec", "/opt/qemu-plugins/qemu-aarch64", "-cpu", cpu,
                           "-d", "plugin", "-plugin", plugin, "-L", "/usr/aarch64-linux-gnu", *program],
                          capture_output=True, text=True, cwd=root)
    if done.returncode != 0:
        sys.exit(f"{' '.join(program)} failed:\n{done.stderr[-3000:]}")
    insns = int(re.findall(r"^insns (\d+)$", done.stderr, re.M)[-1])
    marks = [(int(l), int(n)) for l, n in re.findall(r"^mark (\d+) (\d+)$", done.stderr, re.M)]
    return done.stdout, insns, marks
def ours(variant, precision, runs, extra=(), plugin_args=""):
    return count([cli, "probe", "--variants", variant, "--backends", "cpu", "--threads", "1", "--warmup", "0",
                  "--runs", str(runs), "--precision", precision, "--format", "json", *extra], plugin_args)
def per_inference(run):
    (_, one, _), (_, more, _) = run(1), run(1 + passes)
    return (more - one) / passes
rows, stages = [], []
for variant in variants:
    row = {"variant": variant, "cpu": cpu}
    for precision in precisions:
        ours_insns = per_inference(lambda n: ours(variant, precision, n))
        out, _, marks = ours(variant, precision, 1, ["--profile"], ",mark=instruction_mark")
        report = json.loads(out)["rows"][0]
        if report["precision"] != precision:
            sys.exit(f"{variant}: {precision} asked for, {report['precision']} ran (a -cpu without FEAT_FP16?)")
        macs = report["gmacs"] * 1e9
        last_start = max(i for i, (label, _) in enumerate(marks) if label == START)
        layers = defaultdict(lambda: [0, 0])
        order = []
        for (_, before), (label, after) in zip(marks[last_start:], marks[last_start + 1:]):
            key = ((label >> 8) - 1 if label >> 8 else None, KINDS[label & 0xFF])
            if key not in layers:
                order.append(key)
            layers[key][0] += 1
            layers[key][1] += after - before
        profiled = sum(v[1] for v in layers.values())
        for stage, kind in order:
            n, insns = layers[(stage, kind)]
            stages.append({"variant": variant, "precision": precision, "stage": stage, "kind": kind, "count": n,
                           "insns": insns, "share": insns / profiled})
        row.update({f"ours_{precision}_insns": ours_insns, f"ours_{precision}_per_mac": ours_insns / macs, "macs": macs,
                    "fmla_floor": macs / 4})
        print(f"{variant:>2} {precision}: ours {ours_insns / 1e6:8.1f} M, {ours_insns / macs:.3f} insns/MAC", flush=True)
    if with_ort:
        model = os.path.join(work, "onnx", f"{variant}.onnx")
        row["onnxruntime_insns"] = per_inference(lambda n: count([ortdrv, ort_lib, model, str(n), "1"]))
        print(f"{variant:>2}: ONNX Runtime {row['onnxruntime_insns'] / 1e6:8.1f} M", flush=True)
    rows.append(row)
    if hist and variant == variants[0]:
        path = os.path.join(work, f"hist-{variant}.raw")
        ours(variant, precisions[0], 1 + passes, [], f",hist={path}")
        counts = [line.split(" ", 1) for line in open(path).read().splitlines()]
        names = subprocess.run(["c++filt"], input="\n".join(name for _, name in counts), capture_output=True, text=True).stdout.splitlines()
        total = sum(int(insns) for insns, _ in counts)
        with open(os.path.join(work, f"hist-{variant}.txt"), "w") as f:
            f.write(f"{variant} {precisions[0]}, {1 + passes + 1} passes and start-up: instructions by the function each block starts in\n")
            for (insns, _), name in sorted(zip(counts, names), key=lambda c: -int(c[0][0])):
                f.write(f"{int(insns) / 1e6:10.2f} M {int(insns) / total:6.1%}  {name}\n")
with open(os.path.join(work, "report.json"), "w") as f:
    json.dump({"cpu": cpu, "passes": passes, "rows": rows, "profile": stages}, f, indent=1)
def by_stage(variant, precision):
    totals = defaultdict(int)
    for s in stages:
        if s["variant"] == variant and s["precision"] == precision:
            totals[s["kind"] if s["stage"] is None else s["stage"]] += s["insns"]
    return totals
STAGES = ["stem", 0, 1, 2, 3, "head"]
with open(os.path.join(work, "report.md"), "w") as f:
    f.write(f"Guest instructions per inference, one thread, qemu-aarch64 -cpu {cpu} (M = 10^6)\n\n")
    columns = [f"ours {p} M" for p in precisions] + [f"ours {p} insns/MAC" for p in precisions]
    columns += ["f16 / f32"] if {"f32", "f16"} <= set(precisions) else []
    columns += ["ONNX Runtime M"] + [f"{p} / ORT" for p in precisions] if with_ort else []
    f.write("| variant | MACs M | fmla floor M | " + " | ".join(columns) + " |\n|---|---|---|" + "---|" * len(columns) + "\n")
    for r in rows:
        cells = [f"{r[f'ours_{p}_insns'] / 1e6:.0f}" for p in precisions] + [f"{r[f'ours_{p}_per_mac']:.2f}" for p in precisions]
        if {"f32", "f16"} <= set(precisions):
            cells.append(f"{r['ours_f16_insns'] / r['ours_f32_insns']:.2f}")
        if with_ort:
            cells += [f"{r['onnxruntime_insns'] / 1e6:.0f}"] + [f"{r[f'ours_{p}_insns'] / r['onnxruntime_insns']:.2f}" for p in precisions]
        f.write(f"| {r['variant'].upper()} | {r['macs'] / 1e6:.0f} | {r['fmla_floor'] / 1e6:.0f} | " + " | ".join(cells) + " |\n")
    for precision in precisions:
        f.write(f"\nOurs in {precision} by stage (one profiled pass, M):\n\n| variant | stem | stage 0 | stage 1 | stage 2 | stage 3 | head |\n"
                "|---|---|---|---|---|---|---|\n")
        for r in rows:
            totals = by_stage(r["variant"], precision)
            f.write(f"| {r['variant'].upper()} | " + " | ".join(f"{totals[k] / 1e6:.1f}" for k in STAGES) + " |\n")
    if {"f32", "f16"} <= set(precisions):
        f.write("\nf16 / f32 by stage:\n\n| variant | stem | stage 0 | stage 1 | stage 2 | stage 3 | head |\n|---|---|---|---|---|---|---|\n")
        for r in rows:
            half, full = by_stage(r["variant"], "f16"), by_stage(r["variant"], "f32")
            f.write(f"| {r['variant'].upper()} | " + " | ".join(f"{half[k] / full[k]:.2f}" for k in STAGES) + " |\n")
    f.write("\nOurs by layer (one profiled pass):\n\n| variant | precision | stage | kind | modules | M insns | share |\n|---|---|---|---|---|---|---|\n")
    for s in stages:
        stage = "-" if s["stage"] is None else s["stage"]
        f.write(f"| {s['variant'].upper()} | {s['precision']} | {stage} | {s['kind']} | {s['count']} | {s['insns'] / 1e6:.1f} | {s['share']:.1%} |\n")
print(open(os.path.join(work, "report.md")).read())
EOF
