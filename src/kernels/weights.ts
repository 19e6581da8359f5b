// A packed weight on the GPU, and the WGSL snippet + constants + bindings that read it.
// Kernels that read weights put W at binding 0 and (int8 only) its scales at binding 1.
import weightF32 from './weight_f32.wgsl';
import weightF16 from './weight_f16.wgsl';
import weightInt8 from './weight_int8.wgsl';
import { createStorage, uploadStorage } from '../gpu/buffers';
import type { PackedWeight, WeightFormat } from '../model/quantize';
import { packedBytes } from '../model/quantize';

export interface GpuWeight {
  format: WeightFormat;
  n: number; // rows: output features (or vocabulary for embeddings)
  k: number; // columns: input features
  rowStride: number;
  groupSize: number; // int8 only, else 0
  data: GPUBuffer;
  scales?: GPUBuffer;
  bytes: number;
}

export function uploadWeight(device: GPUDevice, label: string, p: PackedWeight): GpuWeight {
  return {
    format: p.format,
    n: p.n,
    k: p.k,
    rowStride: p.rowStride,
    groupSize: p.groupSize ?? 0,
    data: uploadStorage(device, label, p.data),
    scales: p.scales ? uploadStorage(device, `${label}.scales`, p.scales) : undefined,
    bytes: packedBytes(p),
  };
}

export type WeightLayout = Pick<GpuWeight, 'format' | 'n' | 'k' | 'rowStride' | 'groupSize'>;

/** Scale groups per row of an int8 weight (0 for the other formats). */
export function scaleGroups(w: Pick<GpuWeight, 'format' | 'k' | 'groupSize'>): number {
  return w.format === 'int8' ? Math.ceil(w.k / w.groupSize) : 0;
}

/**
 * An empty [n, k] weight, filled later by writeWeightRows: how several HF projections that share
 * an input (q/k/v, gate/up) become one weight with their rows stacked, so one matmul runs them.
 */
export function createWeight(device: GPUDevice, label: string, l: WeightLayout): GpuWeight {
  const dataBytes = l.n * l.rowStride * 4;
  const scaleBytes = l.n * scaleGroups(l) * 4;
  const data = createStorage(device, label, dataBytes);
  const scales = scaleBytes ? createStorage(device, `${label}.scales`, scaleBytes) : undefined;
  return { ...l, data, scales, bytes: dataBytes + scaleBytes };
}

/** Writes a packed weight into rows row0 .. row0 + p.n of `w` (same format, K and layout). */
export function writeWeightRows(device: GPUDevice, w: GpuWeight, row0: number, p: PackedWeight): void {
  if (p.format !== w.format || p.k !== w.k || p.rowStride !== w.rowStride || (p.groupSize ?? 0) !== w.groupSize || row0 + p.n > w.n) {
    throw new Error(`${w.data.label}: cannot place a ${p.format} [${p.n}, ${p.k}] block at row ${row0} of a ${w.format} [${w.n}, ${w.k}] weight`);
  }
  device.queue.writeBuffer(w.data, row0 * w.rowStride * 4, p.data);
  if (p.scales) device.queue.writeBuffer(w.scales!, row0 * scaleGroups(w) * 4, p.scales);
}

export function weightWgsl(format: WeightFormat): string {
  return format === 'f32' ? weightF32 : format === 'f16' ? weightF16 : weightInt8;
}

export function weightConstants(w: Pick<GpuWeight, 'format' | 'k' | 'rowStride' | 'groupSize'>): Record<string, number> {
  const c: Record<string, number> = { W_STRIDE: w.rowStride };
  if (w.format === 'int8') {
    c.W_GROUPS = scaleGroups(w);
    c.W_GROUP_SIZE = w.groupSize;
  }
  return c;
}

export function weightEntries(w: GpuWeight): GPUBindGroupEntry[] {
  const e: GPUBindGroupEntry[] = [{ binding: 0, resource: { buffer: w.data } }];
  if (w.scales) e.push({ binding: 1, resource: { buffer: w.scales } });
  return e;
}

// A bias is compiled in or out, rather than switched by an override, so a bias-free layer has no
// binding to fill (an `auto` layout keeps every binding the code mentions).
export const BIND_BIAS = 5;

/** WGSL `fn bias(n) -> f32`: reads binding 5, or returns 0 when the layer has no bias. */
export function biasWgsl(hasBias: boolean): string {
  return hasBias
    ? `@group(0) @binding(${BIND_BIAS}) var<storage, read> B: array<f32>;\nfn bias(n: u32) -> f32 { return B[n]; }\n`
    : 'fn bias(n: u32) -> f32 { return 0.0; }\n';
}
