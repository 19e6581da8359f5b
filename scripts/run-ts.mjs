#!/usr/bin/env node
// Runs a TypeScript entry of the project under Node: bundles it with esbuild (WGSL imported as
// text, as Vite does for the app) into .cache/, then imports the bundle with the remaining args.
// Usage: node scripts/run-ts.mjs src/bench/cli.ts [args...]
import { build } from 'esbuild';
import { pathToFileURL } from 'node:url';
import path from 'node:path';
import fs from 'node:fs';

const [entry, ...args] = process.argv.slice(2);
if (!entry) {
  console.error('usage: node scripts/run-ts.mjs ENTRY.ts [args...]');
  process.exit(2);
}
const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
// One bundle per process, so parallel runs (tests, CI) never read each other's half-written file.
const outfile = path.join(root, '.cache', `${path.basename(entry, '.ts')}.${process.pid}.bundle.mjs`);
await build({
  entryPoints: [path.resolve(entry)],
  outfile,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  loader: { '.wgsl': 'text' },
  external: ['webgpu'],
  sourcemap: 'inline',
  logLevel: 'error',
  // Bundled CommonJS dependencies may call require(); give the ESM bundle one.
  banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
});
process.argv = [process.argv[0], outfile, ...args];
process.on('exit', () => fs.rmSync(outfile, { force: true }));
await import(pathToFileURL(outfile).href);
