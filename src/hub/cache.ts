// The engine-ready weight cache in IndexedDB: packed/quantized tensors exactly as uploadTensors
// takes them, so a second load needs neither the network nor re-quantizing.
//
// Layout (one object store, string keys; <id> = JSON of [repo, revision, format]):
//   m:<id>              manifest: version, sizes, and every tensor's metadata with its byte span;
//                       written last, in one transaction with f:<id>, so it marks a complete entry
//   f:<id>              the small text files (config.json, tokenizer.json, ...) as an object
//   c:<id>:<00000012>   chunk 12 of the entry's byte stream: { sum, data: Uint8Array }
// Tensors' bytes (matrix data, then scales; or the vector) are laid end to end in one stream cut
// into chunkBytes pieces, so small norms share a record with their neighbours instead of costing a
// transaction each. Every segment is a whole number of 4-byte elements, so offsets stay aligned.
//
// Quota policy: caching must never stop a model from loading. write() passes every tensor through
// unchanged; when storing fails (quota or anything else), it deletes what it wrote, stops storing,
// keeps yielding, and at the end records the failure in `lastError` (and calls `onError`): a
// CacheQuotaError, with the bytes the whole entry needed, for quota failures; the original error
// otherwise. Errors from the tensors themselves, and a consumer that stops early, also delete the
// partial entry; the former are rethrown, as they mean the model did not load.
import { createStore, get, del, promisifyRequest, type UseStore } from 'idb-keyval';
import type { PackedTensor } from '../model/weights';
import type { WeightFormat } from '../kernels/formats';
import { EntryWriter, readEntry, entryId, manifestKey, filesKey, chunkPrefix, prefixRange, type Manifest } from './cache_entry';

export interface CacheKey {
  repo: string;
  revision: string;
  format: WeightFormat;
}

export interface CacheEntryInfo {
  key: CacheKey;
  bytes: number;
  tensors: number;
  createdAt: string;
  version: number;
  /** written by another CACHE_FORMAT_VERSION: never read, only worth deleting */
  stale: boolean;
}

export const CACHE_FORMAT_VERSION = 1;
export const DEFAULT_CHUNK_BYTES = 16 << 20;
export const CACHE_DB = 'webgpu-int8-llm';
export const CACHE_STORE = 'weights';

export class CacheQuotaError extends Error {
  override name = 'CacheQuotaError';
  /** bytes the whole entry needed (a lower bound when the load stopped before the last tensor) */
  readonly bytesNeeded: number;
  /** free bytes the browser reported afterwards, when it reports them */
  readonly available: number | null;
  constructor(message: string, bytesNeeded: number, available: number | null, options?: { cause?: unknown }) {
    super(message, options);
    this.bytesNeeded = bytesNeeded;
    this.available = available;
  }
}

export class CacheCorruptError extends Error {
  override name = 'CacheCorruptError';
}

/** read() of a key with no complete entry of the current version */
export class CacheMissError extends Error {
  override name = 'CacheMissError';
}

const label = (k: CacheKey) => `${k.repo}@${k.revision} (${k.format})`;
const mb = (n: number) => `${(n / 2 ** 20).toFixed(1)} MiB`;

function isQuotaError(e: unknown): boolean {
  const name = (e as { name?: unknown } | null)?.name;
  return name === 'QuotaExceededError' || name === 'NS_ERROR_DOM_QUOTA_REACHED' || (e as { code?: unknown } | null)?.code === 22;
}

function tensorBytes(t: PackedTensor): number {
  return t.matrix ? t.matrix.data.byteLength + (t.matrix.scales?.byteLength ?? 0) : (t.vector?.byteLength ?? 0);
}

export interface WeightCacheOptions {
  /** an idb-keyval store; default createStore(CACHE_DB, CACHE_STORE) */
  store?: UseStore;
  /** bytes per stored chunk; default 16 MiB (a multiple of 4) */
  chunkBytes?: number;
  /** called once per write() whose storing failed (the load itself went on) */
  onError?: (e: Error) => void;
}

export class WeightCache {
  private readonly store: UseStore;
  private readonly chunkBytes: number;
  private readonly onError: ((e: Error) => void) | undefined;
  private readonly writing = new Set<string>();
  /** why the most recent write() stored nothing (null when it stored its entry, or none ran yet) */
  lastError: Error | null = null;

  constructor(opts: WeightCacheOptions = {}) {
    this.store = opts.store ?? createStore(CACHE_DB, CACHE_STORE);
    this.chunkBytes = opts.chunkBytes ?? DEFAULT_CHUNK_BYTES;
    if (!Number.isInteger(this.chunkBytes) || this.chunkBytes <= 0 || this.chunkBytes % 4 !== 0) {
      throw new RangeError(`chunkBytes must be a positive multiple of 4, got ${this.chunkBytes}`);
    }
    this.onError = opts.onError;
  }

  private async manifest(key: CacheKey): Promise<Manifest | null> {
    const m = await get<Manifest>(manifestKey(entryId(key)), this.store);
    return m && m.version === CACHE_FORMAT_VERSION && Array.isArray(m.tensors) ? m : null;
  }

  /** true only when a complete entry (manifest written last, current version) exists */
  async has(key: CacheKey): Promise<boolean> {
    return (await this.manifest(key)) !== null;
  }

  /** the small text files saved with a complete entry */
  async files(key: CacheKey): Promise<Map<string, string> | null> {
    if (!(await this.has(key))) return null;
    const rec = await get<Record<string, string>>(filesKey(entryId(key)), this.store);
    return new Map(Object.entries(rec ?? {}));
  }

