// safetensors: an 8-byte little-endian header length, a JSON header
// { name: { dtype, shape, data_offsets: [begin, end] }, "__metadata__"?: {...} }, then the data.
// Offsets are relative to the end of the header. Everything is validated before any tensor is used.
import { toF32, type SourceDtype } from '../kernels/formats/dtype';

export class SafetensorsError extends Error {
  override name = 'SafetensorsError';
}

export interface TensorInfo {
  name: string;
  dtype: SourceDtype;
  shape: number[];
  /** absolute byte range in the file */
  begin: number;
  end: number;
}

export interface SafetensorsHeader {
  /** bytes before the data section: 8 + header length */
  dataStart: number;
  tensors: Map<string, TensorInfo>;
}

const DTYPE_BYTES: Record<SourceDtype, number> = { F32: 4, F16: 2, BF16: 2 };
/** Header JSON larger than this is refused (the format's own reference reader uses 100 MB). */
const MAX_HEADER_BYTES = 100_000_000;

/** Reads the header length from the first 8 bytes; `fileSize` (when known) bounds it. */
export function headerLength(first8: Uint8Array, fileSize?: number, file = 'model.safetensors'): number {
  if (first8.byteLength < 8) throw new SafetensorsError(`${file}: file is truncated (${first8.byteLength} bytes, shorter than the 8-byte header length)`);
  const view = new DataView(first8.buffer, first8.byteOffset, 8);
  const lo = view.getUint32(0, true);
  const hi = view.getUint32(4, true);
  const len = hi * 2 ** 32 + lo;
  if (len === 0 || len > MAX_HEADER_BYTES) throw new SafetensorsError(`${file}: header length ${len} is not plausible (expected 1..${MAX_HEADER_BYTES} bytes)`);
  if (fileSize !== undefined && 8 + len > fileSize) {
    throw new SafetensorsError(`${file}: file is truncated: the header claims ${len} bytes but the file has ${fileSize} bytes in all`);
  }
  return len;
}

/**
 * Parses and validates the header. `headerBytes` holds at least the first 8 + header-length bytes;
 * `fileSize` is the whole file's size so every tensor's range can be checked against it.
 */
export function parseHeader(headerBytes: Uint8Array, fileSize: number, file = 'model.safetensors'): SafetensorsHeader {
  const len = headerLength(headerBytes, fileSize, file);
  if (headerBytes.byteLength < 8 + len) throw new SafetensorsError(`${file}: file is truncated inside the header`);
  let json: unknown;
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(headerBytes.subarray(8, 8 + len));
    json = JSON.parse(text);
  } catch (e) {
    throw new SafetensorsError(`${file}: header is not valid JSON (${(e as Error).message})`);
  }
  if (!json || typeof json !== 'object' || Array.isArray(json)) throw new SafetensorsError(`${file}: header must be a JSON object`);
  const dup = firstDuplicateKey(text);
  if (dup !== null) throw new SafetensorsError(`${file}: tensor ${JSON.stringify(dup)} is described twice in the header (a corrupt or hand-edited file)`);
  const dataStart = 8 + len;
  const dataSize = fileSize - dataStart;
  const tensors = new Map<string, TensorInfo>();
  for (const [name, raw] of Object.entries(json as Record<string, unknown>)) {
    if (name === '__metadata__') continue;
    const t = raw as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (!t || typeof t !== 'object') throw new SafetensorsError(`${file}: tensor "${name}" has no description`);
    if (t.dtype !== 'F32' && t.dtype !== 'F16' && t.dtype !== 'BF16') {
      throw new SafetensorsError(`${file}: tensor "${name}" has dtype ${JSON.stringify(t.dtype)}; supported dtypes are F32, F16 and BF16`);
    }
    const shape = t.shape;
    if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) {
      throw new SafetensorsError(`${file}: tensor "${name}" has an invalid shape ${JSON.stringify(shape)}`);
    }
    const offs = t.data_offsets;
    if (!Array.isArray(offs) || offs.length !== 2 || !offs.every((o) => Number.isSafeInteger(o) && o >= 0)) {
      throw new SafetensorsError(`${file}: tensor "${name}" has invalid data_offsets ${JSON.stringify(offs)}`);
    }
    const [b, e] = offs as [number, number];
    const want = (shape as number[]).reduce((a, d) => a * d, 1) * DTYPE_BYTES[t.dtype];
    if (e < b || e - b !== want) {
      throw new SafetensorsError(`${file}: tensor "${name}" spans ${e - b} bytes but ${t.dtype}${JSON.stringify(shape)} needs ${want}`);
    }
    if (e > dataSize) {
      throw new SafetensorsError(
        `${file}: tensor "${name}" ends at byte ${e} of the data section, which has only ${dataSize} bytes (file truncated or offsets out of range)`,
      );
    }
    tensors.set(name, { name, dtype: t.dtype, shape: shape as number[], begin: dataStart + b, end: dataStart + e });
  }
  // Overlapping tensors mean a corrupt file: two weights would alias the same bytes.
  const sorted = [...tensors.values()].filter((t) => t.end > t.begin).sort((a, b) => a.begin - b.begin);
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i]!.begin < sorted[i - 1]!.end) {
      throw new SafetensorsError(`${file}: tensors "${sorted[i - 1]!.name}" and "${sorted[i]!.name}" overlap`);
    }
  }
  return { dataStart, tensors };
}

