# One lease (2026-12-07, fifth session), after batch-sg.sh: the f32 few-rows GEMM (f16 weights)
# with its lanes' sums through subgroup shuffles too (app-f1.mjs: rowsTuningFor's sgReduce default
# on, changed before bundling), against without (app.mjs, the default): batched decode of f16 at
# B = 1 and 16 on both shapes, int8 with the same bundle (the shared reduction function), then the
# golden checks on the small fixture models (copied to .gpu/fx before the lease).
# Run: prepare.sh src/bench/bench.ts; scripts/device/bundle-variants.sh; cp scripts/device/*.sh .gpu/; on the device:
# bash .gpu/batch-sg2.sh.
source "$(dirname "$0")/setup.sh"
R=/tmp/reports2; mkdir -p $R; pack() { tar -C $R -cf $OUT/reports.tar .; }
for m in mistral-7b llama-3.2-1b; do
  for app in app-f1 app; do
    el $m $app
    timeout 100 $N $app.mjs --batch 1,16 --model synthetic:$m --engines f16 --prompt-tokens 128 --new-tokens 32 --runs 2 --json $R/batch-$m-f16-$app.json 2>&1 | grep "^\[batch\] .* B=\|B=16: GPU" | tail -3
    pack
  done
done
el int8
timeout 100 $N app.mjs --batch 1,16 --model synthetic:mistral-7b --engines int8 --prompt-tokens 128 --new-tokens 32 --runs 2 --json $R/batch-mistral-7b-int8-app.json 2>&1 | grep "^\[batch\] .* B=\|B=16: GPU" | tail -3
pack
el verify
timeout 100 $N app.mjs --verify $(ls -d fx/* | paste -sd,) --json $R/verify.json 2>&1 | tail -3
pack
el done
