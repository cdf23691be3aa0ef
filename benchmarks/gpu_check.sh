#!/usr/bin/env bash
# The GPU check of issue 27, one script of at most 8 minutes on one GPU:
#   1. the CUDA tests (tests/workflow/test_cuda.py, the CUDA test of tests/models/test_lgae.py);
#   2. the LGAE step benchmark (bench_lgae_step.py: forward, loss, backward, Adam) in float32 and
#      float64, eager and compiled, batch 64, 256 and 1024;
#   3. two epochs of every model through `lgae train` on synthetic jets (no Pythia needed);
#   4. a table of it all.
# Run from anywhere, with the python that has torch:  bash benchmarks/gpu_check.sh
#   --device cpu   the same on the CPU (a dry run of the script; smaller sizes with --quick)
#   --quick        batch 64 only, fewer steps, 300 jets per class
# Results (JSON lines, histories, logs, the table) go to $OUT, or a new temporary folder.
# The whole script keeps within $BUDGET seconds (default 480): each stage gets what is left of it, less
# what the later stages need (RESERVE), so a slow compile shortens the benchmarks, not the table.
set -uo pipefail

DEVICE=cuda
QUICK=0
while [ $# -gt 0 ]; do
    case "$1" in
        --device) DEVICE="$2"; shift 2 ;;
        --quick) QUICK=1; shift ;;
        *) echo "usage: $0 [--device cuda|cpu] [--quick]" >&2; exit 2 ;;
    esac
done
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
PY="${PYTHON:-python3}"
OUT="${OUT:-$(mktemp -d)}"
mkdir -p "$OUT"
export PYTHONPATH="$ROOT/src${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
START=$SECONDS
BUDGET="${BUDGET:-480}"
# seconds a stage may take: its own cap, or what is left of the budget after $2 s kept for later stages
allowed() {
    local left=$(( BUDGET - (SECONDS - START) - $2 ))
    [ "$left" -lt "$1" ] && echo $(( left > 10 ? left : 10 )) || echo "$1"
}
if [ "$QUICK" = 1 ]; then BATCHES="64"; REPEATS=5; JETS=300; else BATCHES="64 256 1024"; REPEATS=10; JETS=1000; fi
THREADS=$([ "$DEVICE" = cpu ] && echo 2 || echo 4)
stamp() { echo "== $(( SECONDS - START )) s: $*"; }
# what a stage's exit status means: timeout's 124 is the budget, not a bug
outcome() { [ "$1" = 124 ] && echo "stopped at its time limit" || echo "failed (exit $1)"; }

stamp "environment"
"$PY" - "$DEVICE" <<'EOF' | tee "$OUT/environment.txt"
import sys, torch
device = sys.argv[1]
print(f"torch {torch.__version__}, python {sys.version.split()[0]}")
if device == "cuda":
    if not torch.cuda.is_available():
        sys.exit("no CUDA device: run with --device cpu for a dry run")
    print(f"{torch.cuda.get_device_name()}, CUDA {torch.version.cuda}")
try:
    import triton
    print(f"triton {triton.__version__}")
except ImportError:
    print("no triton: compiled runs on the GPU fall back to eager")
EOF
[ "${PIPESTATUS[0]}" = 0 ] || exit 1

stamp "CUDA tests"
# the project's pytest options name plugins this machine may lack: give ours explicitly
(cd "$ROOT" && timeout "$(allowed 150 330)" "$PY" -m pytest -o addopts="" -p no:cacheprovider --import-mode=importlib -q \
    tests/workflow/test_cuda.py "tests/models/test_lgae.py::test_runs_on_cuda" 2>&1 | tail -15) | tee "$OUT/tests.txt"

stamp "step benchmarks (eager, then compiled)"
for mode in eager compiled; do
    flag=$([ "$mode" = compiled ] && echo --compile)
    reserve=$([ "$mode" = eager ] && echo 240 || echo 150)
    timeout "$(allowed 150 "$reserve")" "$PY" "$ROOT/benchmarks/bench_lgae_step.py" --device "$DEVICE" --threads "$THREADS" \
        --dtype float32 float64 --batch $BATCHES --repeats "$REPEATS" --warmup 3 $flag \
        >> "$OUT/steps.jsonl" 2> "$OUT/steps_$mode.log" || echo "step benchmark ($mode) $(outcome $?): $OUT/steps_$mode.log"
done