/**
 * The first top-level key that occurs twice in a JSON object's text, or null. JSON.parse silently
 * keeps the last of duplicate keys, which would hide that two tensors claim one name. `text` must
 * already have parsed as a JSON object, so the scan only tracks strings and nesting.
 */
export function firstDuplicateKey(text: string): string | null {
  const seen = new Set<string>();
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if (ch === 0x22 /* " */) {
      let j = i + 1;
      while (text.charCodeAt(j) !== 0x22) j += text.charCodeAt(j) === 0x5c /* \ */ ? 2 : 1;
      if (depth === 1) {
        let k = j + 1;
        while (k < text.length && ' \t\r\n'.includes(text[k]!)) k++;
        if (text[k] === ':') {
          const key = JSON.parse(text.slice(i, j + 1)) as string;
          if (seen.has(key)) return key;
          seen.add(key);
        }
      }
      i = j;
    } else if (ch === 0x7b /* { */ || ch === 0x5b /* [ */) depth++;
    else if (ch === 0x7d /* } */ || ch === 0x5d /* ] */) depth--;
  }
  return null;
}

/** Decodes one tensor's bytes (exactly `info.end - info.begin` of them) to f32. */
export function tensorToF32(info: TensorInfo, bytes: Uint8Array): Float32Array {
  if (bytes.byteLength !== info.end - info.begin) {
    throw new SafetensorsError(`tensor "${info.name}": got ${bytes.byteLength} bytes, expected ${info.end - info.begin}`);
  }
  return toF32(bytes, info.dtype);
}

/** `model.safetensors.index.json`: which shard holds each tensor. */
export function parseShardIndex(text: string): Map<string, string> {
  let json: { weight_map?: Record<string, unknown> };
  try {
    json = JSON.parse(text) as typeof json;
  } catch (e) {
    throw new SafetensorsError(`model.safetensors.index.json is not valid JSON (${(e as Error).message})`);
  }
  const map = json?.weight_map;
  if (!map || typeof map !== 'object') throw new SafetensorsError('model.safetensors.index.json has no "weight_map"');
  const out = new Map<string, string>();
  for (const [name, shard] of Object.entries(map)) {
    if (typeof shard !== 'string' || !/^[\w.-]+\.safetensors$/.test(shard)) {
      throw new SafetensorsError(`model.safetensors.index.json: tensor "${name}" points at an invalid shard name ${JSON.stringify(shard)}`);
    }
    out.set(name, shard);
  }
  return out;
}
