// The registry of weight formats: the one place that lists them (see format.ts).
import { f32 } from './f32';
import { f16 } from './f16';
import { int8 } from './int8';
import { q4 } from './q4';
import { rowStrideOf, type FormatSpec, type PackedWeight, type WeightFormat } from './format';

export type { FormatSpec, PackedWeight, WeightElem, WeightFormat, Unpack } from './format';

/** Every format, from the widest to the narrowest. */
export const FORMATS: readonly FormatSpec[] = [f32, f16, int8, q4];
export const FORMAT_NAMES: readonly WeightFormat[] = FORMATS.map((f) => f.name);

const BY_NAME = new Map<string, FormatSpec>(FORMATS.map((f) => [f.name, f]));

export function isWeightFormat(name: string): name is WeightFormat {
  return BY_NAME.has(name);
}

export function formatSpec(name: WeightFormat): FormatSpec {
  const f = BY_NAME.get(name);
  if (!f) throw new Error(`unknown weight format "${name}" (${FORMAT_NAMES.join(', ')})`);
  return f;
}

/** The formats narrower than `format` (fewer bytes per weight), for advice: "try the q4 engine". */
export function narrowerFormats(format: WeightFormat): WeightFormat[] {
  return FORMAT_NAMES.slice(FORMAT_NAMES.indexOf(format) + 1);
}

/**
 * What a user can try when `format` does not fit: "Try a smaller model or the int8 or q4 engine."
 * (with `shorterContext`: "Try a smaller model, the q4 engine, or a shorter context."); the
 * narrowest format leaves the engine out.
 */
export function shrinkAdvice(format: WeightFormat, shorterContext: boolean): string {
  const n = narrowerFormats(format);
  const engine = n.length ? `the ${n.join(' or ')} engine` : '';
  if (shorterContext) return `Try a smaller model, ${engine ? `${engine}, ` : ''}or a shorter context.`;
  return `Try a smaller model${engine ? ` or ${engine}` : ''}.`;
}

/** Parses a user-given format name, with the list of valid ones in the error. */
export function parseFormat(name: string, what = 'engine'): WeightFormat {
  if (!isWeightFormat(name)) throw new Error(`unknown ${what} "${name}" (${FORMAT_NAMES.join(', ')})`);
  return name;
}

/** Whether the format stores per-group scales beside its data. */
export function isQuantized(format: WeightFormat): boolean {
  return formatSpec(format).defaultGroupSize > 0;
}

/** Scale groups per row (0 for a format without scales). */
export function scaleGroupsOf(format: WeightFormat, k: number, groupSize: number): number {
  return isQuantized(format) ? Math.ceil(k / groupSize) : 0;
}

/**
 * The scale group a quantized format uses: the format's default when none is given, one group per
 * (padded) row when 0 (per-channel); 0 for a format without scales.
 */
export function groupSizeFor(format: WeightFormat, k: number, groupSize?: number): number {
  const f = formatSpec(format);
  if (!f.defaultGroupSize) return 0;
  if (groupSize === undefined) return f.defaultGroupSize;
  return groupSize === 0 ? rowStrideOf(f, k) * f.perWord : groupSize;
}

/** The packed shape of an [n, k] weight in `format` (group size as groupSizeFor). */
export function packedLayout(n: number, k: number, format: WeightFormat, groupSize?: number): { rowStride: number; groupSize: number; dataWords: number; scaleCount: number; bytes: number } {
  const f = formatSpec(format);
  const g = groupSizeFor(format, k, groupSize);
  const rowStride = rowStrideOf(f, k);
  const dataWords = n * rowStride;
  const scaleCount = n * scaleGroupsOf(format, k, g);
  return { rowStride, groupSize: g, dataWords, scaleCount, bytes: 4 * (dataWords + scaleCount) };
}

/** Packs W[n, k] (row-major f32) in `format` (group size as groupSizeFor). */
export function packWeight(w: Float32Array, n: number, k: number, format: WeightFormat, groupSize?: number): PackedWeight {
  const g = groupSizeFor(format, k, groupSize);
  return formatSpec(format).pack(w, n, k, g || undefined);
}

/** The exact f32 values a kernel sees for a packed weight: the plain-TS reference for tests. */
export function unpackWeight(p: PackedWeight): Float32Array {
  const f = formatSpec(p.format);
  const out = new Float32Array(p.n * p.k);
  for (let r = 0; r < p.n; r++) for (let c = 0; c < p.k; c++) out[r * p.k + c] = f.valueAt(p, r, c);
  return out;
}

/** Bytes the GPU holds for this weight. */
export function packedBytes(p: PackedWeight): number {
  return p.data.byteLength + (p.scales?.byteLength ?? 0);
}
