# One lease (2026-12-07, fifth session): the few-rows W8A8 GEMM's lanes summed through subgroup
# shuffles (-sg: one barrier for all rows) and one or four weight chunks in flight (-1, -4), against
# the default (4 x 2 groups in 8-row blocks along x), in the kernel lab at 16 rows (one short
# process per shape); then batched decode, int8, with the default (app.mjs) and with the shuffle
# reduction as the default (app-sg.mjs: W8A8_ROWS_DEFAULT changed before bundling).
# Run: prepare.sh src/bench/bench.ts; bundle the variants; cp scripts/device/*.sh .gpu/; then on
# the device: bash .gpu/rows-reduce.sh.
source "$(dirname "$0")/setup.sh"
R=/tmp/reports; mkdir -p $R; pack() { tar -C $R -cf $OUT/reports.tar .; }
lab() { timeout 40 $N app.mjs --kernels --shapes $1 --formats int8 --gemm-rows 16 --trials 3 --min-pass-ms 10 --variants $2 --json $R/lab-$3.json 2>&1 | grep "^[0-9]" | grep -v "simple\| engine " | cut -c1-110; pack; }
A=w8a8-rows-kw4-ug2-sg-t8x,w8a8-rows-kw4-ug2-t8x,w8a8-rows-kw4-ug2-1-sg-t8x,w8a8-rows-kw4-ug2-4-sg-t8x,w8a8-rows-kw4-ug2-1-t8x,w8a8-rows-kw4-ug2-4-t8x
B=w8a8-rows-kw8-ug1-sg,w8a8-rows-kw8-ug1-sg-t8x,w8a8-rows-kw2-ug4-sg-t8x,w8a8-rows-kw8-ug1,w8a8-rows-kw4-ug2-t8x
for shape in 14336x4096 4096x14336 4096x4096; do
  el lab $shape; lab $shape $A a-$shape; lab $shape $B b-$shape
done
for app in app-sg app; do
  for m in mistral-7b llama-3.2-1b; do
    el batch $app $m
    timeout 100 $N $app.mjs --batch 1,16 --model synthetic:$m --engines int8 --prompt-tokens 128 --new-tokens 32 --runs 2 --json $R/batch-$m-$app.json 2>&1 | grep "^\[batch\] .* B=\|B=16: GPU" | tail -3
    pack
  done
done
el done