stamp "two epochs of every model"
"$PY" - "$OUT/data" "$JETS" <<'EOF' || echo "the synthetic data failed (above): so will the trainings"
# synthetic jets in the JetNet layout (massless particles around the axis), preprocessed as the pipeline does
import sys
from pathlib import Path
import numpy as np
from lgae.group import lorentz
from lgae.pipeline.data.jetnet_format import write_raw
from lgae.pipeline.data.preprocess import preprocess_class
out, n = Path(sys.argv[1]), int(sys.argv[2])
rng = np.random.default_rng(0)
for jet_class in ("g", "q"):
    count = rng.integers(10, 31, n)
    mask = np.arange(30)[None, :] < count[:, None]
    pt = rng.exponential(1.0, (n, 30)) * mask
    pt = pt / pt.sum(1, keepdims=True)
    eta, phi = 0.1 * rng.standard_normal((2, n, 30))
    particles = np.stack([eta, phi, pt, mask], -1) * mask[..., None]  # padded slots all zero, as JetNet's
    # the jet's mass is its particles' (the raw-data checks compare them): in units of pT from the relative
    # coordinates, times the jet's pT
    summed = lorentz.p4_from_ptetaphi(pt, eta, phi).sum(axis=1)
    mass_over_pt = np.sqrt(np.maximum(lorentz.minkowski_norm2(summed), 0.0))
    jet_pt = rng.uniform(500.0, 1500.0, n)
    jets = np.stack([jet_pt, rng.uniform(-1, 1, n), mass_over_pt * jet_pt, count], -1)
    raw = out / "raw" / f"{jet_class}.hdf5"
    raw.parent.mkdir(parents=True, exist_ok=True)
    write_raw(raw, particles, jets)
    preprocess_class(raw, out / "processed", jet_class, seed=42, source="synthetic")
EOF
for spec in "lgae-min-max 4" "lgae-mix 9" "lgae-mix-compiled 9" "gnnae-jl 55" "gnnae-pl 2" "cnnae 55"; do
    set -- $spec
    model=${1%-compiled}; flag=$([ "$1" != "$model" ] && echo --compile)
    cap=$([ -n "$flag" ] && echo 180 || echo 60)  # a compiled run first compiles two graphs (~1 min each on a CPU)
    timeout "$(allowed "$cap" 15)" "$PY" -m lgae train --model "$model" --latent "$2" --data-dir "$OUT/data/processed" \
        --out-dir "$OUT/train/$1" --max-epochs 2 --batch-size 256 --dtype float32 --device "$DEVICE" \
        --threads "$THREADS" --no-progress $flag > "$OUT/train_$1.log" 2>&1 || echo "lgae train $1 $(outcome $?): $OUT/train_$1.log"
done

stamp "table"
"$PY" - "$OUT" <<'EOF' | tee "$OUT/table.md"
import csv, json, sys
from pathlib import Path
out = Path(sys.argv[1])
print((out / "environment.txt").read_text().strip().replace("\n", "; "))
tests = (out / "tests.txt").read_text().strip().splitlines()
print(f"\ntests: {tests[-1] if tests else 'no output'}\n")
rows = [json.loads(line) for line in (out / "steps.jsonl").read_text().splitlines() if line.startswith("{")] \
    if (out / "steps.jsonl").exists() else []
print("| model | dtype | batch | mode | ms per step | µs per jet | compile s |")
print("|---|---|---|---|---|---|---|")
for r in rows:
    mode = "compiled" if r.get("compiled") else ("eager" if not r.get("compile_note") else "eager (fallback)")
    comp = f"{r['compile_s']:.0f}" if r.get("compile_s") and r.get("compiled") else ""
    print(f"| {r['model']} | {r['dtype']} | {r['batch']} | {mode} | {r['median_ms']:.2f} | {r['per_jet_us']:.1f} | {comp} |")
print("\n| lgae train (2 epochs, float32, batch 256) | epoch 1 s | epoch 2 s | valid loss | compiled |")
print("|---|---|---|---|---|")
for run in sorted((out / "train").glob("*")):
    history, meta = run / "history.csv", run / "meta.json"
    if not history.exists():
        print(f"| {run.name} | failed or stopped at its time limit (train_{run.name}.log) | | | |")
        continue
    epochs = list(csv.DictReader(history.open()))
    compiled = json.loads(meta.read_text()).get("compile", {}).get("active", False)
    secs = [f"{float(e['epoch_seconds']):.2f}" for e in epochs] + ["", ""]
    print(f"| {run.name} | {secs[0]} | {secs[1]} | {float(epochs[-1]['valid_loss']):.4g} | {compiled} |")
EOF
stamp "done; everything is in $OUT"
