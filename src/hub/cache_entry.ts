// The stored form of one cache entry (see cache.ts for the layout and the policy): key names, the
// manifest, the chunk writer and the chunk reader.
import { get, set, setMany, type UseStore } from 'idb-keyval';
import type { PackedTensor } from '../model/weights';
import { formatSpec, type PackedWeight } from '../kernels/formats';
import type { CacheKey } from './cache';
import { checksum32 } from './checksum';

export type Span = [offset: number, length: number];
export interface TensorMeta {
  key: string;
  hf: string;
  vector?: Span;
  matrix?: Omit<PackedWeight, 'data' | 'scales'> & { data: Span; scales?: Span };
}
export interface Manifest {
  version: number;
  key: CacheKey;
  createdAt: string;
  /** stored bytes: tensor data plus the text files */
  bytes: number;
  tensorCount: number;
  streamBytes: number;
  chunkBytes: number;
  chunks: number;
  tensors: TensorMeta[];
}
export interface Chunk {
  sum: number;
  data: Uint8Array;
}

export const entryId = (k: CacheKey) => JSON.stringify([k.repo, k.revision, k.format]);
export const manifestKey = (id: string) => `m:${id}`;
export const filesKey = (id: string) => `f:${id}`;
export const chunkPrefix = (id: string) => `c:${id}:`;
export const chunkKey = (id: string, i: number) => `${chunkPrefix(id)}${String(i).padStart(8, '0')}`;
export const prefixRange = (prefix: string) => IDBKeyRange.bound(prefix, `${prefix}\uffff`);
const asBytes = (a: ArrayBufferView) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

/** Lays tensors into chunks; one chunk's put may be in flight while the next one fills. */
export class EntryWriter {
  private bufs: [Uint8Array, Uint8Array];
  private fill = 0;
  private offset = 0;
  private chunks = 0;
  private pending: Promise<void> = Promise.resolve();
  private failed: { e: unknown } | null = null;
  readonly metas: TensorMeta[] = [];

  constructor(
    private readonly store: UseStore,
    private readonly id: string,
    private readonly chunkBytes: number,
  ) {
    // Two buffers: one may still be waiting to be cloned by IndexedDB while the other fills.
    this.bufs = [new Uint8Array(chunkBytes), new Uint8Array(0)];
  }

  async add(t: PackedTensor): Promise<void> {
    const meta: TensorMeta = { key: t.key, hf: t.hf };
    if (t.matrix) {
      const { data, scales, ...rest } = t.matrix;
      meta.matrix = { ...rest, data: await this.append(asBytes(data)), ...(scales ? { scales: await this.append(asBytes(scales)) } : {}) };
    } else if (t.vector) {
      meta.vector = await this.append(asBytes(t.vector));
    }
    this.metas.push(meta);
  }

  private async append(bytes: Uint8Array): Promise<Span> {
    const span: Span = [this.offset, bytes.byteLength];
    for (let at = 0; at < bytes.byteLength; ) {
      const n = Math.min(bytes.byteLength - at, this.chunkBytes - this.fill);
      this.bufs[0].set(bytes.subarray(at, at + n), this.fill);
      this.fill += n;
      at += n;
      if (this.fill === this.chunkBytes) await this.flush();
    }
    this.offset += bytes.byteLength;
    return span;
  }

  private async flush(): Promise<void> {
    await this.pending;
    if (this.failed) throw this.failed.e;
    if (this.fill === 0) return;
    const full = this.fill === this.chunkBytes;
    // A view of part of a buffer would be cloned whole, so the last, short chunk gets its own copy.
    const data = full ? this.bufs[0] : this.bufs[0].slice(0, this.fill);
    const i = this.chunks++;
    const chunk: Chunk = { sum: checksum32(data, i), data };
    this.pending = set(chunkKey(this.id, i), chunk, this.store).catch((e: unknown) => {
      this.failed ??= { e };
    });
    if (full) {
      if (this.bufs[1].byteLength === 0) this.bufs[1] = new Uint8Array(this.chunkBytes);
      this.bufs = [this.bufs[1], this.bufs[0]];
    }
    this.fill = 0;
  }

  /** Stores the last chunk, then the manifest and files together, which completes the entry. */
  async finish(manifest: Omit<Manifest, 'streamBytes' | 'chunkBytes' | 'chunks' | 'tensors' | 'tensorCount'>, files: Record<string, string>): Promise<void> {
    await this.flush();
    await this.settle();
    if (this.failed) throw this.failed.e;
    const full: Manifest = { ...manifest, tensorCount: this.metas.length, streamBytes: this.offset, chunkBytes: this.chunkBytes, chunks: this.chunks, tensors: this.metas };
    await setMany([[filesKey(this.id), files], [manifestKey(this.id), full]], this.store);
  }

  /** Waits for the put in flight, so a cleanup cannot race it. */
  settle(): Promise<void> {
    return this.pending;
  }
}

/**
 * Yields an entry's tensors, reading chunk i+1 while the consumer handles chunk i and verifying
 * each chunk; a missing, short or mismatching chunk throws what `corrupt` returns.
 */
export async function* readEntry(store: UseStore, id: string, m: Manifest, corrupt: (why: string) => Promise<Error>): AsyncGenerator<PackedTensor> {
  const load = (i: number) => {
    const p = get<Chunk>(chunkKey(id, i), store);
    p.catch(() => {}); // a read-ahead nobody awaits, when the consumer stops early
    return p;
  };
  let index = -1;
  let chunk: Uint8Array = new Uint8Array(0);
  let next = m.chunks > 0 ? load(0) : null;
  const advance = async () => {
    index++;
    const c = index < m.chunks ? await next : undefined;
    next = index + 1 < m.chunks ? load(index + 1) : null;
    const want = Math.min(m.chunkBytes, m.streamBytes - index * m.chunkBytes);
    if (!c || !(c.data instanceof Uint8Array)) throw await corrupt(`chunk ${index} is missing`);
    if (c.data.byteLength !== want) throw await corrupt(`chunk ${index} has ${c.data.byteLength} bytes, expected ${want}`);
    if (checksum32(c.data, index) !== c.sum) throw await corrupt(`chunk ${index} fails its checksum`);
    chunk = c.data;
  };
  const take = async ([offset, length]: Span): Promise<ArrayBuffer> => {
    const out = new Uint8Array(length);
    for (let done = 0; done < length; ) {
      const pos = offset + done;
      while (pos >= (index + 1) * m.chunkBytes || index < 0) await advance();
      const at = pos - index * m.chunkBytes;
      const n = Math.min(length - done, chunk.byteLength - at);
      out.set(chunk.subarray(at, at + n), done);
      done += n;
    }
    return out.buffer;
  };
  for (const t of m.tensors) {
    if (t.matrix) {
      const { data, scales, ...rest } = t.matrix;
      const bytes = await take(data);
      const matrix: PackedWeight = { ...rest, data: rest.format === 'f32' ? new Float32Array(bytes) : new Uint32Array(bytes) };
      if (scales) matrix.scales = formatSpec(rest.format).scaleElem === 'u32' ? new Uint32Array(await take(scales)) : new Float32Array(await take(scales));
      yield { key: t.key, hf: t.hf, matrix };
    } else if (t.vector) {
      yield { key: t.key, hf: t.hf, vector: new Float32Array(await take(t.vector)) };
    }
  }
}
