# One lease (2026-12-08, seventh session of 2026-12-07): a decode step's o_proj merging attention's
# splits itself (gemv_input_attn.wgsl; app.mjs, the default, while a step has at most
# O_MERGE_MAX_SPLITS live splits) against attention's combine + the plain o_proj GEMV
# (app-nomerge.mjs: O_MERGE_MAX_SPLITS 0 before bundling): f16 and int8 decode at prompt 128 on
# the four synthetic presets, the bundles alternating, with the report's fixed cost per token; then
# int8 at a 1,900-token prompt with the merge at every split count (app-merge32.mjs); then the
# golden checks on the small fixture models (copied to .gpu/fx before the lease).
# Run: prepare.sh src/bench/bench.ts; scripts/device/bundle-variants.sh; cp scripts/device/*.sh .gpu/;
# on the device: bash .gpu/merge.sh.
source "$(dirname "$0")/setup.sh"
R=/tmp/reports5; mkdir -p $R; pack() { tar -C $R -cf $OUT/reports.tar .; }
for m in smollm2-135m llama-3.2-1b qwen2.5-0.5b mistral-7b; do
  for app in app-nomerge app; do
    el $m $app
    timeout 90 $N $app.mjs --model synthetic:$m --engines f16,int8 --prompt-tokens 128 --new-tokens 64 --runs 3 --json $R/decode-$m-$app.json 2>&1 | grep "prompt 128\|fixed cost\|weights at\|GPU ms\|streaming" | tail -6
    pack
  done
done
# Long contexts (30 splits at 1,900 tokens): the combine (app.mjs) against o_proj merging every
# split (app-merge32.mjs: O_MERGE_MAX_SPLITS 32).
for m in llama-3.2-1b mistral-7b; do
  for app in app-merge32 app; do
    el long $m $app
    timeout 90 $N $app.mjs --model synthetic:$m --engines int8 --prompt-tokens 1900 --new-tokens 64 --runs 3 --json $R/long-$m-$app.json 2>&1 | grep "prompt 1900\|GPU ms" | tail -3
    pack
  done
done
el verify
timeout 100 $N app.mjs --verify $(ls -d fx/* | paste -sd,) --json $R/verify.json 2>&1 | tail -3
pack
el done
