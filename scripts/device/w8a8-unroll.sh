# One lease: the unrolled subgroup-matrix tiles against the looped ones, and the diagnostic tiles
# without the per-group epilogue (kernel lab at 16 and 512 rows; the lab holds each to the reference).
source "$(dirname "$0")/setup.sh"
el skip-check
# (the check ran in the previous lease; the lab compares every variant with the reference)
el lab16
timeout 60 $N app.mjs --kernels --shapes 4096x4096,14336x4096,4096x14336 --formats int8 --gemm-rows 16 --trials 3 --min-pass-ms 10 --variants w8a8-t1x2-ks8,w8a8-t1x2-ks8-u,w8a8-t1x2-ks8-diag1,w8a8-t1x2-ks4,w8a8-t1x2-ks4-u,w8a8-t1x2-ks4-diag1 --json $OUT/lab16.json 2>&1 | grep "gemm\|rror\|not built" | tail -20
el lab512
timeout 60 $N app.mjs --kernels --shapes 4096x4096,14336x4096 --formats int8 --gemm-rows 512 --trials 3 --min-pass-ms 10 --variants w8a8-t2x4,w8a8-t2x4-u,w8a8-t2x2-u,w8a8-t2x4-diag1 --json $OUT/lab512.json 2>&1 | grep "gemm\|rror\|not built" | tail -10
el done
