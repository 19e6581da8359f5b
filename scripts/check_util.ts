// Helpers of the device check scripts (check-*.ts): seeded inputs and one compute pass run to completion.

import { rng } from '../src/bench/rng';

/** Roughly normal values (a sum of four uniforms from the project's seeded PRNG), times `scale`. */
export function randn(n: number, seed: number, scale = 1): Float32Array {
  const r = rng(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = (r() + r() + r() + r() - 2) * scale;
  return out;
}

/** Encodes `fn` in one compute pass, submits it and waits for the GPU. */
export async function runPass(device: GPUDevice, fn: (p: GPUComputePassEncoder) => void): Promise<void> {
  const enc = device.createCommandEncoder();
  const p = enc.beginComputePass();
  fn(p);
  p.end();
  device.queue.submit([enc.finish()]);
  await device.queue.onSubmittedWorkDone();
}
