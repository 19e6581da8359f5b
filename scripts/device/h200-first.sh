# One lease (2026-12-07, sixth session): where the card is an H200, issue 17's run first (both
# engines, B = 1, 4, 16 on Llama-3.2-1B and Mistral-7B shapes, as batch-sg.sh), then the f32
# few-rows GEMM's shuffle reduction (app-f1.mjs: rowsTuningFor's sgReduce default on, changed
# before bundling) against the default (app.mjs) for f16 at B = 1 and 16 on both shapes, and the
# golden checks on the small fixture models (copied to .gpu/fx before the lease).
# Run: prepare.sh src/bench/bench.ts; bundle app-f1; cp scripts/device/*.sh .gpu/; on the device:
# bash .gpu/h200-first.sh.
source "$(dirname "$0")/setup.sh"
R=/tmp/reports3; mkdir -p $R; pack() { tar -C $R -cf $OUT/reports.tar .; }
if nvidia-smi --query-gpu=name --format=csv,noheader | grep -q H200; then
  for m in mistral-7b llama-3.2-1b; do
    el batch $m
    timeout 200 $N app.mjs --batch 1,4,16 --model synthetic:$m --engines f16,int8 --prompt-tokens 128 --new-tokens 64 --runs 3 --json $R/batch-$m.json 2>&1 | grep "^\[batch\] .* B=\|B=16: GPU" | tail -8
    pack
  done
fi
for m in mistral-7b llama-3.2-1b; do
  for app in app-f1 app; do
    el $m $app
    timeout 100 $N $app.mjs --batch 1,16 --model synthetic:$m --engines f16 --prompt-tokens 128 --new-tokens 32 --runs 2 --json $R/batch-$m-f16-$app.json 2>&1 | grep "^\[batch\] .* B=\|B=16: GPU" | tail -3
    pack
  done
done
el verify
timeout 100 $N app-f1.mjs --verify $(ls -d fx/* | paste -sd,) --json $R/verify-f1.json 2>&1 | tail -3
pack
el done
