#!/usr/bin/env bash
# evoc's main job, end to end on the embedded defaults: evaluates both example teachers on the
# Fashion-MNIST test set with evoc's executor and with ONNX Runtime, and shows that they agree.
# (Later issues turn this into compression.)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
data=/usr/share/datasets/fashion-mnist:test
field() { sed -n "s/.*\"$1\":\"\{0,1\}\([^,\"}]*\).*/\1/p"; }
printf '%-16s %-6s %8s %8s %6s  %s\n' model engine samples accuracy ms predictions_sha256
for model in fashion-mlp fashion-lenet5; do
  for engine in djl ort; do
    json=$("$root/evoc" eval --model "$root/examples/models/$model.onnx" --data "$data" --engine "$engine")
    printf '%-16s %-6s %8s %8s %6s  %s\n' "$model" "$(field engine <<<"$json")" "$(field samples <<<"$json")" \
      "$(field accuracy <<<"$json")" "$(field milliseconds <<<"$json")" "$(field predictions_sha256 <<<"$json" | cut -c1-16)"
  done
done
