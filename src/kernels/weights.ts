// A packed weight on the GPU, and the WGSL snippet + constants + bindings that read it.
// Kernels that read weights put W at binding 0 and (int8 only) its scales at binding 1.
import weightF32 from './weight_f32.wgsl';
import weightF16 from './weight_f16.wgsl';
import weightInt8 from './weight_int8.wgsl';
import { uploadStorage } from '../gpu/buffers';
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

export function weightWgsl(format: WeightFormat): string {
  return format === 'f32' ? weightF32 : format === 'f16' ? weightF16 : weightInt8;
}

export function weightConstants(w: Pick<GpuWeight, 'format' | 'k' | 'rowStride' | 'groupSize'>): Record<string, number> {
  const c: Record<string, number> = { W_STRIDE: w.rowStride };
  if (w.format === 'int8') {
    c.W_GROUPS = Math.ceil(w.k / w.groupSize);
    c.W_GROUP_SIZE = w.groupSize;
  }
  return c;
}

export function weightEntries(w: GpuWeight): GPUBindGroupEntry[] {
  const e: GPUBindGroupEntry[] = [{ binding: 0, resource: { buffer: w.data } }];
  if (w.scales) e.push({ binding: 1, resource: { buffer: w.scales } });
  return e;
}
