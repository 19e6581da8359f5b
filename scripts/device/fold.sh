# One lease (2026-12-07, sixth session): attention's combine merged into o_proj's quantizer in the
# batched int8 step (app.mjs, the default) against the separate combine (app-nofold.mjs: oFold
# forced off in llama_block.ts before bundling): int8 at B = 1 and 16 on Mistral-7B and
# Llama-3.2-1B shapes, alternating bundles; decode of SmolLM2-135M and Llama-3.2-1B shapes with
# the report's new fixed cost per token; then the golden checks on the small fixture models
# (copied to .gpu/fx before the lease). Where the card is an H200, issue 17's run comes first.
# Run: prepare.sh src/bench/bench.ts; scripts/device/bundle-variants.sh; cp scripts/device/*.sh .gpu/; on the
# device: bash .gpu/fold.sh.
source "$(dirname "$0")/setup.sh"
R=/tmp/reports4; mkdir -p $R; pack() { tar -C $R -cf $OUT/reports.tar .; }
if nvidia-smi --query-gpu=name --format=csv,noheader | grep -q H200; then
  for m in mistral-7b llama-3.2-1b; do
    el batch $m
    timeout 200 $N app.mjs --batch 1,4,16 --model synthetic:$m --engines f16,int8 --prompt-tokens 128 --new-tokens 64 --runs 3 --json $R/batch-$m.json 2>&1 | grep "^\[batch\] .* B=\|B=16: GPU" | tail -8
    pack
  done
  el verify
  timeout 100 $N app.mjs --verify $(ls -d fx/* | paste -sd,) --json $R/verify.json 2>&1 | tail -3
  pack
  el done; exit 0 # (the comparisons in a second call: 600 s a call)
fi
for m in mistral-7b llama-3.2-1b; do
  for app in app-nofold app; do
    el $m $app
    timeout 100 $N $app.mjs --batch 1,16 --model synthetic:$m --engines int8 --prompt-tokens 128 --new-tokens 32 --runs 2 --json $R/fold-$m-int8-$app.json 2>&1 | grep "^\[batch\] .* B=\|B=16: GPU" | tail -3
    pack
  done
done
for m in smollm2-135m llama-3.2-1b; do
  el decode $m
  timeout 60 $N app.mjs --model synthetic:$m --engines f16,int8 --prompt-tokens 128 --new-tokens 64 --runs 3 --json $R/decode-$m.json 2>&1 | grep "prompt 128\|fixed cost\|weights at\|streaming" | tail -5
  pack
done
el verify
timeout 100 $N app.mjs --verify $(ls -d fx/* | paste -sd,) --json $R/verify.json 2>&1 | tail -3
pack
el done
