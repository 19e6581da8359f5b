#!/usr/bin/env bash
# Builds the bundles the pending device scripts compare against the default (.gpu/app.mjs from
# prepare.sh): app-nofold.mjs (attention's combine kept, not merged in o_proj's quantizer; for
# fold.sh) and app-f1.mjs (the f32 few-rows GEMM with the shuffle reduction on; for batch-sg2.sh).
# Each is one line of the source changed, bundled, and changed back; the tree must start clean.
# Run from the project root: ../shared/tools/device-webgpu/prepare.sh src/bench/bench.ts, then
# bash scripts/device/bundle-variants.sh, then copy fixtures to .gpu/fx and cp scripts/device/*.sh .gpu/.
set -euo pipefail
git diff --quiet -- src || { echo "bundle-variants: src has uncommitted changes" >&2; exit 1; }
bundle() {
  npx esbuild src/bench/bench.ts --bundle --platform=node --format=esm --target=node20 --external:webgpu \
    --loader:.wgsl=text --outfile=".gpu/$1.mjs" --log-level=warning \
    --banner:js="import { createRequire as __cr } from 'module'; const require = __cr(import.meta.url);"
}
variant() { # name file from to
  local name=$1 file=$2 from=$3 to=$4
  grep -qF "$from" "$file" || { echo "bundle-variants: $name: line not found in $file" >&2; exit 1; }
  python3 - "$file" "$from" "$to" <<'PY'
import sys
p, a, b = sys.argv[1:]
s = open(p).read()
open(p, 'w').write(s.replace(a, b, 1))
PY
  bundle "$name" || true
  git checkout -- "$file"
  [ -s ".gpu/$name.mjs" ] && echo "built .gpu/$name.mjs"
}
variant app-nofold src/model/arch/llama_block.ts \
  'const oFold = oFoldParts && ' 'const oFold = false && oFoldParts && '
variant app-f1 src/kernels/matmul.ts \
  'const t = { ...rowsTuningFor(w.format, mr, w.n), ...opts.rowsTuning };' \
  'const t = { ...rowsTuningFor(w.format, mr, w.n), sgReduce: sgSize > 0, ...opts.rowsTuning };'
git diff --quiet -- src || { echo "bundle-variants: src not restored" >&2; exit 1; }
