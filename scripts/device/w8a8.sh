# The W8A8 measurements of one lease: the check, the kernel lab at 512 rows, Mistral-7B int8
# batched decode (B = 1, 16) and prefill (512, 1,900 tokens) with W8A8 on ('auto') and off.
# Run: prepare.sh src/bench/bench.ts; bundle scripts/check-w8a8.ts to .gpu/check.mjs (see
# check-w8a8.ts); cp scripts/device/*.sh .gpu/; then on the device: bash .gpu/w8a8.sh (reports in $OUT).
source "$(dirname "$0")/setup.sh"
el check
timeout 50 $N check.mjs > $OUT/check.txt 2>&1; echo "check rc $?"; grep -v "warning\|subgroupMatrix\|\^\^\|^$\|Compilation log" $OUT/check.txt | tail -30
el lab512
timeout 70 $N app.mjs --kernels --shapes 4096x4096,14336x4096 --formats int8 --gemm-rows 512 --trials 3 --min-pass-ms 10 --variants engine-f32act,w8a8-t2x4,w8a8-t2x2-s2x2-staged,w8a8-t1x2-s4x2-staged,w8a8-t2x4-s2x1-staged,w8a8-t1x4-s4x1-staged,w8a8-t2x1-s2x4-staged,w8a8-t2x4-s2x2-staged --json $OUT/lab512.json 2>&1 | grep "gemm\|rror\|not built" | tail -24
el batch auto
timeout 90 $N app.mjs --batch 1,16 --model synthetic:mistral-7b --engines int8 --w8a8 auto --prompt-tokens 128 --new-tokens 32 --runs 2 --json $OUT/batch-auto.json 2>&1 | grep "^\[batch\]\|^int8 B=" | tail -6
el batch off
timeout 70 $N app.mjs --batch 16 --model synthetic:mistral-7b --engines int8 --w8a8 off --prompt-tokens 128 --new-tokens 32 --runs 2 --json $OUT/batch-off.json 2>&1 | grep "^\[batch\]\|^int8 B=" | tail -6
el prefill auto
timeout 60 $N app.mjs --model synthetic:mistral-7b --engines int8 --prompt-tokens 512,1900 --new-tokens 4 --runs 2 --w8a8 auto --json $OUT/prefill-auto.json 2>&1 | grep "^\[bench\]" | tail -6
el prefill off
timeout 45 $N app.mjs --model synthetic:mistral-7b --engines int8 --prompt-tokens 512 --new-tokens 4 --runs 2 --w8a8 off --json $OUT/prefill-off.json 2>&1 | grep "^\[bench\]" | tail -6
el done
