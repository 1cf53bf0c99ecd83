#!/usr/bin/env bash
# Regenerates the README's compression table: model x method -> parameter ratio (with and without
# codebooks), file ratio, test accuracy of the decompressed model (ONNX Runtime), wall time, each
# measured by ./evoc compress on Fashion-MNIST (calibration: the training split; the budget,
# --max-accuracy-drop 1.0 by default, is judged on the labels of its first 10,000 images, which
# lenet5-holdout's teacher never saw; test: the 10,000 test images).
#
#   examples/compress-quality.sh [OUT_DIR]     (default: compress-runs/)
#
# Resumable: a run whose report exists is not repeated; delete the folder to start over.
# Environment: MODELS, METHODS (space-separated) narrow the grid; SPARSITY (default 0.9);
# EVOC_FLAGS adds flags to every run (e.g. "--seed 2").
set -euo pipefail
root="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)"
out="${1:-compress-runs}"
data="${FASHION_MNIST:-/usr/share/datasets/fashion-mnist}"
mkdir -p "$out"

for model in ${MODELS:-mlp mlp-holdout lenet5 lenet5-holdout}; do
  for method in ${METHODS:-de+bits weight-sharing de+weight-sharing}; do
    name="$model-$method"
    [ -f "$out/$name.json" ] && continue
    echo "compress-quality: $name" >&2
    sparsity=()
    [[ "$method" == de* || "$method" == magnitude* ]] && sparsity=(--sparsity "${SPARSITY:-0.9}")
    # shellcheck disable=SC2086
    "$root/evoc" compress --model "$root/examples/models/fashion-$model.onnx" \
      --calib "$data:train" --test "$data:test" --method "$method" "${sparsity[@]}" ${EVOC_FLAGS:-} \
      --out "$out/$name.evoc" --report "$out/$name.json" >"$out/$name.table" 2>"$out/$name.log"
  done
done

python3 - "$out" <<'PY'
import json, pathlib, sys

print("| model | method | parameter ratio (without codebooks) | file ratio | test accuracy | vs teacher | "
      "quantization | wall time |")
print("|---|---|---|---|---|---|---|---|")
for f in sorted(pathlib.Path(sys.argv[1]).glob("*.json")):
    r = json.loads(f.read_text())
    method = r["settings"]["method"]
    model = f.stem[: -len(method) - 1]
    t = r["test"]
    drop = 100 * (t["student_accuracy"] - t["teacher_accuracy"])
    layers = " ".join(l["quantization"] for l in r["layers"])
    print(f"| {model} | {method} | {r['parameter_ratio']:.1f}x ({r['parameter_ratio_without_codebooks']:.1f}x) "
          f"| {r['file_ratio']:.1f}x | {100 * t['student_accuracy']:.2f}% | {drop:+.2f} | {layers} "
          f"| {r['seconds']:.0f} s |")
PY
