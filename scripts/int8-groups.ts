// Measures the int8 scale-group choice on the HF fixtures: logits nRMSE against the oracle for
// group sizes 32, 64, 128 and per-channel, plus stories260K teacher-forced top-1 agreement.
// Run: node scripts/run-ts.mjs scripts/int8-groups.ts
import path from 'node:path';
import { readFileSync } from 'node:fs';
import { acquireDevice } from '../src/gpu/device';
import { Engine } from '../src/model/engine';
import { folderSource } from '../src/model/source';

const MODELS = path.resolve('../shared/fixtures/models');
const names = ['stories260K', 'llama-gqa-tied-f32', 'llama3-ropescaled-bf16', 'mistral-swa-f16', 'qwen2-bias-f16'];
const gpu = await acquireDevice();
const rows: string[] = ['| model | per-channel | g128 | g64 | g32 |', '|---|---|---|---|---|'];
for (const name of names) {
  const dir = path.join(MODELS, name);
  const ref = JSON.parse(readFileSync(path.join(dir, 'reference.json'), 'utf8')) as { input_ids: number[] };
  const buf = readFileSync(path.join(dir, 'reference_logits.f32'));
  const want = new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
  const cells: string[] = [];
  for (const g of [0, 128, 64, 32]) {
    const T = ref.input_ids.length;
    const e = await Engine.load(gpu, await folderSource(dir), { format: 'int8', groupSize: g, maxRows: T, maxLogitRows: T });
    const got = await e.logits(ref.input_ids);
    e.destroy();
    let se = 0, s1 = 0, s2 = 0;
    for (let i = 0; i < want.length; i++) { se += (got[i]! - want[i]!) ** 2; s1 += want[i]!; s2 += want[i]! ** 2; }
    const m = s1 / want.length;
    cells.push((Math.sqrt(se / want.length) / Math.sqrt(s2 / want.length - m * m)).toExponential(2));
  }
  rows.push(`| ${name} | ${cells.join(' | ')} |`);
}
console.log(rows.join('\n'));
process.exit(0);
