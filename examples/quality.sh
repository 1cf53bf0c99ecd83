#!/usr/bin/env bash
# Regenerates the README's sparsification quality table: method x repair x model x sparsity ->
# test accuracy, test KL, wall time, each measured by ./evoc sparsify on Fashion-MNIST (calibration:
# the training split, unlabelled; test: the 10,000 test images, ONNX Runtime on the written file).
#
#   examples/quality.sh [OUT_DIR]        (default: quality-runs/; about 100 minutes on 2 cores)
#
# Resumable: a run whose report exists is not repeated; delete the folder to start over.
# Environment: MODELS, SPARSITIES, METHODS, REPAIRS (space-separated) narrow the grid;
# EVOC_FLAGS adds flags to every run (e.g. "--seed 2").
set -euo pipefail
root="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)"
out="${1:-quality-runs}"
data="${FASHION_MNIST:-/usr/share/datasets/fashion-mnist}"
mkdir -p "$out"

for model in ${MODELS:-mlp lenet5}; do
  for sparsity in ${SPARSITIES:-0.8 0.9 0.95}; do
    for method in ${METHODS:-magnitude de}; do
      for repair in ${REPAIRS:-none ls distill}; do
        name="$model-$sparsity-$method-$repair"
        [ -f "$out/$name.json" ] && continue
        echo "quality: $name" >&2
        # shellcheck disable=SC2086
        "$root/evoc" sparsify --model "$root/examples/models/fashion-$model.onnx" \
          --calib "$data:train" --test "$data:test" --sparsity "$sparsity" \
          --method "$method" --repair "$repair" ${EVOC_FLAGS:-} \
          --out "$out/$name.onnx" --report "$out/$name.json" 2>"$out/$name.log"
      done
    done
  done
done

python3 - "$out" "$root/evoc" "$data:test" <<'EOF'
import json, pathlib, subprocess, sys

runs = {}
for f in sorted(pathlib.Path(sys.argv[1]).glob("*.json")):
    r = json.loads(f.read_text())
    s = r["settings"]
    model = pathlib.Path(s["model"]).stem.removeprefix("fashion-")
    runs[(model, s["sparsity"], s["method"], s["repair"])] = r

print("| model | sparsity asked (reached) | method | repair | test accuracy | vs teacher | test KL | agreement | wall time |")
print("|---|---|---|---|---|---|---|---|---|")
for (model, sparsity, method, repair), r in sorted(runs.items(), key=lambda kv: (kv[0][0], kv[0][1], kv[0][3], kv[0][2])):
    t = r["test"]
    drop = 100 * (t["student_accuracy"] - t["teacher_accuracy"])
    print(f"| {model} | {sparsity:.0%} ({r['sparsity']:.1%}) | {method} | {repair} | {100 * t['student_accuracy']:.2f}% "
          f"| {drop:+.2f} | {t['kl']:.3f} | {100 * t['agreement']:.2f}% | {r['seconds']:.0f} s |")

print()
print("DE minus magnitude, same model, sparsity and repair, each with its paired standard error (./evoc eval --compare")
print("--teacher): test accuracy in points (from the test images only one of the two gets right), test KL as a ratio")
print("and as a difference (from the per-image KLs), top-1 agreement with the teacher in points, and the test images only")
print("one of the two gets right, split by whether the teacher gets them right:")
for (model, sparsity, method, repair), r in sorted(runs.items()):
    base = runs.get((model, sparsity, "magnitude", repair))
    if method != "de" or base is None:
        continue
    name = lambda m: pathlib.Path(sys.argv[1], f"{model}-{sparsity}-{m}-{repair}.onnx")
    paired = json.loads(subprocess.run([sys.argv[2], "eval", "--engine", "ort", "--data", sys.argv[3], "--model",
                                        str(name("de")), "--compare", str(name("magnitude")),
                                        "--teacher", r["settings"]["model"]],
                                       check=True, capture_output=True, text=True).stdout)["compare"]
    dg = 100 * (r["test"]["agreement"] - base["test"]["agreement"])
    right, wrong = paired["where_teacher_right"], paired["where_teacher_wrong"]
    print(f"  {model} {sparsity:.0%} {repair}: {100 * paired['difference']:+.2f} ± {100 * paired['paired_standard_error']:.2f} "
          f"points, KL x{paired['kl_ratio']:.2f} ({paired['kl_difference']:+.4f} ± {paired['kl_paired_standard_error']:.4f}), "
          f"agreement {dg:+.2f} points; only one right where the teacher is right "
          f"{right['only_model_correct']} DE, {right['only_compare_correct']} magnitude, where it is wrong "
          f"{wrong['only_model_correct']}, {wrong['only_compare_correct']}")
EOF
