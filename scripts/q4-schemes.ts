// Which 4-bit scheme: candidate schemes simulated on the f32 engine (every matrix quantized and
// dequantized on the CPU, group by group), logits nRMSE against the HF oracle of each fixture.
// The numbers behind the q4 format's choice (kernels/formats/q4.ts, README "4-bit format choice").
// Usage: node scripts/run-ts.mjs scripts/q4-schemes.ts pycode-20M,stories260K [NAME;NAME...]
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { acquireDevice } from '../src/gpu/device';
import { Engine } from '../src/model/engine';
import { folderSource } from '../src/model/source';
import { readPackedTensors } from '../src/model/weights';
import { logitsAgreement } from '../src/bench/metrics';
import { fitGroup } from '../src/kernels/formats/q4';

const NF4 = [-1, -0.6961928009986877, -0.5250730514526367, -0.39491748809814453, -0.28444138169288635, -0.18477343022823334, -0.09105003625154495, 0, 0.07958029955625534, 0.16093020141124725, 0.24611230194568634, 0.33791524171829224, 0.44070982933044434, 0.5626170039176941, 0.7229568362236023, 1];
type Q = (g: Float32Array) => Float32Array;
const nearest = (levels: number[], v: number) => { let b = levels[0]!; for (const l of levels) if (Math.abs(l - v) < Math.abs(b - v)) b = l; return b; };
function sym(qmax: number, qmin: number, search: boolean): Q {
  return (g) => {
    let m = 0; for (const v of g) m = Math.max(m, Math.abs(v));
    const tryS = (s: number) => { const o = new Float32Array(g.length); let e = 0; for (let i = 0; i < g.length; i++) { const q = s > 0 ? Math.max(qmin, Math.min(qmax, Math.round(g[i]! / s))) : 0; o[i] = q * s; e += (o[i]! - g[i]!) ** 2; } return { o, e }; };
    let best = tryS(m / qmax);
    if (search) for (let f = 0.5; f < 1.0; f += 0.02) { const r = tryS((m / qmax) * f); if (r.e < best.e) best = r; }
    return best.o;
  };
}
function nf4(search: boolean): Q {
  return (g) => {
    let m = 0; for (const v of g) m = Math.max(m, Math.abs(v));
    const tryS = (s: number) => { const o = new Float32Array(g.length); let e = 0; for (let i = 0; i < g.length; i++) { o[i] = s > 0 ? nearest(NF4, g[i]! / s) * s : 0; e += (o[i]! - g[i]!) ** 2; } return { o, e }; };
    let best = tryS(m);
    if (search) for (let f = 0.5; f < 1.0; f += 0.02) { const r = tryS(m * f); if (r.e < best.e) best = r; }
    return best.o;
  };
}
function asym(search: boolean): Q {
  return (g) => {
    let lo = Infinity, hi = -Infinity; for (const v of g) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
    const tryR = (a: number, b: number) => { const s = (b - a) / 15; const o = new Float32Array(g.length); let e = 0; for (let i = 0; i < g.length; i++) { const q = s > 0 ? Math.max(0, Math.min(15, Math.round((g[i]! - a) / s))) : 0; o[i] = a + q * s; e += (o[i]! - g[i]!) ** 2; } return { o, e }; };
    let best = tryR(lo, hi);
    if (search) for (let f = 0.6; f < 1.0; f += 0.04) for (let h = 0.6; h < 1.0; h += 0.04) { const r = tryR(lo * f, hi * h); if (r.e < best.e) best = r; }
    return best.o;
  };
}
const q4Fit: Q = (g) => {
  const q = new Int8Array(g.length);
  const { s, m } = fitGroup(g, 0, g.length, q);
  return Float32Array.from(q, (v) => Math.fround(m + Math.fround(v * s)));
};
const VARIANTS: Record<string, [Q, number]> = {
  'symmetric int4 g32 (max/7)': [sym(7, -7, false), 32],
  'symmetric int4 g32, clipping search': [sym(7, -7, true), 32],
  'NF4 g32': [nf4(false), 32],
  'NF4 g32, clipping search': [nf4(true), 32],
  'NF4 g64': [nf4(false), 64],
  'asymmetric g32 (min/max)': [asym(false), 32],
  'asymmetric g32, 121-point clipping search': [asym(true), 32],
  'q4: asymmetric g32, 9-point search + 3 refits, f16 scale/offset': [q4Fit, 32],
};
const only = process.argv[3]?.split(';');
const gpu = await acquireDevice();
for (const model of process.argv[2]!.split(',')) {
  const dir = path.resolve('../shared/fixtures/models', model);
  const ref = JSON.parse(readFileSync(path.join(dir, 'reference.json'), 'utf8'));
  const want = new Float32Array(readFileSync(path.join(dir, 'reference_logits.f32')).buffer.slice(0));
  const [T, V] = ref.logits_shape;
  for (const [name, [q, gs]] of Object.entries(VARIANTS)) {
    if (only && !only.includes(name)) continue;
    const src = await folderSource(dir);
    let se = 0, ss = 0;
    const engine = await Engine.load(gpu, src, { format: 'f32', maxRows: T, maxLogitRows: T, tensors: (c) => (async function* () {
      for await (const t of readPackedTensors(src, c, 'f32')) {
        if (t.matrix) {
          const m = t.matrix; const d = m.data as Float32Array;
          for (let r = 0; r < m.n; r++) for (let g0 = 0; g0 < m.k; g0 += gs) {
            const g = d.slice(r * m.rowStride + g0, r * m.rowStride + Math.min(m.k, g0 + gs));
            const o = q(g); for (let i = 0; i < g.length; i++) { se += (o[i]! - g[i]!) ** 2; ss += g[i]! ** 2; } d.set(o, r * m.rowStride + g0);
          }
        }
        yield t;
      }
    })() });
    const got = await engine.logits(ref.input_ids);
    const a = logitsAgreement(got, want, T, V);
    console.log(`${model} ${name}: logits nRMSE ${a.nrmse.toFixed(4)}, weight rel err ${Math.sqrt(se / ss).toFixed(4)}, top1 ${a.agree}/${a.clear}`);
    engine.destroy();
  }
}
process.exit(0);
