# One lease for the issues' H200 tables (written 2026-12-07, not yet run): batched decode at
# B = 1, 4, 16 with f16 and int8 side by side in one process per model (Llama-3.2-1B, Mistral-7B),
# Mistral-7B int8 prefill of 512 and 1,900 tokens with the tensor-core tiles and without, and the
# 512-row epilogue diagnostics (-u, -diag1) of the tensor-core tiles.
# Run: prepare.sh src/bench/bench.ts; bundle scripts/check-w8a8.ts to .gpu/check.mjs (see
# check-w8a8.ts); cp scripts/device/*.sh .gpu/; then on the device: bash .gpu/batch-prefill.sh.
source "$(dirname "$0")/setup.sh"
el check
timeout 90 $N check.mjs > $OUT/check.txt 2>&1; echo "check rc $?"; grep "CHECK\|probe" $OUT/check.txt | cut -c1-300 | tail -3
el batch llama
timeout 90 $N app.mjs --batch 1,4,16 --model synthetic:llama-3.2-1b --engines f16,int8 --prompt-tokens 128 --new-tokens 64 --runs 3 --json $OUT/batch-llama-3.2-1b.json 2>&1 | grep "^\[batch\]\|B=" | tail -12
el batch mistral
timeout 150 $N app.mjs --batch 1,4,16 --model synthetic:mistral-7b --engines f16,int8 --prompt-tokens 128 --new-tokens 32 --runs 3 --json $OUT/batch-mistral-7b.json 2>&1 | grep "^\[batch\]\|B=" | tail -12
el prefill
timeout 80 $N app.mjs --model synthetic:mistral-7b --engines int8 --prompt-tokens 512,1900 --new-tokens 4 --runs 2 --json $OUT/prefill-auto.json 2>&1 | grep "^\[bench\]" | tail -4
timeout 60 $N app.mjs --model synthetic:mistral-7b --engines int8 --prompt-tokens 512 --new-tokens 4 --runs 2 --w8a8 off --json $OUT/prefill-off.json 2>&1 | grep "^\[bench\]" | tail -4
el lab512
timeout 60 $N app.mjs --kernels --shapes 4096x4096,14336x4096 --formats int8 --gemm-rows 512 --trials 3 --min-pass-ms 10 --variants engine-f32act,w8a8-t2x4,w8a8-t2x4-u,w8a8-t2x2-u,w8a8-t2x4-diag1 --json $OUT/lab512.json 2>&1 | grep "^[0-9]\|rror\|not built" | cut -c1-200 | tail -12
el done
