// The IndexedDB weight cache on fake-indexeddb, with stories260K's real packed tensors (int8 and
// f16) and a small chunk size so tensors straddle chunk boundaries.
import 'fake-indexeddb/auto';
import { describe, it, expect, beforeAll } from 'vitest';
import { createStore, keys, get, set, del } from 'idb-keyval';
import { WeightCache, CacheCorruptError, CacheQuotaError, CacheMissError, CACHE_FORMAT_VERSION, type CacheKey } from '../../src/hub/cache';
import { folderSource } from '../../src/model/source';
import { readPackedTensors, type PackedTensor } from '../../src/model/weights';
import { parseConfig } from '../../src/model/config';
import { modelDir } from './fixtures';
import { failingStore } from './idb_faults';

const CHUNK = 40_000; // stories260K int8 is ~0.3 MB: several chunks, tensors split across them
let dbCount = 0;
const freshStore = () => createStore(`weight-cache-test-${dbCount++}`, 'weights');
const key = (format: 'int8' | 'f16' | 'q4'): CacheKey => ({ repo: 'test-owner/stories260K', revision: 'main', format });

const packed = {} as Record<'int8' | 'f16' | 'q4', PackedTensor[]>;
let FILES: Map<string, string>;
beforeAll(async () => {
  const src = await folderSource(modelDir('stories260K'));
  FILES = new Map();
  for (const f of ['config.json', 'tokenizer.json', 'tokenizer_config.json', 'generation_config.json']) FILES.set(f, (await src.text(f))!);
  const config = parseConfig(FILES.get('config.json')!);
  for (const format of ['int8', 'f16', 'q4'] as const) {
    packed[format] = [];
    for await (const t of readPackedTensors(src, config, format)) packed[format].push(t);
  }
});

async function* from(ts: PackedTensor[], failAt = -1): AsyncGenerator<PackedTensor> {
  for (const [i, t] of ts.entries()) {
    if (i === failAt) throw new Error('network gone');
    yield t;
  }
}

async function drain(it: AsyncIterable<PackedTensor>): Promise<PackedTensor[]> {
  const out: PackedTensor[] = [];
  for await (const t of it) out.push(t);
  return out;
}

const bytesOf = (a: ArrayBufferView) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
const entryBytes = (ts: PackedTensor[]) =>
  ts.reduce((a, t) => a + (t.matrix ? t.matrix.data.byteLength + (t.matrix.scales?.byteLength ?? 0) : t.vector!.byteLength), 0) +
  [...FILES.values()].reduce((a, s) => a + Buffer.byteLength(s), 0);

function expectSameTensors(got: PackedTensor[], want: PackedTensor[]): void {
  expect(got.map((t) => [t.key, t.hf])).toEqual(want.map((t) => [t.key, t.hf]));
  got.forEach((t, i) => {
    const w = want[i]!;
    if (w.matrix) {
      const { data, scales, ...rest } = t.matrix!;
      const { data: wd, scales: ws, ...wrest } = w.matrix;
      expect(rest).toEqual(wrest);
      expect(data.constructor).toBe(wd.constructor);
      expect(bytesOf(data).equals(bytesOf(wd))).toBe(true);
      expect(scales === undefined).toBe(ws === undefined);
      if (ws) expect(bytesOf(scales!).equals(bytesOf(ws))).toBe(true);
      if (ws) expect(scales!.constructor, 'scales read back as the format packs them').toBe(ws.constructor);
    } else {
      expect(t.vector).toBeInstanceOf(Float32Array);
      expect(bytesOf(t.vector!).equals(bytesOf(w.vector!))).toBe(true);
    }
  });
}

