# The W8A8 measurements of one lease: check, kernel lab at 512 and 16 rows, Mistral-7B batch and prefill.
# Run: prepare.sh src/bench/bench.ts; bundle scripts/check-w8a8.ts to .gpu/check.mjs; cp scripts/device/*.sh .gpu/;
# then on the device: bash .gpu/w8a8.sh (reports land in $OUT).
source "$(dirname "$0")/setup.sh"
el check
timeout 50 $N check.mjs > $OUT/check.txt 2>&1; echo "check rc $?"; tail -40 $OUT/check.txt
el lab512
timeout 80 $N app.mjs --kernels --shapes 4096x4096,14336x4096,4096x14336 --formats int8 --gemm-rows 512 --trials 3 --min-pass-ms 10 --variants engine,engine-f32act,w8a8-t2x4,w8a8-t4x4,w8a8-t2x2-s2x2,w8a8-t2x4-s2x2,w8a8-t2x4-s2x1,w8a8-t4x2-s1x4,w8a8-t2x2-s1x4 --json $OUT/lab512.json 2>&1 | grep "gemm\|rror" | tail -40
el lab16
timeout 60 $N app.mjs --kernels --shapes 4096x4096,14336x4096,4096x14336 --formats int8 --gemm-rows 16 --trials 3 --min-pass-ms 10 --variants engine,w8a8-t1x2,w8a8-t1x1-ks4,w8a8-t1x2-ks2,w8a8-t1x2-ks4,w8a8-t1x2-ks8,w8a8-t1x4-ks4 --json $OUT/lab16.json 2>&1 | grep "gemm\|rror" | tail -30
el batch
timeout 120 $N app.mjs --batch 1,16 --model synthetic:mistral-7b --engines int8 --w8a8 auto --prompt-tokens 128 --new-tokens 32 --runs 2 --json $OUT/batch-mistral-int8-auto.json > $OUT/batch.log 2>&1; echo "rc $?"; grep -v "^\[lab\]" $OUT/batch.log | tail -25
el prefill
timeout 70 $N app.mjs --model synthetic:mistral-7b --engines int8 --prompt-tokens 512,1900 --new-tokens 8 --runs 2 --w8a8 auto --json $OUT/prefill-mistral-int8-auto.json > $OUT/prefill.log 2>&1; echo "rc $?"; tail -25 $OUT/prefill.log
el done
