// A packed weight on the GPU, and the WGSL snippet + constants + bindings that read it.
// Kernels that read weights put W at binding 0 and (quantized formats) its scales at binding 1. A weight
// larger than one binding may hold (maxStorageBufferBindingSize: 128-256 MB on many integrated
// and mobile GPUs, while Llama-3.2-1B's f16 embedding is 525 MB) is split by rows over several
// buffers: part i > 0 is bound at 10 + i - 1 (its scales at 20 + i - 1), and the readers reach
// every part through `w_at(row, i)` and `s_at(row, g)` (weightAccessWgsl).
import { createStorage } from '../gpu/buffers';
import { formatSpec, isQuantized, scaleGroupsOf, shrinkAdvice, type PackedWeight, type WeightElem, type WeightFormat } from './formats';

export type { WeightElem } from './formats';

export interface GpuWeight {
  format: WeightFormat;
  n: number; // rows: output features (or vocabulary for embeddings)
  k: number; // columns: input features
  rowStride: number;
  groupSize: number; // quantized formats only, else 0
  /** rows [0, partRows): every row unless the weight is split */
  data: GPUBuffer;
  scales?: GPUBuffer;
  /** rows per buffer: n, or fewer when the weight is split over several buffers */
  partRows: number;
  /** the further parts of a split weight: part i holds rows [i * partRows, (i + 1) * partRows) */
  more: Array<{ data: GPUBuffer; scales?: GPUBuffer }>;
  bytes: number;
}

/** Most buffers one weight may be split into (bindings 10-16 and 20-26 hold parts 1-7). */
export const MAX_WEIGHT_PARTS = 8;
const BIND_PART = 10;
const BIND_PART_SCALES = 20;

export class WeightTooLargeError extends Error {
  override name = 'WeightTooLargeError';
}

/** Every buffer of a weight, parts included (for disposal and memory accounting). */
export function weightBuffers(w: Pick<GpuWeight, 'data' | 'scales' | 'more'>): GPUBuffer[] {
  return [w.data, ...(w.scales ? [w.scales] : []), ...w.more.flatMap((m) => [m.data, ...(m.scales ? [m.scales] : [])])];
}

/** The bytes one binding may hold on this device. */
export function bindingLimit(device: GPUDevice): number {
  return Math.min(device.limits.maxStorageBufferBindingSize, device.limits.maxBufferSize);
}

/**
 * Rows per buffer for a weight of this layout under `maxBytes` per binding: n when it fits whole,
 * else as many whole rows as fit (rounded down to a multiple of 4, so a 4-row unit of the decode
 * GEMVs never straddles two buffers). Throws when even MAX_WEIGHT_PARTS buffers are too few.
 */
export function partRowsFor(l: Pick<GpuWeight, 'format' | 'n' | 'k' | 'rowStride' | 'groupSize'>, maxBytes: number, label = 'weight'): number {
  const rowBytes = Math.max(l.rowStride * 4, scaleGroups(l) * 4);
  if (l.n * rowBytes <= maxBytes) return l.n;
  const rows = Math.floor(maxBytes / rowBytes / 4) * 4;
  const parts = rows > 0 ? Math.ceil(l.n / rows) : Infinity;
  if (parts > MAX_WEIGHT_PARTS) {
    throw new WeightTooLargeError(
      `${label} [${l.n}, ${l.k}] ${l.format} needs ${(l.n * l.rowStride * 4 / 2 ** 20).toFixed(0)} MiB; this adapter binds at most ${(maxBytes / 2 ** 20).toFixed(0)} MiB per buffer, ` +
        `and a weight is split into at most ${MAX_WEIGHT_PARTS} buffers. ${shrinkAdvice(l.format, false)}`,
    );
  }
  return rows;
}

/** Rows of part `i` of a weight split every `partRows` rows. */
function rowsOfPart(l: Pick<GpuWeight, 'n' | 'partRows'>, i: number): number {
  return Math.min(l.partRows, l.n - i * l.partRows);
}

