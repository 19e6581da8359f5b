# One lease (2026-12-07, fourth session): the few-rows W8A8 GEMM with x staged in workgroup memory
# (tiled, -t) against x read from memory: batched decode on Mistral-7B shapes with today's default
# (app.mjs) and with two tiled shapes as the default (app-t81.mjs: kw8-ug1, app-t42.mjs: kw4-ug2;
# W8A8_ROWS_DEFAULT changed before bundling), the kernel lab at 16 rows on Mistral-7B's shapes
# (an earlier lease's lab slowed down ~3x after its first entries: few entries, new ones first),
# then single-sequence decode of the two small presets, f16 and int8 in one process, with today's
# GEMV tuning (app.mjs) and with int8 given 32 lanes per row where K allows one 16-byte chunk each
# (app-g32.mjs: gemvTuning's floor of 32 lanes taken against the chunks instead of half of them;
# K = 576 and 896 get 32 lanes instead of 16, as f16 has).
# Run: prepare.sh src/bench/bench.ts; bundle the variants; cp scripts/device/*.sh .gpu/; then on
# the device: bash .gpu/rows-tiled.sh.
# (The tiled form was removed after this lease, commit 2303c2a: the script records how it was measured.)
source "$(dirname "$0")/setup.sh"
for app in app app-t81 app-t42; do
  el batch $app
  timeout 100 $N $app.mjs --batch 1,16 --model synthetic:mistral-7b --engines int8 --prompt-tokens 128 --new-tokens 32 --runs 2 --json $OUT/batch-mistral-7b-$app.json 2>&1 | grep "^\[batch\] int8 B=\|int8 B=16: GPU" | tail -3
done
el lab16
timeout 60 $N app.mjs --kernels --shapes 14336x4096,4096x14336 --formats int8 --gemm-rows 16 --trials 3 --min-pass-ms 10 --variants w8a8-rows-kw8-ug1-t,w8a8-rows-kw4-ug2-t,w8a8-rows-kw2-ug4-t,w8a8-rows-kw8-ug1 --json $OUT/lab16-tiled.json 2>&1 | grep "^[0-9]\|rror\|not built" | cut -c1-220 | tail -12
for m in smollm2-135m qwen2.5-0.5b; do
  for app in app app-g32; do
    el decode $m $app
    timeout 50 $N $app.mjs --model synthetic:$m --engines f16,int8 --prompt-tokens 128 --new-tokens 128 --runs 3 --json $OUT/decode-$m-$app.json 2>&1 | grep "^\[bench\]" | tail -4
  done
done
el done