  /**
   * Yields the entry's tensors in stored order, verifying each chunk's checksum as it arrives (the
   * next chunk is read while the consumer uploads this one). A bad or missing chunk deletes the
   * entry and throws CacheCorruptError; a key without a complete current entry throws CacheMissError.
   */
  async *read(key: CacheKey): AsyncGenerator<PackedTensor> {
    const m = await this.manifest(key);
    if (!m) throw new CacheMissError(`no cached weights for ${label(key)}`);
    yield* readEntry(this.store, entryId(key), m, async (why) => {
      await this.delete(key).catch(() => {});
      return new CacheCorruptError(`cached weights for ${label(key)} are corrupt (${why}); the entry was deleted, load the model again to re-cache it`);
    });
  }

  /**
   * Passes `tensors` through unchanged while storing them; the manifest is written only after the
   * last one. Storage failures never reach the consumer (see the quota policy at the top of this
   * file and `lastError`); errors of `tensors` are rethrown after the partial entry is deleted.
   */
  async *write(key: CacheKey, files: Map<string, string>, tensors: AsyncIterable<PackedTensor>): AsyncGenerator<PackedTensor> {
    this.lastError = null;
    const id = entryId(key);
    const fileRecord = Object.fromEntries(files);
    const fileBytes = [...files.values()].reduce((a, s) => a + new TextEncoder().encode(s).byteLength, 0);
    let bytes = fileBytes;
    let failure: unknown = null;
    let writer: EntryWriter | null = null;
    let complete = false;
    let owner = false;
    const giveUp = async (e: unknown) => {
      failure ??= e;
      const w = writer;
      writer = null;
      await w?.settle();
      await this.deleteId(id).catch(() => {});
    };
    if (this.writing.has(id)) {
      failure = new Error(`${label(key)} is already being cached by another load`);
    } else {
      this.writing.add(id);
      owner = true;
      writer = new EntryWriter(this.store, id, this.chunkBytes);
      await this.deleteId(id).catch(giveUp);
    }
    try {
      for await (const t of tensors) {
        bytes += tensorBytes(t);
        if (writer) await writer.add(t).catch(giveUp);
        yield t;
      }
      if (writer) {
        const w: EntryWriter = writer;
        await w.finish({ version: CACHE_FORMAT_VERSION, key: { ...key }, createdAt: new Date().toISOString(), bytes }, fileRecord).catch(giveUp);
      }
      complete = true;
    } finally {
      if (!complete && writer) await giveUp(null);
      if (owner) this.writing.delete(id);
      if (failure) await this.report(key, failure, bytes, complete);
    }
  }

  private async report(key: CacheKey, e: unknown, bytesNeeded: number, complete: boolean): Promise<void> {
    let err: Error;
    if (isQuotaError(e)) {
      const est = await WeightCache.estimate().catch(() => null);
      const available = est ? Math.max(0, est.quota - est.usage) : null;
      err = new CacheQuotaError(
        `not enough storage to cache ${label(key)}: it needs ${complete ? '' : 'at least '}${mb(bytesNeeded)} (${bytesNeeded} bytes)` +
          `${available === null ? '' : `, ${mb(available)} free`}; the model loaded from the network. Delete other cached models to make room.`,
        bytesNeeded,
        available,
        { cause: e },
      );
    } else {
      err = e instanceof Error ? e : new Error(String(e));
    }
    this.lastError = err;
    this.onError?.(err);
  }

  /** every manifest in the store, current and stale (another CACHE_FORMAT_VERSION) */
  async list(): Promise<CacheEntryInfo[]> {
    const all = await this.store('readonly', (s) => promisifyRequest(s.getAll(prefixRange('m:')))) as Array<Partial<Manifest>>;
    return all.map((m) => ({
      key: m.key as CacheKey,
      bytes: Number(m.bytes) || 0,
      tensors: Number(m.tensorCount ?? m.tensors?.length) || 0,
      createdAt: String(m.createdAt ?? ''),
      version: Number(m.version) || 0,
      stale: m.version !== CACHE_FORMAT_VERSION,
    }));
  }

  async delete(key: CacheKey): Promise<void> {
    await this.deleteId(entryId(key));
  }

  /** Deletes chunks and files left without a manifest (a tab closed mid-write); returns how many. */
  async sweep(): Promise<number> {
    const keys = (await this.store('readonly', (s) => promisifyRequest(s.getAllKeys()))) as string[];
    const complete = new Set(keys.filter((k) => k.startsWith('m:')).map((k) => k.slice(2)));
    const orphans = keys.filter((k) => {
      const id = k.startsWith('f:') ? k.slice(2) : k.startsWith('c:') ? k.slice(2, k.lastIndexOf(':')) : null;
      return id !== null && !complete.has(id) && !this.writing.has(id);
    });
    for (const k of orphans) await del(k, this.store);
    return orphans.length;
  }

  /** One transaction, so an entry is never left with a manifest but without its chunks. */
  private async deleteId(id: string): Promise<void> {
    await this.store('readwrite', (s) => {
      s.delete(manifestKey(id));
      s.delete(filesKey(id));
      s.delete(prefixRange(chunkPrefix(id)));
      return promisifyRequest(s.transaction);
    });
  }

  static async estimate(): Promise<{ usage: number; quota: number } | null> {
    const storage = typeof navigator === 'undefined' ? undefined : navigator.storage;
    if (!storage?.estimate) return null;
    const e = await storage.estimate();
    return { usage: e.usage ?? 0, quota: e.quota ?? 0 };
  }

  /** Asks the browser not to evict the cache under storage pressure; false when it declines or cannot. */
  static async persist(): Promise<boolean> {
    const storage = typeof navigator === 'undefined' ? undefined : navigator.storage;
    if (!storage?.persist) return false;
    return storage.persist().catch(() => false);
  }
}
