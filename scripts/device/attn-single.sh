# One lease (2026-12-07, fifth session), after rows-bound.sh: decode attention of short contexts
# in one dispatch (attention_decode.wgsl `single`, rows of at most 256 visible keys) against the
# splits and their combine (app-s0.mjs: singleKeys default 0, changed before bundling). Decode of
# each preset, f16 and int8 in one process, with and without; Mistral-7B's batched decode without
# (rows-bound.sh ran it with); then the golden checks on the small fixture models (copied to
# .gpu/fx before the lease) with the new default.
# Run: as rows-bound.sh; on the device: bash .gpu/attn-single.sh.
# (Measured on an H100, 2026-12-07e, and removed, commit c998194 reverted: no faster. Decode GPU ms
# per token with / without: Mistral-7B int8 4.111 / 3.993, Llama-3.2-1B int8 1.05 / 1.05, SmolLM2-135M
# int8 1.189 / 1.179; the script records how it was measured.)
source "$(dirname "$0")/setup.sh"
R=/tmp/reports2; mkdir -p $R; pack() { tar -C $R -cf $OUT/reports2.tar .; }
for m in smollm2-135m llama-3.2-1b qwen2.5-0.5b mistral-7b; do
  for app in app app-s0; do
    el decode $m $app
    timeout 60 $N $app.mjs --model synthetic:$m --engines f16,int8 --prompt-tokens 128 --new-tokens 128 --runs 3 --json $R/decode-$m-$app.json 2>&1 | grep "prompt 128" | tail -3
    pack
  done
done
el batch app-s0
timeout 100 $N app-s0.mjs --batch 1,16 --model synthetic:mistral-7b --engines int8 --prompt-tokens 128 --new-tokens 32 --runs 2 --json $R/batch-mistral-7b-app-s0.json 2>&1 | grep "^\[batch\] int8 B=\|int8 B=16: GPU" | tail -3
pack
el verify
timeout 120 $N app.mjs --verify $(ls -d fx/* | paste -sd,) --json $R/verify.json 2>&1 | tail -4
pack
el done
