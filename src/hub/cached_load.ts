// Loading one engine through the weight cache: from IndexedDB when a complete entry exists, else
// from the model's source while caching it. The failure policy lives here, next to the cache:
// - a cached entry that fails its checksums (CacheCorruptError) is deleted by the cache and the
//   model is fetched again from the source, which also re-caches it; the load goes on;
// - storing failing (quota, anything else) never fails the load: the engine runs from memory and
//   the returned notes say why nothing was cached (CacheQuotaError: how many bytes were needed).
import { Engine, type EngineOptions } from '../model/engine';
import { memorySource, type ModelSource } from '../model/source';
import { readPackedTensors, type LoadProgress, type PackedTensor } from '../model/weights';
import type { GpuContext } from '../gpu/device';
import type { WeightFormat } from '../kernels/formats';
import { CacheCorruptError, type CacheKey, type WeightCache } from './cache';

export interface CachedLoadOptions extends Pick<EngineOptions, 'contextLength' | 'maxLogitRows' | 'pipelines' | 'requireTokenizer'> {
  name: string;
  format: WeightFormat;
  /** null: do not cache (a local folder is on disk already) */
  cache: WeightCache | null;
  key: CacheKey | null;
  /** the model's files; only called when the cache cannot serve the load */
  source: () => Promise<ModelSource>;
  /** the small text files to store with the entry (config.json, tokenizer files) */
  smallFiles: (source: ModelSource) => Promise<Map<string, string>>;
  /** wraps the tensor stream (progress, cancellation); `total` is known for cached entries only */
  watch?: (tensors: AsyncIterable<PackedTensor>, phase: 'cache' | 'convert', total: number) => AsyncIterable<PackedTensor>;
  onProgress?: (p: LoadProgress) => void;
}

export interface CachedLoad {
  engine: Engine;
  fromCache: boolean;
  /** what went wrong with the cache on the way, for the user (the engine loaded regardless) */
  notes: string[];
}

/** A source over text files only (a cache entry's small files: the weights come from the cache). */
export function textSource(name: string, files: Map<string, string>): ModelSource {
  const enc = new TextEncoder();
  return memorySource(name, new Map([...files].map(([k, v]) => [k, enc.encode(v)])));
}

export async function loadThroughCache(gpu: GpuContext, o: CachedLoadOptions): Promise<CachedLoad> {
  const { cache, key, format } = o;
  const watch = o.watch ?? ((t) => t);
  const engineOpts = { format, contextLength: o.contextLength, maxLogitRows: o.maxLogitRows, pipelines: o.pipelines, requireTokenizer: o.requireTokenizer };
  const notes: string[] = [];
  if (cache && key && (await cache.has(key))) {
    const files = await cache.files(key);
    const total = (await cache.list()).find((e) => e.key.repo === key.repo && e.key.revision === key.revision && e.key.format === key.format)?.tensors ?? 0;
    if (files) {
      try {
        const engine = await Engine.load(gpu, textSource(o.name, files), { ...engineOpts, tensors: () => watch(cache.read(key), 'cache', total) });
        return { engine, fromCache: true, notes };
      } catch (e) {
        if (!(e instanceof CacheCorruptError)) throw e;
        // The cache already deleted the entry; fetching again replaces it with a good one.
        notes.push(`The ${e.message.replace(/; the entry was deleted.*$/, '')}: the entry was deleted and the weights downloaded again.`);
      }
    }
  }
  const src = await o.source();
  if (!cache || !key) {
    const engine = await Engine.load(gpu, src, { ...engineOpts, tensors: (cfg) => watch(readPackedTensors(src, cfg, format, o.onProgress), 'convert', 0) });
    return { engine, fromCache: false, notes };
  }
  const small = await o.smallFiles(src);
  const engine = await Engine.load(gpu, src, { ...engineOpts, tensors: (cfg) => cache.write(key, small, watch(readPackedTensors(src, cfg, format, o.onProgress), 'convert', 0)) });
  const err = cache.lastError;
  const after = `The ${format} engine runs from memory now; its weights will be downloaded again next time.`;
  if (err) notes.push(`The ${format} weights were not cached: ${err.message} ${after}`);
  else if (!(await cache.has(key))) notes.push(`The ${format} weights were not cached. ${after}`);
  return { engine, fromCache: false, notes };
}
