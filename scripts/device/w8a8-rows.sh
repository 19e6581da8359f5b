# One lease: the few-rows dot4I8Packed W8A8 GEMM (matmul_w8a8_rows.wgsl) against the subgroup-matrix
# few-rows tiles and f32 activations (kernel lab, 16 rows) with the epilogue diagnostics (-u, -diag1),
# then batched decode at B = 1, 4, 16: Mistral-7B int8 with 'auto' (few-rows GEMM) and 'sgmat'
# (tensor-core tiles for every pass), Llama-3.2-1B int8.
# Run: prepare.sh src/bench/bench.ts; bundle scripts/check-w8a8.ts to .gpu/check.mjs (see
# check-w8a8.ts); cp scripts/device/*.sh .gpu/; then on the device: bash .gpu/w8a8-rows.sh.
source "$(dirname "$0")/setup.sh"
el check
timeout 45 $N check.mjs > $OUT/check.txt 2>&1; echo "check rc $?"; grep "CHECK\|probe" $OUT/check.txt | cut -c1-300 | tail -4
el lab16
timeout 70 $N app.mjs --kernels --shapes 4096x4096,14336x4096,4096x14336 --formats int8 --gemm-rows 16 --trials 3 --min-pass-ms 10 --variants engine-f32act,w8a8-t1x2-ks8,w8a8-t1x2-ks8-u,w8a8-t1x2-ks8-diag1,w8a8-rows-kw8-ug1,w8a8-rows-kw4-ug2,w8a8-rows-kw2-ug4 --json $OUT/lab16.json 2>&1 | grep "^[0-9]\|rror\|not built" | cut -c1-200 | tail -40
el mistral int8 auto
timeout 60 $N app.mjs --batch 1,4,16 --model synthetic:mistral-7b --engines int8 --w8a8 auto --prompt-tokens 128 --new-tokens 32 --runs 2 --json $OUT/batch-mistral-int8-auto.json 2>&1 | grep "^\[batch\]\|B=" | tail -8
el mistral int8 sgmat
timeout 45 $N app.mjs --batch 16 --model synthetic:mistral-7b --engines int8 --w8a8 sgmat --prompt-tokens 128 --new-tokens 32 --runs 2 --json $OUT/batch-mistral-int8-sgmat.json 2>&1 | grep "^\[batch\]\|B=" | tail -8
el llama int8
timeout 45 $N app.mjs --batch 1,4,16 --model synthetic:llama-3.2-1b --engines int8 --prompt-tokens 128 --new-tokens 64 --runs 2 --json $OUT/batch-llama-int8-auto.json 2>&1 | grep "^\[batch\]\|B=" | tail -8
el done
