// The W8A8 GEMMs (kernels/matmul_w8a8.ts) on whatever adapter this finds: the subgroup-matrix
// kernel and the few-rows dot4I8Packed GEMM against the dot4I8Packed reference (the same exact i32
// group sums, scaled and added in the same order or another: they should agree to a few ulps),
// all against the f32-activation GEMM (what quantizing
// the activations costs), on model shapes and awkward ones, every tile, split outputs, bias and
// accumulate. The kernel tests check the dp4a kernel on SwiftShader; this checks the tensor-core
// path where it exists. Prints CHECK PASS (or CHECK SKIP where the adapter has no i8 subgroup matrices).
// Usage: node scripts/run-ts.mjs scripts/check-w8a8.ts; on a GPU machine: bundle it as
// ../shared/tools/device-webgpu/prepare.sh does and run it there.
import { randn, runPass } from './check_util';
import { acquireBenchDevice } from '../src/bench/model_bench';
import { PipelineCache } from '../src/gpu/pipelines';
import { uploadStorage, readF32 } from '../src/gpu/buffers';
import { StepBuffer } from '../src/gpu/step';
import { Matmul, type MatmulOptions } from '../src/kernels/matmul';
import { probeFailure, probeSgmat, tileName, w8a8Unsupported, type SgmatTile, type W8a8RowsTuning } from '../src/kernels/matmul_w8a8';
import { subgroupMatrixI8 } from '../src/gpu/device';
import { uploadWeight } from '../src/kernels/weights';
import { packWeight } from '../src/kernels/formats';