export function uploadWeight(device: GPUDevice, label: string, p: PackedWeight, maxBytes = bindingLimit(device)): GpuWeight {
  const w = createWeight(device, label, { format: p.format, n: p.n, k: p.k, rowStride: p.rowStride, groupSize: p.groupSize ?? 0 }, maxBytes);
  try {
    writeWeightRows(device, w, 0, p);
  } catch (e) {
    for (const b of weightBuffers(w)) b.destroy();
    throw e;
  }
  return w;
}

export type WeightLayout = Pick<GpuWeight, 'format' | 'n' | 'k' | 'rowStride' | 'groupSize'>;

/** Scale groups per row of a quantized weight (0 for the other formats). */
export function scaleGroups(w: Pick<GpuWeight, 'format' | 'k' | 'groupSize'>): number {
  return scaleGroupsOf(w.format, w.k, w.groupSize);
}

/**
 * An empty [n, k] weight, filled later by writeWeightRows: how several HF projections that share
 * an input (q/k/v, gate/up) become one weight with their rows stacked, so one matmul runs them.
 */
export function createWeight(device: GPUDevice, label: string, l: WeightLayout, maxBytes = bindingLimit(device)): GpuWeight {
  const partRows = partRowsFor(l, maxBytes, label);
  const parts: Array<{ data: GPUBuffer; scales?: GPUBuffer }> = [];
  try {
    for (let i = 0; i * partRows < l.n; i++) {
      const rows = rowsOfPart({ n: l.n, partRows }, i);
      const name = i === 0 ? label : `${label}#${i}`;
      const data = createStorage(device, name, rows * l.rowStride * 4);
      parts.push({ data });
      if (isQuantized(l.format)) parts[i]!.scales = createStorage(device, `${name}.scales`, rows * scaleGroups(l) * 4);
    }
  } catch (e) {
    for (const p of parts) weightBuffers({ ...p, more: [] }).forEach((b) => b.destroy());
    throw e;
  }
  const bytes = l.n * (l.rowStride + scaleGroups(l)) * 4;
  return { ...l, data: parts[0]!.data, scales: parts[0]!.scales, partRows, more: parts.slice(1), bytes };
}

/** Writes a packed weight into rows row0 .. row0 + p.n of `w` (same format, K and layout), across its parts. */
export function writeWeightRows(device: GPUDevice, w: GpuWeight, row0: number, p: PackedWeight): void {
  if (p.format !== w.format || p.k !== w.k || p.rowStride !== w.rowStride || (p.groupSize ?? 0) !== w.groupSize || row0 + p.n > w.n) {
    throw new Error(`${w.data.label}: cannot place a ${p.format} [${p.n}, ${p.k}] block at row ${row0} of a ${w.format} [${w.n}, ${w.k}] weight`);
  }
  const groups = scaleGroups(w);
  const parts = [{ data: w.data, scales: w.scales }, ...w.more];
  for (let r = row0; r < row0 + p.n; ) {
    const i = Math.floor(r / w.partRows);
    const end = Math.min(row0 + p.n, (i + 1) * w.partRows);
    const local = r - i * w.partRows;
    const src = r - row0;
    device.queue.writeBuffer(parts[i]!.data, local * w.rowStride * 4, p.data, src * w.rowStride, (end - r) * w.rowStride);
    if (p.scales) device.queue.writeBuffer(parts[i]!.scales!, local * groups * 4, p.scales, src * groups, (end - r) * groups);
    r = end;
  }
}

export function weightConstants(w: Pick<GpuWeight, 'format' | 'k' | 'rowStride' | 'groupSize'> & { n?: number; partRows?: number }): Record<string, number> {
  const c: Record<string, number> = { W_STRIDE: w.rowStride };
  if (w.partRows !== undefined && w.n !== undefined && w.partRows < w.n) c.W_PART_ROWS = w.partRows;
  if (isQuantized(w.format)) {
    c.W_GROUPS = scaleGroups(w);
    c.W_GROUP_SIZE = w.groupSize;
  }
  return c;
}

