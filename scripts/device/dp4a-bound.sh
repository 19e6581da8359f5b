# One lease (2026-12-07, fourth session): what bounds the 16-row W8A8 GEMM: the kernel lab with
# its products replaced by exclusive ors (-dp0) or done twice (-dp2), wrong sums, against the real
# kernel; then single-sequence decode of the small presets (f16 and int8 in one process) with the
# GEMV's floor of 32 lanes (app.mjs) and with int8 unpacked through exponent bits as well
# (app-m.mjs: gemvTuning's default unpack 'magic' for int8, changed before bundling).
# Run: prepare.sh src/bench/bench.ts; bundle the variants; cp scripts/device/*.sh .gpu/; then on
# the device: bash .gpu/dp4a-bound.sh. Built on 2026-12-07 and not yet run: no GPU could be
# started for it that session.
source "$(dirname "$0")/setup.sh"
el lab16
timeout 45 $N app.mjs --kernels --shapes 14336x4096,4096x14336 --formats int8 --gemm-rows 16 --trials 3 --min-pass-ms 10 --variants w8a8-rows-kw8-ug1-dp0,w8a8-rows-kw8-ug1-dp2,w8a8-rows-kw8-ug1 --json $OUT/lab16-dp.json 2>&1 | grep "^[0-9]\|rror\|not built" | cut -c1-220 | tail -8
for m in smollm2-135m qwen2.5-0.5b; do
  for app in app-m app; do
    el decode $m $app
    timeout 40 $N $app.mjs --model synthetic:$m --engines f16,int8 --prompt-tokens 128 --new-tokens 128 --runs 3 --json $OUT/decode-$m-$app.json 2>&1 | grep "prompt 128" | tail -3
  done
done
el done
