# One lease (2026-12-07, fifth session): the batched-decode issue's run with the day's defaults
# (W8A8 few-rows GEMM in 8-row blocks of 4 x 2 groups along the grid's x; f16's few-rows GEMM in
# 8-row blocks along x on narrow outputs): both engines at B = 1, 4, 16 on Llama-3.2-1B and
# Mistral-7B shapes, single-sequence decode of every preset, and the golden checks on the small
# fixture models (copied to .gpu/fx before the lease).
# Run: prepare.sh src/bench/bench.ts; cp scripts/device/*.sh .gpu/; on the device: bash .gpu/batch-final.sh.
source "$(dirname "$0")/setup.sh"
R=/tmp/reports; mkdir -p $R; pack() { tar -C $R -cf $OUT/reports.tar .; }
for m in mistral-7b llama-3.2-1b; do
  el batch $m
  timeout 200 $N app.mjs --batch 1,4,16 --model synthetic:$m --engines f16,int8 --prompt-tokens 128 --new-tokens 64 --runs 3 --json $R/batch-$m.json 2>&1 | grep "^\[batch\] .* B=\|B=16: GPU" | tail -8
  pack
done
for m in smollm2-135m qwen2.5-0.5b llama-3.2-1b mistral-7b; do
  el decode $m
  timeout 60 $N app.mjs --model synthetic:$m --engines f16,int8 --prompt-tokens 128 --new-tokens 128 --runs 3 --json $R/decode-$m.json 2>&1 | grep "prompt 128" | tail -3
  pack
done
el verify
timeout 120 $N app.mjs --verify $(ls -d fx/* | paste -sd,) --json $R/verify.json 2>&1 | tail -3
pack
el done
