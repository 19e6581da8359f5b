#!/usr/bin/env bash
# Builds the bundles a device script compares against the default (.gpu/app.mjs from prepare.sh):
# each `variant NAME FILE FROM TO` line changes one line of the source, bundles .gpu/NAME.mjs and
# changes it back; the tree must start clean. A variant stays here until its lease has decided the
# default; the ones of past leases are in git history (app-nofold and app-f1 for fold.sh and
# batch-sg2.sh, app-nomerge and app-merge32 for merge.sh: commit 527d096). None is pending now.
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
git diff --quiet -- src || { echo "bundle-variants: src not restored" >&2; exit 1; }
