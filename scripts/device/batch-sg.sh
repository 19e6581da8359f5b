# One lease (2026-12-07, fifth session), after rows-reduce.sh: the few-rows W8A8 GEMM with the
# lanes' sums through subgroup shuffles as the default. The kernel lab at 16 rows with that form
# first (the lab's later entries have run slow before), the batched-decode issue's run (both
# engines, B = 1, 4, 16, Llama-3.2-1B and Mistral-7B shapes), and the golden checks on the small
# fixture models (copied to .gpu/fx before the lease).
# Run: prepare.sh src/bench/bench.ts; cp scripts/device/*.sh .gpu/; on the device: bash .gpu/batch-sg.sh.
source "$(dirname "$0")/setup.sh"
R=/tmp/reports; mkdir -p $R; pack() { tar -C $R -cf $OUT/reports.tar .; }
for shape in 14336x4096 4096x14336; do
  el lab $shape
  timeout 40 $N app.mjs --kernels --shapes $shape --formats int8 --gemm-rows 16 --trials 3 --min-pass-ms 10 --variants w8a8-rows-kw4-ug2-sg-t8x,w8a8-rows-kw4-ug2-t8x --json $R/lab-sg-$shape.json 2>&1 | grep "^[0-9]" | grep -v "simple" | cut -c1-110
  pack
done
for m in mistral-7b llama-3.2-1b; do
  el batch $m
  timeout 200 $N app.mjs --batch 1,4,16 --model synthetic:$m --engines f16,int8 --prompt-tokens 128 --new-tokens 64 --runs 3 --json $R/batch-$m.json 2>&1 | grep "^\[batch\] .* B=\|B=16: GPU" | tail -8
  pack
done
el verify
timeout 120 $N app.mjs --verify $(ls -d fx/* | paste -sd,) --json $R/verify.json 2>&1 | tail -3
pack
el done
