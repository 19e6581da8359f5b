# One short lease (2026-12-07, third session): the few-rows W8A8 GEMM with each row's accumulator
# named by a constant index (unroll) against the loop over rows: batched decode on Mistral-7B
# shapes with today's default (app.mjs) and with unroll as the default (app-u.mjs:
# W8A8_ROWS_DEFAULT changed before bundling), the kernel lab at 16 rows, then single-sequence
# decode of the small presets, f16 and int8 in one process (issue 13's state).
# Run: prepare.sh src/bench/bench.ts; bundle src/bench/bench.ts with the other default to
# .gpu/app-u.mjs; cp scripts/device/*.sh .gpu/; then on the device: bash .gpu/rows-unroll.sh.
source "$(dirname "$0")/setup.sh"
for app in app app-u; do
  el batch mistral $app
  timeout 70 $N $app.mjs --batch 1,16 --model synthetic:mistral-7b --engines int8 --prompt-tokens 128 --new-tokens 32 --runs 2 --json $OUT/batch-mistral-7b-$app.json 2>&1 | grep "^\[batch\] int8 B=\|int8 B=16: GPU" | tail -3
done
el lab16
timeout 60 $N app.mjs --kernels --shapes 4096x4096,14336x4096,4096x14336 --formats int8 --gemm-rows 16 --trials 3 --min-pass-ms 10 --variants w8a8-rows-kw8-ug1-u,w8a8-rows-kw8-ug1,w8a8-rows-kw4-ug2-u --json $OUT/lab16-unroll.json 2>&1 | grep "^[0-9]\|rror\|not built" | cut -c1-200 | tail -12
for m in smollm2-135m qwen2.5-0.5b llama-3.2-1b; do
  el decode $m
  timeout 60 $N app.mjs --model synthetic:$m --engines f16,int8 --prompt-tokens 128 --new-tokens 128 --runs 3 --json $OUT/decode-$m.json 2>&1 | grep "^\[bench\]" | tail -4
done
el done