describe('WeightCache', () => {
  it.each(['int8', 'f16', 'q4'] as const)('stories260K %s: write passes tensors through, read round-trips them byte-exactly', async (format) => {
    const store = freshStore();
    const cache = new WeightCache({ store, chunkBytes: CHUNK });
    const src = packed[format];
    const passed = await drain(cache.write(key(format), FILES, from(src)));
    passed.forEach((t, i) => expect(t).toBe(src[i]));
    expect(cache.lastError).toBeNull();
    expect(await cache.has(key(format))).toBe(true);
    expect((await keys(store)).filter((k) => String(k).startsWith('c:')).length).toBeGreaterThan(3);
    expectSameTensors(await drain(cache.read(key(format))), src);
    expect(await cache.files(key(format))).toEqual(FILES);
    expect(await cache.has(key(format === 'int8' ? 'f16' : 'int8'))).toBe(false);
  });

  it('has() is false until the manifest is written; stopping halfway or a failing source leaves nothing', async () => {
    const store = freshStore();
    const cache = new WeightCache({ store, chunkBytes: CHUNK });
    const src = packed.int8;
    let n = 0;
    for await (const _ of cache.write(key('int8'), FILES, from(src))) {
      if (++n === Math.floor(src.length / 2)) {
        expect(await cache.has(key('int8'))).toBe(false);
        break;
      }
    }
    expect(await cache.has(key('int8'))).toBe(false);
    expect(await keys(store)).toEqual([]);
    await expect(drain(cache.write(key('int8'), FILES, from(src, 20)))).rejects.toThrow(/network gone/);
    expect(await keys(store)).toEqual([]);
    expect(cache.lastError).toBeNull();
    const all = cache.write(key('int8'), FILES, from(src));
    for (let i = 0; i < src.length; i++) await all.next();
    expect(await cache.has(key('int8'))).toBe(false); // every tensor passed, manifest not yet written
    expect((await all.next()).done).toBe(true);
    expect(await cache.has(key('int8'))).toBe(true);
  });

  it('quota exceeded mid-write or at the manifest: every tensor still yielded, entry absent, no leftovers, bytes needed recorded', async () => {
    const src = packed.int8;
    const probe = freshStore();
    await drain(new WeightCache({ store: probe, chunkBytes: CHUNK }).write(key('int8'), FILES, from(src)));
    const chunks = (await keys(probe)).filter((k) => String(k).startsWith('c:')).length;
    for (const [allowed, how] of [[2, 'throw'], [chunks, 'throw'], [3, 'abort'], [chunks, 'abort']] as const) {
      const base = freshStore();
      const errors: Error[] = [];
      const store = failingStore(base, allowed, () => new DOMException('The quota has been exceeded.', 'QuotaExceededError'), how);
      const cache = new WeightCache({ store, chunkBytes: CHUNK, onError: (e) => errors.push(e) });
      const passed = await drain(cache.write(key('int8'), FILES, from(src)));
      expect(passed).toHaveLength(src.length);
      passed.forEach((t, i) => expect(t).toBe(src[i]));
      expect(await cache.has(key('int8'))).toBe(false);
      expect(await keys(base)).toEqual([]);
      expect(cache.lastError).toBeInstanceOf(CacheQuotaError);
      const q = cache.lastError as CacheQuotaError;
      expect(q.bytesNeeded).toBe(entryBytes(src));
      expect(q.message).toMatch(new RegExp(`${q.bytesNeeded} bytes`));
      expect(errors).toEqual([q]);
    }
  });

  it('a non-quota storage failure is recorded as itself and does not stop the load either', async () => {
    const base = freshStore();
    const cache = new WeightCache({ store: failingStore(base, 1, () => new TypeError('disk on fire')), chunkBytes: CHUNK });
    expect(await drain(cache.write(key('f16'), FILES, from(packed.f16)))).toHaveLength(packed.f16.length);
    expect(cache.lastError?.message).toBe('disk on fire');
    expect(await keys(base)).toEqual([]);
  });

  it('a corrupted or missing chunk: read throws CacheCorruptError and the entry is deleted', async () => {
    for (const damage of ['flip', 'drop'] as const) {
      const store = freshStore();
      const cache = new WeightCache({ store, chunkBytes: CHUNK });
      await drain(cache.write(key('int8'), FILES, from(packed.int8)));
      const chunkKeys = (await keys(store)).filter((k) => String(k).startsWith('c:')).sort();
      const victim = chunkKeys[2]!;
      if (damage === 'flip') {
        const c = (await get<{ sum: number; data: Uint8Array }>(victim, store))!;
        c.data[1234] ^= 0x10;
        await set(victim, c, store);
      } else await del(victim, store);
      const err = await drain(cache.read(key('int8'))).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(CacheCorruptError);
      expect((err as Error).message).toMatch(damage === 'flip' ? /chunk 2 fails its checksum/ : /chunk 2 is missing/);
      expect(await cache.has(key('int8'))).toBe(false);
      expect(await keys(store)).toEqual([]);
    }
  });

  it('an entry of another CACHE_FORMAT_VERSION is ignored by has/read/files and listed as stale', async () => {
    const store = freshStore();
    const cache = new WeightCache({ store, chunkBytes: CHUNK });
    await drain(cache.write(key('int8'), FILES, from(packed.int8)));
    const mkey = (await keys(store)).find((k) => String(k).startsWith('m:'))!;
    const m = (await get<Record<string, unknown>>(mkey, store))!;
    await set(mkey, { ...m, version: CACHE_FORMAT_VERSION + 1 }, store);
    expect(await cache.has(key('int8'))).toBe(false);
    expect(await cache.files(key('int8'))).toBeNull();
    await expect(drain(cache.read(key('int8')))).rejects.toBeInstanceOf(CacheMissError);
    expect(await cache.list()).toMatchObject([{ key: key('int8'), version: CACHE_FORMAT_VERSION + 1, stale: true }]);
    await cache.delete(key('int8'));
    expect(await keys(store)).toEqual([]);
  });

  it('list() describes each entry; delete() removes one entry only; sweep() clears orphans', async () => {
    const store = freshStore();
    const cache = new WeightCache({ store, chunkBytes: CHUNK });
    for (const f of ['int8', 'f16'] as const) await drain(cache.write(key(f), FILES, from(packed[f])));
    const list = (await cache.list()).sort((a, b) => a.key.format.localeCompare(b.key.format));
    expect(list.map((e) => [e.key, e.tensors, e.bytes, e.version, e.stale])).toEqual([
      [key('f16'), packed.f16.length, entryBytes(packed.f16), CACHE_FORMAT_VERSION, false],
      [key('int8'), packed.int8.length, entryBytes(packed.int8), CACHE_FORMAT_VERSION, false],
    ]);
    expect(Date.parse(list[0]!.createdAt)).toBeGreaterThan(Date.now() - 60_000);
    await cache.delete(key('int8'));
    expect((await cache.list()).map((e) => e.key.format)).toEqual(['f16']);
    expect(await cache.has(key('f16'))).toBe(true);
    expect((await keys(store)).every((k) => String(k).includes('"f16"'))).toBe(true);
    expectSameTensors(await drain(cache.read(key('f16'))), packed.f16);
    const mkey = (await keys(store)).find((k) => String(k).startsWith('m:'))!;
    await del(mkey, store);
    expect(await cache.sweep()).toBeGreaterThan(3);
    expect(await keys(store)).toEqual([]);
  });

  it('estimate() and persist() degrade to null/false without navigator.storage', async () => {
    expect(await WeightCache.estimate()).toBeNull();
    expect(await WeightCache.persist()).toBe(false);
  });
});
