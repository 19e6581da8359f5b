# One lease (2026-12-07, fifth session): what bounds the 16-row W8A8 GEMM. The kernel lab at 16 rows
# on Mistral-7B's shapes with the products replaced by exclusive ors (-dp0) or done twice (-dp2),
# wrong sums, against the real kernel; then forms that keep fewer registers live: one weight chunk
# in flight per step (-1), and tiles of 8 or 4 rows with the row blocks along the grid's x (-t8x,
# -t4x: a weight's later reads come from L2 right after the first). Each lab process is short (an
# earlier lease's lab slowed ~3x after its first entries). Then batched decode on Mistral-7B
# shapes with today's default (app.mjs), with -t8x (app-x.mjs) and with -1 (app-1.mjs) as the
# default (W8A8_ROWS_DEFAULT changed before bundling), and single-sequence decode of the small
# presets (f16 and int8 in one process) with today's GEMV and with int8 unpacked through exponent
# bits (app-m.mjs: gemvTuning's default unpack 'magic' for int8).
# Run: prepare.sh src/bench/bench.ts; bundle the variants; cp scripts/device/*.sh .gpu/; then on
# the device: bash .gpu/rows-bound.sh.
source "$(dirname "$0")/setup.sh"
# More reports than the device returns files: they go to $R and into one tar after each step.
R=/tmp/reports; mkdir -p $R; pack() { tar -C $R -cf $OUT/reports.tar .; }
lab() { timeout 45 $N app.mjs --kernels --shapes 14336x4096,4096x14336 --formats int8 --gemm-rows 16 --trials 3 --min-pass-ms 10 --variants $1 --json $R/lab16-$2.json 2>&1 | grep "^[0-9]\|rror\|not built" | cut -c1-200 | tail -8; pack; }
el lab16 dp; lab w8a8-rows-kw8-ug1-dp2,w8a8-rows-kw8-ug1,w8a8-rows-kw8-ug1-dp0 dp
el lab16 forms; lab w8a8-rows-kw8-ug1-t8x,w8a8-rows-kw8-ug1-1,w8a8-rows-kw8-ug1-t4x,w8a8-rows-kw4-ug2-t8x,w8a8-rows-kw8-ug1 forms
for app in app app-x app-1; do
  el batch $app
  timeout 100 $N $app.mjs --batch 1,16 --model synthetic:mistral-7b --engines int8 --prompt-tokens 128 --new-tokens 32 --runs 2 --json $R/batch-mistral-7b-$app.json 2>&1 | grep "^\[batch\] int8 B=\|int8 B=16: GPU" | tail -3
  pack
done
for m in smollm2-135m qwen2.5-0.5b; do
  for app in app app-m; do
    el decode $m $app
    timeout 40 $N $app.mjs --model synthetic:$m --engines f16,int8 --prompt-tokens 128 --new-tokens 128 --runs 3 --json $R/decode-$m-$app.json 2>&1 | grep "prompt 128" | tail -3
    pack
  done
done
el done
