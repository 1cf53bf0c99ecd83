#!/usr/bin/env bash
# evoc's main job, end to end on the embedded defaults: evaluates both example teachers on the
# Fashion-MNIST test set with evoc's executor and with ONNX Runtime (they agree on every sample),
# then compresses the held-out MLP (directed evolution to 90%, distillation, one shared codebook,
# entropy coding) into a .evoc container, decompresses it to ONNX and prints the result table
# (about 4 minutes on 2 cores). Outputs go to $EVOC_OUT (default: quickstart-out/). The held-out
# MLP never saw the first 10,000 training images, which judge the accuracy budget.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
fashion=/usr/share/datasets/fashion-mnist
data=$fashion:test
out="${EVOC_OUT:-$root/quickstart-out}"
field() { sed -n "s/.*\"$1\":\"\{0,1\}\([^,\"}]*\).*/\1/p"; }
printf '%-16s %-6s %8s %8s %6s  %s\n' model engine samples accuracy ms predictions_sha256
for model in fashion-mlp fashion-lenet5; do
  for engine in djl ort; do
    json=$("$root/evoc" eval --model "$root/examples/models/$model.onnx" --data "$data" --engine "$engine")
    printf '%-16s %-6s %8s %8s %6s  %s\n' "$model" "$(field engine <<<"$json")" "$(field samples <<<"$json")" \
      "$(field accuracy <<<"$json")" "$(field milliseconds <<<"$json")" "$(field predictions_sha256 <<<"$json" | cut -c1-16)"
  done
done

mkdir -p "$out"
echo
"$root/evoc" compress --model "$root/examples/models/fashion-mlp-holdout.onnx" --calib "$fashion:train" \
  --test "$data" --out "$out/fashion-mlp-holdout.evoc" --report "$out/fashion-mlp-holdout.json"
"$root/evoc" decompress "$out/fashion-mlp-holdout.evoc" --out "$out/fashion-mlp-holdout-decompressed.onnx"
"$root/evoc" eval --model "$out/fashion-mlp-holdout-decompressed.onnx" --data "$data" --engine ort
echo "container: $out/fashion-mlp-holdout.evoc, report: $out/fashion-mlp-holdout.json"
