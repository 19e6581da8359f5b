// The prefill kernels of GPUs against the ones they replace, on model shapes, on whatever adapter
// this finds: the tiled prefill attention against the workgroup-per-row kernel (Mistral-7B,
// Llama-3.2-1B, Qwen2.5 and SmolLM2 head shapes, a window, a prompt continuing a cache), and the
// wide GEMM against the 64 x 64 one (int8, f16, q4). The kernel tests check both on small awkward
// shapes on any adapter; this checks the GPU's own lane count and real sizes. Prints CHECK PASS.
// Usage: node scripts/run-ts.mjs scripts/check-prefill-kernels.ts; on the H200:
//   ../shared/tools/device-webgpu/prepare.sh scripts/check-prefill-kernels.ts, then bash .gpu/run.sh
import { randn, runPass } from './check_util';
import { acquireBenchDevice } from '../src/bench/model_bench';
import { PipelineCache } from '../src/gpu/pipelines';
import { uploadStorage, createStorage, readF32 } from '../src/gpu/buffers';
import { StepBuffer } from '../src/gpu/step';
import { Attention } from '../src/kernels/attention';
import { Matmul } from '../src/kernels/matmul';
import { uploadWeight } from '../src/kernels/weights';
import { packWeight } from '../src/kernels/formats';

async function main() {
  const gpu = await acquireBenchDevice();
  const device = gpu.device;
  const cache = new PipelineCache(device);
  const run = (fn: (p: GPUComputePassEncoder) => void) => runPass(device, fn);
  let worst = 0;
  for (const c of [
    { rows: 512, pos: 0, nH: 32, nKv: 8, hd: 128, win: 0 }, { rows: 100, pos: 37, nH: 32, nKv: 8, hd: 128, win: 0 },
    { rows: 300, pos: 5, nH: 9, nKv: 3, hd: 64, win: 0 }, { rows: 77, pos: 200, nH: 14, nKv: 2, hd: 64, win: 0 },
    { rows: 200, pos: 0, nH: 8, nKv: 2, hd: 32, win: 50 }, { rows: 45, pos: 0, nH: 4, nKv: 4, hd: 96, win: 0 },
  ]) {
    const maxCtx = c.pos + c.rows + 3; const kvDim = c.nKv * c.hd;
    const q = randn(c.rows * c.nH * c.hd, 1 + c.rows, 1), kc = randn(maxCtx * kvDim, 2 + c.pos, 2), vc = randn(maxCtx * kvDim, 3, 1);
    const shape = { nHeads: c.nH, nKvHeads: c.nKv, headDim: c.hd, maxCtx, window: c.win };
    const outs: Float32Array[] = [];
    for (const prefill of ['rows', 'tiled'] as const) {
      const op = await Attention.create(cache, shape, 'split', false, prefill);
      const out = createStorage(device, 'out', c.rows * c.nH * c.hd * 4);
      const st = new StepBuffer(device); st.write({ rows: c.rows, pos: c.pos });
      const bg = op.bind(device, 't', { q: uploadStorage(device, 'q', q), kCache: uploadStorage(device, 'k', kc), vCache: uploadStorage(device, 'v', vc), out, step: st.buffer });
      await run((p) => op.encode(p, bg, c.rows, c.pos));
      outs.push(await readF32(device, out, c.rows * c.nH * c.hd));
      console.log(`attention ${JSON.stringify(c)} ${prefill}: kind ${op.prefillKind}`);
    }
    let e = 0; for (let i = 0; i < outs[0]!.length; i++) e = Math.max(e, Math.abs(outs[0]![i]! - outs[1]![i]!));
    console.log(`  max |tiled - rows| = ${e.toExponential(2)}`); worst = Math.max(worst, e);
  }
  for (const [n, k, rows, fmt] of [[4096, 4096, 512, 'int8'], [6144, 4096, 300, 'f16'], [1000, 576, 129, 'q4'], [28672, 4096, 512, 'int8']] as const) {
    const w = randn(n * k, 7, 0.05); const x = randn(rows * k, 8);
    const packed = packWeight(w, n, k, fmt, fmt === 'f16' ? 0 : fmt === 'q4' ? 32 : 128);
    const gw = uploadWeight(device, 'w', packed);
    const xs = uploadStorage(device, 'x', x);
    const ys: Float32Array[] = [];
    for (const gemm of ['tiled', 'wide'] as const) {
      const mm = await Matmul.create(cache, gw, { gemm, only: 'gemm' });
      const y = createStorage(device, 'y', rows * n * 4);
      const st = new StepBuffer(device); st.write({ rows, pos: 0 });
      const b = mm.bind(device, 'm', { w: gw, x: xs, y, step: st.buffer });
      await run((p) => mm.encode(p, b, rows));
      ys.push(await readF32(device, y, rows * n));
    }
    let e = 0, mx = 0; for (let i = 0; i < ys[0]!.length; i++) { e = Math.max(e, Math.abs(ys[0]![i]! - ys[1]![i]!)); mx = Math.max(mx, Math.abs(ys[0]![i]!)); }
    console.log(`gemm ${n}x${k} rows ${rows} ${fmt}: max |wide - tiled| = ${e.toExponential(2)} (max |y| ${mx.toFixed(2)})`);
    worst = Math.max(worst, e / Math.max(1e-6, mx));
  }
  console.log(worst < 1e-4 ? 'CHECK PASS' : `CHECK FAIL: worst difference ${worst}`);
  process.exit(worst < 1e-4 ? 0 : 1);
}
main().catch((e) => { console.error(e); process.exit(1); });