async function main() {
  const gpu = await acquireBenchDevice();
  const device = gpu.device;
  const shape = subgroupMatrixI8(device);
  const info = (device as GPUDevice & { adapterInfo?: { subgroupMatrixConfigs?: unknown[]; subgroupMaxSize?: number } }).adapterInfo;
  console.log(`adapter ${gpu.adapterInfo.description || gpu.adapterInfo.vendor}; features ${[...device.features].join(', ')}`);
  console.log(`subgroup matrix configs ${JSON.stringify(info?.subgroupMatrixConfigs ?? null)}; subgroupMaxSize ${info?.subgroupMaxSize}`);
  const cache = new PipelineCache(device);
  if (!shape) {
    console.log('CHECK SKIP: no i8 subgroup matrices on this adapter');
    return;
  }
  console.log(`i8 shape ${JSON.stringify(shape)}; probe ${JSON.stringify(await probeSgmat(cache, shape))} ${probeFailure(device) ?? ''}`);
  const run = (fn: (p: GPUComputePassEncoder) => void) => runPass(device, fn);
  let worst = 0;
  let cases = 0;
  const tiles: Array<SgmatTile | undefined> = [undefined, { tm: 1, tn: 1 }, { tm: 4, tn: 4 }, { tm: 2, tn: 2 }, { tm: 1, tn: 2, ks: 4 }, { tm: 1, tn: 1, ks: 8 }, { tm: 2, tn: 4, sm: 2, sn: 2 }, { tm: 2, tn: 2, sm: 1, sn: 4 }, { tm: 2, tn: 2, sm: 2, sn: 2, staged: true }, { tm: 1, tn: 2, sm: 4, sn: 2, staged: true }, { tm: 2, tn: 4, sm: 2, sn: 1, staged: true }, { tm: 2, tn: 4, unroll: true }, { tm: 1, tn: 2, ks: 8, unroll: true }];
  for (const [n, k, rows, g, extra] of [
    [4096, 4096, 512, 128, {}], [1536, 4096, 16, 128, { bias: true }], [576, 576, 77, 32, { accumulate: true }],
    [4096, 14336, 130, 128, {}], [3072, 2048, 3, 64, { split: [2048, 512, 512] }], [48, 96, 33, 32, {}],
    [14336, 4096, 9, 128, {}], [4100, 1024, 2, 32, { bias: true, accumulate: true }],
  ] as Array<[number, number, number, number, Partial<MatmulOptions>]>) {
    const w = randn(n * k, 7 + n, 0.05);
    const x = randn(rows * k, 8 + k);
    const gw = uploadWeight(device, 'w', packWeight(w, n, k, 'int8', g));
    const xb = uploadStorage(device, 'x', x);
    const bias = extra.bias ? uploadStorage(device, 'bias', randn(n, 3)) : undefined;
    const y0 = randn(rows * n, 9);
    const outOf = async (opts: MatmulOptions): Promise<Float32Array> => {
      const mm = await Matmul.create(cache, gw, { only: 'gemm', ...extra, ...opts });
      const parts = extra.split ?? [n];
      const ys = parts.map((p) => uploadStorage(device, 'y', y0.subarray(0, rows * p)));
      const st = new StepBuffer(device); st.write({ rows, pos: 0 });
      const b = mm.bind(device, 'm', { w: gw, x: xb, y: ys.length > 1 ? ys : ys[0]!, step: st.buffer, bias });
      await run((p) => mm.encode(p, b, rows));
      const y = new Float32Array(rows * n);
      let col = 0;
      for (const [i, buf] of ys.entries()) {
        const part = await readF32(device, buf, rows * parts[i]!);
        for (let r = 0; r < rows; r++) y.set(part.subarray(r * parts[i]!, (r + 1) * parts[i]!), r * n + col);
        col += parts[i]!;
      }
      return y;
    };
    const f32 = await outOf({ w8a8: 'off' });
    const dp4a = await outOf({ w8a8: 'dp4a', w8a8Few: 'kernel' });
    const diff = (a: Float32Array, b: Float32Array) => {
      let e = 0, mx = 0;
      for (let i = 0; i < a.length; i++) { e = Math.max(e, Math.abs(a[i]! - b[i]!)); mx = Math.max(mx, Math.abs(b[i]!)); }
      return e / Math.max(1e-6, mx);
    };
    const label = `${n}x${k} rows ${rows} g${g}${extra.bias ? ' +bias' : ''}${extra.accumulate ? ' +acc' : ''}${extra.split ? ' split' : ''}`;
    console.log(`${label}: dp4a vs f32 activations ${diff(dp4a, f32).toExponential(2)}`);
    // A shape the tensor-core kernel does not take is not a failure; any other error is.
    const notTaken = w8a8Unsupported(gw, 'sgmat', device);
    if (notTaken) console.log(`  sgmat: not applicable (${notTaken})`);
    for (const tile of notTaken ? [] : tiles) {
      let sg: Float32Array;
      try {
        sg = await outOf({ w8a8: 'sgmat', w8a8Tile: tile, w8a8Few: 'kernel' });
      } catch (e) {
        console.log(`  sgmat ${tile ? tileName(tile) : 'default'}: ${(e as Error).message}`);
        worst = Infinity;
        continue;
      }
      const e = diff(sg, dp4a);
      cases++;
      console.log(`  sgmat ${tile ? tileName(tile) : 'default'} vs dp4a ${e.toExponential(2)}`);
      worst = Math.max(worst, e);
    }
    // The few-rows GEMM (passes of up to 16 rows), by workgroup shape.
    if (rows <= 16) {
      const tunings: Array<W8a8RowsTuning | undefined> = [undefined, { kw: 8, ug: 1 }, { kw: 4, ug: 2 }, { kw: 2, ug: 4 }, { kw: 1, ug: 8 },
        { kw: 8, ug: 1, pair: true }, { kw: 8, ug: 1, magic: true }, { kw: 4, ug: 2, pair: true, magic: true }];
      for (const t of tunings) {
        const e = diff(await outOf({ w8a8: 'dp4a', w8a8Few: 'rows', w8a8RowsTuning: t }), dp4a);
        cases++;
        console.log(`  rows ${t ? `kw${t.kw}-ug${t.ug}${t.pair ? '-pair' : ''}${t.magic ? '-magic' : ''}` : 'default'} vs dp4a ${e.toExponential(2)}`);
        worst = Math.max(worst, e);
      }
    }
  }
  const ok = worst < 1e-5 && cases > 0;
  console.log(ok ? `CHECK PASS (${cases} cases, worst ${worst.toExponential(2)})` : `CHECK FAIL: worst difference ${worst}`);
  process.exit(ok ? 0 : 1);
}
main().catch((e) => { console.error(e); process.exit(1); });