export function weightEntries(w: GpuWeight): GPUBindGroupEntry[] {
  const e: GPUBindGroupEntry[] = [{ binding: 0, resource: { buffer: w.data } }];
  if (w.scales) e.push({ binding: 1, resource: { buffer: w.scales } });
  w.more.forEach((m, i) => {
    e.push({ binding: BIND_PART + i, resource: { buffer: m.data } });
    if (m.scales) e.push({ binding: BIND_PART_SCALES + i, resource: { buffer: m.scales } });
  });
  return e;
}

/** Parts a weight of this shape is split into. */
export function weightParts(w: Pick<GpuWeight, 'n' | 'partRows'>): number {
  return Math.ceil(w.n / w.partRows);
}

/** What a kernel's reader code depends on: the layout, and how the rows are split. */
export type WeightReadShape = Pick<GpuWeight, 'format' | 'n' | 'k' | 'partRows' | 'rowStride' | 'groupSize'>;

/**
 * WGSL declarations of a weight's buffers and its accessors: `fn w_at(row, i)`, element i of a row
 * (rowStride / elem.words elements per row), and for quantized formats `fn s_at(row, g)`, the scale word of
 * group g. A split weight picks the part from the row (W_PART_ROWS rows per part). `sized`
 * (software adapters, see sizeStorageArrays) gives each array its length in the declaration.
 */
export function weightAccessWgsl(w: WeightReadShape, elem: WeightElem, sized = false): string {
  const parts = weightParts(w);
  const groups = scaleGroups(w);
  const perRow = w.rowStride / elem.words;
  const scaleElem = formatSpec(w.format).scaleElem;
  const len = (i: number, count: number) => (sized ? `, ${rowsOfPart(w, i) * count}` : '');
  const name = (base: string, i: number) => (i === 0 ? base : `${base}${i}`);
  const lines: string[] = [];
  for (let i = 0; i < parts; i++) {
    lines.push(`@group(0) @binding(${i === 0 ? 0 : BIND_PART + i - 1}) var<storage, read> ${name('W', i)}: array<${elem.type}${len(i, perRow)}>;`);
    if (isQuantized(w.format)) lines.push(`@group(0) @binding(${i === 0 ? 1 : BIND_PART_SCALES + i - 1}) var<storage, read> ${name('S', i)}: array<${scaleElem}${len(i, groups)}>;`);
  }
  const body = (base: string, stride: string) => {
    if (parts === 1) return `  return ${base}[row * ${stride} + i];`;
    const out = ['  let part = row / W_PART_ROWS;', `  let at = (row - part * W_PART_ROWS) * ${stride} + i;`];
    for (let i = 0; i < parts - 1; i++) out.push(`  if (part == ${i}u) { return ${name(base, i)}[at]; }`);
    out.push(`  return ${name(base, parts - 1)}[at];`);
    return out.join('\n');
  };
  if (parts > 1) lines.push('override W_PART_ROWS: u32;');
  lines.push(`fn w_at(row: u32, i: u32) -> ${elem.type} {\n${body('W', elem.words === 1 ? 'W_STRIDE' : `(W_STRIDE / ${elem.words}u)`)}\n}`);
  if (isQuantized(w.format)) lines.push(`fn s_at(row: u32, i: u32) -> ${scaleElem} {\n${body('S', 'W_GROUPS')}\n}`);
  return lines.join('\n') + '\n';
}

/** The 4-weight reader (`fn w4(row, c4)`) of a weight, with its buffers' declarations and accessors. */
export function weightWgsl(w: WeightReadShape): string {
  const { elem, code } = formatSpec(w.format).w4;
  return weightAccessWgsl(w, elem) + code;
}

/** Readable pipeline-key suffix of a split weight ('' when whole). */
export function partsKey(w: Pick<GpuWeight, 'n' | 'partRows'>): string {
  return w.partRows < w.n ? ` parts=${weightParts(w)}` : '';
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
