// Shared helpers for GPU tests: one device per test file (Dawn on SwiftShader in CI), seeded random
// inputs, and a comparison that prints the first mismatches (llm.c's validate_result).
import { acquireDevice, type GpuContext, type AcquireOptions } from '../../src/gpu/device';
import { PipelineCache, type W8a8Setting } from '../../src/gpu/pipelines';
import { enginePipelines } from '../../src/model/engine';
import { StepBuffer } from '../../src/gpu/step';
import { rng } from '../../src/bench/rng';
import { f16ToF32, f32ToF16 } from '../../src/kernels/formats/dtype';

const uncaptured: string[] = [];

export async function gpu(opts?: AcquireOptions): Promise<{ ctx: GpuContext; device: GPUDevice; cache: PipelineCache }> {
  const ctx = await acquireDevice(opts);
  // Throwing inside this native callback would abort the process: record, and fail in `run`.
  ctx.device.onuncapturederror = (e) => {
    uncaptured.push((e as GPUUncapturedErrorEvent).error.message);
  };
  return { ctx, device: ctx.device, cache: new PipelineCache(ctx.device) };
}

/** mulberry32 (the project's seeded PRNG) so failures reproduce. */
export { rng };

export function randn(n: number, seed: number, scale = 1): Float32Array {
  const r = rng(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const u = Math.max(r(), 1e-12);
    out[i] = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * r()) * scale;
  }
  return out;
}

/** Throws with the first few mismatches if |got - want| > atol + rtol * |want| anywhere. */
export function expectClose(got: ArrayLike<number>, want: ArrayLike<number>, atol: number, rtol: number, what = 'values'): void {
  if (got.length < want.length) throw new Error(`${what}: got ${got.length} values, want ${want.length}`);
  const bad: string[] = [];
  let count = 0;
  for (let i = 0; i < want.length; i++) {
    const g = got[i]!;
    const w = want[i]!;
    if (!(Math.abs(g - w) <= atol + rtol * Math.abs(w))) {
      count++;
      if (bad.length < 5) bad.push(`[${i}] got ${g} want ${w}`);
    }
  }
  if (count) throw new Error(`${what}: ${count}/${want.length} mismatches (atol ${atol}, rtol ${rtol}): ${bad.join('; ')}`);
}

/** Encodes `fn` in one compute pass, submits and waits. */
export async function run(device: GPUDevice, fn: (pass: GPUComputePassEncoder) => void): Promise<void> {
  const enc = device.createCommandEncoder();
  const pass = enc.beginComputePass();
  fn(pass);
  pass.end();
  device.queue.submit([enc.finish()]);
  await device.queue.onSubmittedWorkDone();
  if (uncaptured.length) throw new Error(`WebGPU errors: ${uncaptured.splice(0).join(' | ')}`);
}

export function stepBuffer(device: GPUDevice, rows: number, pos: number, logitRows = 1): StepBuffer {
  const s = new StepBuffer(device);
  s.write({ rows, pos, logitRows });
  return s;
}

/** f32 values as an f16 KV cache holds them: pairs in u32 words, the first in the low half. */
export function packF16(x: ArrayLike<number>): Uint32Array {
  const out = new Uint32Array(Math.ceil(x.length / 2));
  for (let i = 0; i < x.length; i++) out[i >> 1]! |= f32ToF16(x[i]!) << (16 * (i & 1));
  return out;
}

export function unpackF16(words: Uint32Array, count = words.length * 2): Float32Array {
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) out[i] = f16ToF32((words[i >> 1]! >>> (16 * (i & 1))) & 0xffff);
  return out;
}

/** each value rounded to f16 (what an f16 cache stores) */
export function roundF16(x: ArrayLike<number>): Float32Array {
  return unpackF16(packF16(x), x.length);
}

/**
 * A pipeline cache per device and kernel set, for test files whose engines share it (EngineOptions
 * .pipelines): on SwiftShader compiling is most of a small model's load (stories260K f32: 3.5 s,
 * 26 ms the second time), and the kernels run are the same either way.
 */
const shared = new WeakMap<GPUDevice, Map<string, PipelineCache>>();
export function sharedPipelines(g: GpuContext, kernels?: 'gpu' | 'software', w8a8?: W8a8Setting): PipelineCache {
  let byKey = shared.get(g.device);
  if (!byKey) shared.set(g.device, (byKey = new Map()));
  const key = `${kernels ?? 'auto'} ${w8a8 ?? 'auto'}`;
  let c = byKey.get(key);
  if (!c) byKey.set(key, (c = enginePipelines(g.device, { kernels, w8a8 })));
  return c;
}
