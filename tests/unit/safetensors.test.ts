import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseHeader, parseShardIndex, tensorToF32, SafetensorsError } from '../../src/model/safetensors';
import { indexTensors, loadWeights, WeightError } from '../../src/model/weights';
import { memorySource } from '../../src/model/source';
import { parseConfig } from '../../src/model/config';
import { modelDir } from './fixtures';

/** Builds a safetensors file from a header object (or its exact JSON text) and a data section. */
function build(header: Record<string, unknown> | string, data: Uint8Array): Uint8Array {
  const json = new TextEncoder().encode(typeof header === 'string' ? header : JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setUint32(0, json.length, true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

const f32 = (a: number[]) => new Uint8Array(new Float32Array(a).buffer);

describe('safetensors header', () => {
  it('parses dtypes, shapes and absolute offsets, and decodes f32/f16/bf16', () => {
    const data = new Uint8Array(16);
    data.set(f32([1.5, -2]), 0);
    new DataView(data.buffer).setUint16(8, 0x3c00, true); // f16 1.0
    new DataView(data.buffer).setUint16(10, 0xc000, true); // f16 -2.0
    new DataView(data.buffer).setUint16(12, 0x3f80, true); // bf16 1.0
    new DataView(data.buffer).setUint16(14, 0x4040, true); // bf16 3.0
    const file = build(
      { a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F16', shape: [2], data_offsets: [8, 12] }, c: { dtype: 'BF16', shape: [1, 2], data_offsets: [12, 16] }, __metadata__: { format: 'pt' } },
      data,
    );
    const h = parseHeader(file, file.length);
    expect([...h.tensors.keys()]).toEqual(['a', 'b', 'c']);
    const get = (n: string) => {
      const t = h.tensors.get(n)!;
      return [...tensorToF32(t, file.subarray(t.begin, t.end))];
    };
    expect(get('a')).toEqual([1.5, -2]);
    expect(get('b')).toEqual([1, -2]);
    expect(get('c')).toEqual([1, 3]);
  });

  const ok = { w: { dtype: 'F32', shape: [2, 2], data_offsets: [0, 16] } };
  const err = (header: Record<string, unknown>, dataBytes = 16, cut = 0) => {
    const file = build(header, new Uint8Array(dataBytes));
    const f = cut ? file.subarray(0, file.length - cut) : file;
    return () => parseHeader(f, f.length);
  };
  it('refuses a truncated file', () => {
    expect(err(ok, 16, 4)).toThrow(SafetensorsError);
    expect(err(ok, 16, 4)).toThrow(/truncated|out of range/);
    const tiny = new Uint8Array(5);
    expect(() => parseHeader(tiny, 5)).toThrow(/truncated/);
  });
  it('refuses a header length beyond the file', () => {
    const file = build(ok, new Uint8Array(16));
    new DataView(file.buffer).setUint32(0, 1_000_000, true);
    expect(() => parseHeader(file, file.length)).toThrow(/header claims/);
  });
  it('refuses an oversized header length (beyond 100 MB, or 2^40 in the high word) before reading it', () => {
    for (const [lo, hi] of [[100_000_001, 0], [0, 256]]) {
      const file = build(ok, new Uint8Array(16));
      new DataView(file.buffer).setUint32(0, lo, true);
      new DataView(file.buffer).setUint32(4, hi, true);
      expect(() => parseHeader(file, 2 ** 50)).toThrow(/header length \d+ is not plausible/);
    }
  });
  it('refuses a tensor name described twice in one header (JSON.parse would keep only the last)', () => {
    const t = '{"dtype":"F32","shape":[2],"data_offsets":[0,8]}';
    const u = '{"dtype":"F32","shape":[2],"data_offsets":[8,16]}';
    const file = build(`{"w": ${t}, "__metadata__": {"w": "x"}, "v\\"w": ${u}, "w" : ${u}}`, new Uint8Array(16));
    expect(() => parseHeader(file, file.length)).toThrow(/tensor "w" is described twice/);
    // The same names nested (metadata) or escaped are not duplicates.
    const fine = build(`{"w": ${t}, "__metadata__": {"w": "x"}, "v\\"w": ${u}}`, new Uint8Array(16));
    expect([...parseHeader(fine, fine.length).tensors.keys()]).toEqual(['w', 'v"w']);
  });
  it('refuses offsets out of range', () => {
    expect(err({ w: { dtype: 'F32', shape: [2, 2], data_offsets: [16, 32] } })).toThrow(/ends at byte 32/);
  });
  it('refuses a size that does not match dtype x shape', () => {
    expect(err({ w: { dtype: 'F32', shape: [3, 2], data_offsets: [0, 16] } })).toThrow(/needs 24/);
  });
  it('refuses overlapping tensors', () => {
    expect(err({ a: { dtype: 'F32', shape: [4], data_offsets: [0, 16] }, b: { dtype: 'F32', shape: [2], data_offsets: [8, 16] } })).toThrow(/overlap/);
  });
  it('refuses an unknown dtype by name', () => {
    expect(err({ w: { dtype: 'I64', shape: [2], data_offsets: [0, 16] } })).toThrow(/dtype "I64"; supported dtypes are F32, F16 and BF16/);
  });
  it('refuses a header that is not JSON', () => {
    const file = build(ok, new Uint8Array(16));
    file[8] = 0x7b; // '{'
    file[9] = 0x7b;
    expect(() => parseHeader(file, file.length)).toThrow(/not valid JSON/);
  });
  it('parses a shard index and refuses path tricks', () => {
    expect(parseShardIndex(JSON.stringify({ weight_map: { a: 'model-00001-of-00002.safetensors' } })).get('a')).toBe('model-00001-of-00002.safetensors');
    expect(() => parseShardIndex(JSON.stringify({ weight_map: { a: '../etc/passwd' } }))).toThrow(SafetensorsError);
    expect(() => parseShardIndex('{}')).toThrow(/weight_map/);
  });
});

describe('checkpoints', () => {
  const dir = modelDir('stories260K');
  const files = () =>
    new Map(['config.json', 'model.safetensors'].map((f) => [f, new Uint8Array(readFileSync(path.join(dir, f)))] as [string, Uint8Array]));
  const config = () => parseConfig(readFileSync(path.join(dir, 'config.json'), 'utf8'));

  it('indexes a sharded checkpoint exactly like the single file', async () => {
    const single = await indexTensors(memorySource('s', files()));
    // Re-shard stories260K into two files plus an index, as the hub does for large models.
    const names = [...single.keys()];
    const src = files().get('model.safetensors')!;
    const shards = [names.slice(0, 10), names.slice(10)].map((part) => {
      let off = 0;
      const header: Record<string, unknown> = {};
      const chunks: Uint8Array[] = [];
      for (const n of part) {
        const t = single.get(n)!.info;
        header[n] = { dtype: t.dtype, shape: t.shape, data_offsets: [off, off + t.end - t.begin] };
        chunks.push(src.subarray(t.begin, t.end));
        off += t.end - t.begin;
      }
      const data = new Uint8Array(off);
      let o = 0;
      for (const c of chunks) (data.set(c, o), (o += c.length));
      return build(header, data);
    });
    const m = new Map<string, Uint8Array>([
      ['model-00001-of-00002.safetensors', shards[0]!],
      ['model-00002-of-00002.safetensors', shards[1]!],
      ['model.safetensors.index.json', new TextEncoder().encode(JSON.stringify({ weight_map: Object.fromEntries(names.map((n, i) => [n, `model-0000${i < 10 ? 1 : 2}-of-00002.safetensors`])) }))],
    ]);
    const sharded = await indexTensors(memorySource('sharded', m));
    expect([...sharded.keys()].sort()).toEqual(names.sort());
    const a = single.get(names[12]!)!;
    const b = sharded.get(names[12]!)!;
    const bytes = (mm: Map<string, Uint8Array>, l: typeof a) => mm.get(l.file)!.subarray(l.info.begin, l.info.end);
    expect(bytes(m, b)).toEqual(bytes(files(), a));
  });

  it('refuses a tensor that appears in two shards', async () => {
    const data = new Uint8Array(16);
    const shard = build({ w: { dtype: 'F32', shape: [4], data_offsets: [0, 16] } }, data);
    const index = { weight_map: { w: 'model-00001-of-00002.safetensors', x: 'model-00002-of-00002.safetensors' } };
    const m = new Map<string, Uint8Array>([
      ['model-00001-of-00002.safetensors', shard],
      ['model-00002-of-00002.safetensors', shard],
      ['model.safetensors.index.json', new TextEncoder().encode(JSON.stringify(index))],
    ]);
    await expect(indexTensors(memorySource('dup', m))).rejects.toThrow(/tensor "w" appears in both model-00001-of-00002.safetensors and model-00002-of-00002.safetensors/);
  });

  it('refuses a truncated fixture checkpoint before touching the GPU', async () => {
    const m = files();
    m.set('model.safetensors', m.get('model.safetensors')!.subarray(0, 50_000));
    await expect(indexTensors(memorySource('cut', m))).rejects.toThrow(SafetensorsError);
  });

  it('names a missing tensor and a shape that does not match config.json', async () => {
    const fakeDevice = {} as GPUDevice; // never reached: validation happens before any upload
    const c = config();
    await expect(loadWeights(fakeDevice, memorySource('s', files()), { ...c, numLayers: 6, layerWindows: new Array(6).fill(0) }, 'f16')).rejects.toThrow(
      /tensor "model.layers.5.input_layernorm.weight" is missing/,
    );
    await expect(loadWeights(fakeDevice, memorySource('s', files()), { ...c, intermediateSize: 100 }, 'f16')).rejects.toThrow(WeightError);
  });
});
