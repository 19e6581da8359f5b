# One lease (2026-12-07, second session): the few-rows W8A8 GEMM with chunk pairs summed in i32
# (-p) and the bit-trick conversion (-m) in the kernel lab at 16 rows (the layers' shapes and the
# heads of Mistral-7B and Llama-3.2-1B), then batched decode on Mistral-7B shapes with today's
# default (app.mjs) and with pair + bits as the default (app-pm.mjs: W8A8_ROWS_DEFAULT changed
# before bundling), f16 beside them.
# Run: prepare.sh src/bench/bench.ts; bundle scripts/check-w8a8.ts to .gpu/check.mjs and
# src/bench/bench.ts with the other default to .gpu/app-pm.mjs; cp scripts/device/*.sh .gpu/;
# then on the device: bash .gpu/rows-pair.sh.
source "$(dirname "$0")/setup.sh"
el check
timeout 90 $N check.mjs > $OUT/check.txt 2>&1; echo "check rc $?"; grep "CHECK\|probe" $OUT/check.txt | cut -c1-300 | tail -3
el lab16
V=engine-f32act,w8a8-rows-kw8-ug1,w8a8-rows-kw8-ug1-p,w8a8-rows-kw8-ug1-m,w8a8-rows-kw8-ug1-pm,w8a8-rows-kw4-ug2-pm,w8a8-rows-kw4-ug1-pm,w8a8-rows-kw2-ug2-pm,w8a8-rows-kw4-ug2,w8a8-rows-kw8-ug1-pm-t8,w8a8-rows-kw4-ug2-pm-t8
timeout 150 $N app.mjs --kernels --shapes 4096x4096,14336x4096,4096x14336,32000x4096,128256x2048 --formats int8 --gemm-rows 16 --trials 3 --min-pass-ms 10 --variants $V --json $OUT/lab16-pair.json 2>&1 | grep "^[0-9]\|rror\|not built" | cut -c1-200 | tail -50
el batch mistral default
timeout 120 $N app.mjs --batch 1,4,16 --model synthetic:mistral-7b --engines f16,int8 --prompt-tokens 128 --new-tokens 32 --runs 2 --json $OUT/batch-mistral-7b.json 2>&1 | grep "^\[batch\]\|B=" | tail -12
el batch mistral pair+bits
timeout 90 $N app-pm.mjs --batch 1,4,16 --model synthetic:mistral-7b --engines int8 --prompt-tokens 128 --new-tokens 32 --runs 2 --json $OUT/batch-mistral-7b-pm.json 2>&1 | grep "^\[batch\]\|B=" | tail -12
el done
