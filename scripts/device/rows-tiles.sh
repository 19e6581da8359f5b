# One lease (2026-12-07, fifth session), after rows-bound.sh made 8-row tiles with the row blocks
# along the grid's x the W8A8 default (kw4-ug2-t8x): the kernel lab's workgroup shapes for those
# tiles at 8 and 16 rows (one short process per shape and row count: an earlier lease's lab slowed
# ~3x after its first entries), the f32 few-rows GEMM (f16 weights) with the same row blocks, and
# batched decode of both engines with today's defaults (app.mjs) and with the f32 few-rows GEMM's
# row blocks at 8 along x (app-f8x.mjs: ROWS_BLOCKS_DEFAULT changed before bundling).
# Run: prepare.sh src/bench/bench.ts; bundle the variants; cp scripts/device/*.sh .gpu/; then on
# the device: bash .gpu/rows-tiles.sh.
source "$(dirname "$0")/setup.sh"
R=/tmp/reports; mkdir -p $R; pack() { tar -C $R -cf $OUT/reports.tar .; }
lab() { timeout 40 $N app.mjs --kernels --shapes $1 --formats $2 --gemm-rows $3 --trials 3 --min-pass-ms 10 --variants $4 --json $R/lab-$5.json 2>&1 | grep "^[0-9]" | grep -v simple | cut -c1-110; pack; }
W=w8a8-rows-kw4-ug2-t8x,w8a8-rows-kw2-ug4-t8x,w8a8-rows-kw1-ug8-t8x,w8a8-rows-kw2-ug2-t8x,w8a8-rows-kw4-ug1-t8x,w8a8-rows-kw8-ug1-t8x
P=w8a8-rows-kw4-ug2-pm-t8x,w8a8-rows-kw4-ug2-p-t8x,w8a8-rows-kw4-ug2-m-t8x,w8a8-rows-kw2-ug4-pm-t8x,w8a8-rows-kw4-ug2-t8x
for shape in 14336x4096 4096x14336; do
  for rows in 8 16; do el lab $shape $rows; lab $shape int8 $rows $W w8a8-$shape-$rows; done
  el lab pm $shape; lab $shape int8 16 $P w8a8pm-$shape-16
  el lab f16 $shape; lab $shape f16 16 rows-kw2-ug4-tile-t8x,rows-kw4-ug2-tile-t8x,rows-kw8-ug1-t8x,engine f16-$shape-16
done
for app in app app-f8x; do
  for m in mistral-7b llama-3.2-1b; do
    el batch $app $m
    timeout 120 $N $app.mjs --batch 1,4,16 --model synthetic:$m --engines f16,int8 --prompt-tokens 128 --new-tokens 32 --runs 2 --json $R/batch-$m-$app.json 2>&1 | grep "^\[batch\] .* B=\|B=16: GPU" | tail -8
    pack
  done
done
el done
