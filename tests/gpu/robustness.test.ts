// Failures on the real GPU path (Dawn on SwiftShader): bad files and faults during a load end in a
// named error and leave no GPU buffer behind (a wrapper counts buffers created vs destroyed); GPU
// validation errors name the kernel or buffer; Stop during a chunked prefill; a full or corrupt
// weight cache; 2,000 tokens without a buffer created; a device lost mid-generation. Every engine
// here shares one pipeline cache, so only the first load pays for compiling the kernels.
import 'fake-indexeddb/auto';
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { greedyIds as greedy } from '../../src/bench/greedy_check';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { createStore, get, set, keys } from 'idb-keyval';
import { acquireDevice, type GpuContext } from '../../src/gpu/device';
import { PipelineCache, ShaderCompileError } from '../../src/gpu/pipelines';
import { GpuValidationError, GpuOutOfMemoryError, DeviceLostError } from '../../src/gpu/errors';
import { Engine } from '../../src/model/engine';
import type { GpuWeight } from '../../src/kernels/weights';
import { memorySource, MissingFileError, type ModelSource } from '../../src/model/source';
import { parseConfig } from '../../src/model/config';
import { loadSyntheticEngine } from '../../src/bench/synthetic';
import { WeightCache, CACHE_FORMAT_VERSION, type CacheKey } from '../../src/hub/cache';
import { loadThroughCache } from '../../src/hub/cached_load';
import { modelDir, reference, type GreedyCase } from '../unit/fixtures';
import { mutateModel, rngFrom, isNamedError, CHATML, type MutationKind } from '../unit/mutate';
import { failingStore } from '../unit/idb_faults';

const DIR = modelDir('stories260K');
const ORIGINAL: Map<string, Uint8Array> = new Map(['config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json'].map((f) => [f, new Uint8Array(readFileSync(path.join(DIR, f)))]));
const CASE = (reference('stories260K').ref.greedy as GreedyCase[])[0]!;
const GPU_ERRORS = [GpuValidationError, GpuOutOfMemoryError, ShaderCompileError, DeviceLostError];
const named = (e: unknown) => isNamedError(e) || GPU_ERRORS.some((c) => e instanceof c);

/** Counts live GPU buffers: every createBuffer on the device, minus every destroy() of one. */
function trackBuffers(device: GPUDevice) {
  const live = new Set<GPUBuffer>();
  const counts = { created: 0, destroyed: 0 };
  const create = device.createBuffer;
  device.createBuffer = function (this: GPUDevice, desc: GPUBufferDescriptor) {
    const b = create.call(this, desc);
    counts.created++;
    live.add(b);
    const destroy = b.destroy;
    b.destroy = function (this: GPUBuffer) {
      if (live.delete(b)) counts.destroyed++;
      return destroy.call(this);
    };
    return b;
  };
  return { live: () => live.size, labels: () => [...live].map((b) => b.label), counts, restore: () => (device.createBuffer = create) };
}

let gpu: GpuContext;
let pipelines: PipelineCache;
let tracker: ReturnType<typeof trackBuffers>;

const load = (files: Map<string, Uint8Array>, extra: Partial<Parameters<typeof Engine.load>[2]> = {}, source?: ModelSource) =>
  Engine.load(gpu, source ?? memorySource('stories260K', files), { format: 'f16', pipelines, ...extra });


/** Rejects when `p` has not settled after `ms`: a hang is a failure, not a stuck test run. */
function deadline<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([p, new Promise<T>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: hung for ${ms} ms`)), ms)))]).finally(() => clearTimeout(timer));
}

beforeAll(async () => {
  gpu = await acquireDevice();
  tracker = trackBuffers(gpu.device);
  pipelines = new PipelineCache(gpu.device);
});

afterAll(() => {
  tracker?.restore();
});

describe('robustness on the GPU (stories260K, f16)', () => {
  it('the fixture loads and generates HF greedy tokens; destroy() frees every buffer it made', async () => {
    const before = tracker.live();
    const engine = await load(ORIGINAL);
    expect(tracker.live()).toBeGreaterThan(before + 50);
    expect(await greedy(engine, CASE.prompt_ids, 8)).toEqual(CASE.continuation_ids.slice(0, 8));
    engine.destroy();
    expect(tracker.live()).toBe(before);
  });

  const GPU_CASES = 44;
  // File mutations that get past the CPU checks or fail late, and faults only a GPU load has.
  const KINDS: Array<MutationKind | 'cut-download' | 'bad-kernel' | 'bad-binding'> = ['st-data', 'st-data', 'tok-config', 'tok-vocab', 'config-field', 'config-rope', 'st-tensor', 'cut-download', 'cut-download', 'bad-kernel', 'bad-binding'];
  it(`${GPU_CASES} seeded faults through Engine.load: a working engine or a named error, never a hang or a leaked buffer`, async () => {
    const kernels = [...new Set(pipelines.keys().map((k) => k.split(' ')[0]!))];
    const outcomes: string[] = [];
    const problems: string[] = [];
    for (let seed = 1; seed <= GPU_CASES; seed++) {
      const rng = rngFrom(10_000 + seed);
      const kind = KINDS[(seed - 1) % KINDS.length]!; // every kind several times; the details are seeded
      let files = ORIGINAL;
      let source: ModelSource | undefined;
      let cache = pipelines;
      let detail = '';
      const restore: Array<() => void> = [];
      if (kind === 'cut-download') {
        // A download cut short after the header: sizes look complete, the bytes run out mid-load.
        const cut = 2000 + rng.int(ORIGINAL.get('model.safetensors')!.length - 2000);
        const inner = memorySource('stories260K', ORIGINAL);
        source = {
          ...inner,
          range: async (file, begin, end) => {
            if (file === 'model.safetensors' && end > cut) throw new MissingFileError(`stories260K: ${file} ended after ${cut} bytes (connection lost)`);
            return inner.range(file, begin, end);
          },
        };
        detail = `cut at ${cut}`;
      } else if (kind === 'bad-kernel') {
        // One kernel's WGSL does not compile (a driver that rejects it): a real compile error.
        const victim = rng.pick(kernels);
        const broken = new PipelineCache(gpu.device);
        cache = Object.assign(Object.create(pipelines) as PipelineCache, {
          get: (name: string, code: string, constants?: Record<string, number | boolean>, entry?: string) =>
            name.split(' ')[0] === victim ? broken.get(name, `${code}\nfn broken( {`, constants, entry) : pipelines.get(name, code, constants, entry),
        });
        detail = victim;
      } else if (kind === 'bad-binding') {
        // A bind group built with a buffer of the wrong usage: a validation error at load.
        const victim = `L${rng.int(5)}.${rng.pick(['attnNorm', 'ropeKv', 'siluMul', 'mlpNorm'])}`;
        const createBindGroup = gpu.device.createBindGroup;
        const wrong = gpu.device.createBuffer({ label: 'wrong usage', size: 64, usage: GPUBufferUsage.UNIFORM });
        restore.push(() => wrong.destroy());
        gpu.device.createBindGroup = function (this: GPUDevice, desc: GPUBindGroupDescriptor) {
          if (desc.label !== victim) return createBindGroup.call(this, desc);
          const entries = [...desc.entries];
          entries[0] = { binding: entries[0]!.binding, resource: { buffer: wrong } };
          return createBindGroup.call(this, { ...desc, entries });
        };
        restore.push(() => (gpu.device.createBindGroup = createBindGroup));
        detail = victim;
      } else {
        const m = mutateModel(ORIGINAL, rng, CHATML, kind);
        files = m.files;
        detail = m.detail;
      }
      const before = tracker.live();
      let outcome: string;
      try {
        const engine = await deadline(load(files, { pipelines: cache }, source), 120_000, `seed ${seed}`);
        try {
          const ids = await deadline(greedy(engine, CASE.prompt_ids, 3), 60_000, `seed ${seed} generate`);
          if (ids.length !== 3 || ids.some((id) => !(id >= 0 && id < engine.config.vocabSize))) problems.push(`seed ${seed} (${kind}): generated ${JSON.stringify(ids)}`);
          if (kind === 'bad-kernel' || kind === 'bad-binding' || kind === 'cut-download') problems.push(`seed ${seed} (${kind} ${detail}): loaded anyway`);
        } finally {
          engine.destroy();
        }
        outcome = 'loaded';
      } catch (e) {
        outcome = (e as Error).name;
        if (!named(e)) problems.push(`seed ${seed} (${kind} ${detail}): ${(e as Error).name}: ${(e as Error).message}`);
        if (kind === 'bad-binding' && !(e instanceof GpuValidationError && e.labels.includes(detail))) problems.push(`seed ${seed}: the validation error does not name ${detail}: ${(e as Error).message}`);
        if (kind === 'bad-kernel' && !(e instanceof ShaderCompileError && e.message.startsWith(detail))) problems.push(`seed ${seed}: the compile error does not name ${detail}: ${(e as Error).message}`);
      } finally {
        restore.forEach((r) => r());
      }
      // The fault's own helper buffer was made before `before` and destroyed just now.
      const leaked = tracker.live() - before + (kind === 'bad-binding' ? 1 : 0);
      if (leaked !== 0) problems.push(`seed ${seed} (${kind} ${detail}): ${outcome}, ${leaked} buffers left: ${tracker.labels().slice(-5).join(', ')}`);
      outcomes.push(`${kind}:${outcome}`);
    }
    console.log(`[fuzz gpu] ${outcomes.join(' ')}`);
    expect(problems).toEqual([]);
    // Both ways out are exercised: real loads and failures after buffers were already made.
    expect(outcomes.some((o) => o.endsWith(':loaded'))).toBe(true);
    for (const k of ['cut-download:MissingFileError', 'bad-kernel:ShaderCompileError', 'bad-binding:GpuValidationError']) expect(outcomes, k).toContain(k);
  });

  it('a validation error while generating stops it with a GpuValidationError naming the buffer', async () => {
    const engine = await load(ORIGINAL);
    try {
      const victim = (engine.weights.layers[2]!.wDown as GpuWeight).data;
      expect(victim.label).toBe('model.layers.2.mlp.down_proj.weight');
      victim.destroy();
      const got: number[] = [];
      const err = await (async () => {
        for await (const t of engine.generate(CASE.prompt_ids, { maxNewTokens: 40, stopIds: [] })) got.push(t.id);
      })().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(GpuValidationError);
      expect((err as GpuValidationError).labels).toContain('model.layers.2.mlp.down_proj.weight');
      expect((err as Error).message).toMatch(/WebGPU validation error in "model\.layers\.2\.mlp\.down_proj\.weight"/);
      expect(got.length).toBeLessThanOrEqual(3);
      // The engine is not left busy: the next call fails the same way, not with EngineBusyError.
      await expect(engine.generate(CASE.prompt_ids, { maxNewTokens: 5 }).next()).rejects.toBeInstanceOf(GpuValidationError);
    } finally {
      engine.destroy();
    }
  });

  it('Stop during a chunked prefill: no token, no further chunk, and the engine stays exact', async () => {
    const engine = await load(ORIGINAL, { maxRows: 16 });
    const queue = gpu.device.queue;
    const submit = queue.submit;
    try {
      const prompt = [...CASE.prompt_ids, ...CASE.continuation_ids]; // ~200 tokens: 13 chunks of 16
      const ctrl = new AbortController();
      let submits = 0;
      queue.submit = function (this: GPUQueue, cbs: Iterable<GPUCommandBuffer>) {
        if (++submits === 3) ctrl.abort(); // Stop pressed while the third chunk is queued
        return submit.call(this, cbs);
      };
      const got: number[] = [];
      for await (const t of engine.generate(prompt, { maxNewTokens: 10, stopIds: [], signal: ctrl.signal })) got.push(t.id);
      queue.submit = submit;
      expect(got).toEqual([]);
      expect(submits).toBe(3);
      expect(await greedy(engine, CASE.prompt_ids, 8)).toEqual(CASE.continuation_ids.slice(0, 8));
    } finally {
      queue.submit = submit;
      engine.destroy();
    }
  });

  const key: CacheKey = { repo: 'test/stories260K', revision: 'main', format: 'f16' };
  const small = async () => new Map(['config.json', 'tokenizer.json', 'tokenizer_config.json'].map((f) => [f, new TextDecoder().decode(ORIGINAL.get(f))]));
  let dbs = 0;

  it('quota exceeded while caching: the engine runs from memory, nothing is stored, the note says how many bytes', async () => {
    const base = createStore(`robustness-quota-${dbs++}`, 'weights');
    const cache = new WeightCache({ store: failingStore(base, 2, () => new DOMException('The quota has been exceeded.', 'QuotaExceededError')), chunkBytes: 64 << 10 });
    const before = tracker.live();
    const { engine, fromCache, notes } = await loadThroughCache(gpu, { name: 'stories260K', format: 'f16', pipelines, cache, key, source: async () => memorySource('stories260K', ORIGINAL), smallFiles: small });
    try {
      expect(fromCache).toBe(false);
      expect(notes).toHaveLength(1);
      expect(notes[0]).toMatch(/^The f16 weights were not cached: not enough storage to cache test\/stories260K@main \(f16\): it needs [\d.]+ MiB \(\d+ bytes\).* The f16 engine runs from memory now/);
      expect(await cache.has(key)).toBe(false);
      expect(await keys(base)).toEqual([]);
      expect(await greedy(engine, CASE.prompt_ids, 8)).toEqual(CASE.continuation_ids.slice(0, 8));
    } finally {
      engine.destroy();
    }
    expect(tracker.live()).toBe(before);
  });

  it('a corrupted cached chunk is detected, the weights downloaded again and re-cached; an older cache version is ignored and replaced', async () => {
    const store = createStore(`robustness-corrupt-${dbs++}`, 'weights');
    const cache = new WeightCache({ store, chunkBytes: 64 << 10 });
    let downloads = 0;
    const source = async () => {
      downloads++;
      return memorySource('stories260K', ORIGINAL);
    };
    const run = async () => {
      const r = await loadThroughCache(gpu, { name: 'stories260K', format: 'f16', pipelines, cache, key, source, smallFiles: small });
      try {
        expect(await greedy(r.engine, CASE.prompt_ids, 6)).toEqual(CASE.continuation_ids.slice(0, 6));
      } finally {
        r.engine.destroy();
      }
      return { fromCache: r.fromCache, notes: r.notes, downloads };
    };
    expect(await run()).toEqual({ fromCache: false, notes: [], downloads: 1 });
    expect(await run()).toEqual({ fromCache: true, notes: [], downloads: 1 });
    const chunk = (await keys(store)).map(String).filter((k) => k.startsWith('c:')).sort()[1]!;
    const c = (await get<{ sum: number; data: Uint8Array }>(chunk, store))!;
    c.data[100] ^= 0x40;
    await set(chunk, c, store);
    const again = await run();
    expect(again).toMatchObject({ fromCache: false, downloads: 2 });
    expect(again.notes[0]).toBe('The cached weights for test/stories260K@main (f16) are corrupt (chunk 1 fails its checksum): the entry was deleted and the weights downloaded again.');
    expect(await run()).toEqual({ fromCache: true, notes: [], downloads: 2 });
    // An entry written by another format version is never read: fetched again, and replaced.
    const mkey = (await keys(store)).map(String).find((k) => k.startsWith('m:'))!;
    await set(mkey, { ...(await get<Record<string, unknown>>(mkey, store)), version: CACHE_FORMAT_VERSION - 1 }, store);
    expect(await run()).toEqual({ fromCache: false, notes: [], downloads: 3 });
    expect((await cache.list()).map((e) => [e.version, e.stale])).toEqual([[CACHE_FORMAT_VERSION, false]]);
  });

  it('2,000 tokens in a 2,048-token context: no buffer created or destroyed, the live count never moves', async () => {
    // stories260K's context is 512, so a 1-layer, 1-head model of the same family with a 2,048
    // context and synthetic weights: the decode loop, KV cache and attention are the same code at
    // every size, and one head keeps SwiftShader's cost of attending over 2,000 keys down.
    const config = parseConfig({ model_type: 'llama', hidden_size: 16, intermediate_size: 64, num_hidden_layers: 1, num_attention_heads: 1, num_key_value_heads: 1, vocab_size: 64, max_position_embeddings: 2048, rms_norm_eps: 1e-5, rope_theta: 10000 });
    const engine = await loadSyntheticEngine(gpu, { name: 'long-context', config }, 'int8', { contextLength: 2048 });
    try {
      expect(engine.contextLength).toBe(2048);
      expect(engine.forward.fusedDecode).toBe(true); // the decode path real models take
      const live = tracker.live();
      const counts = { ...tracker.counts };
      const samples: number[] = [];
      let n = 0;
      // Sampled (seeded) rather than greedy, so the random weights do not settle into repeating one token.
      for await (const t of engine.generate([1], { maxNewTokens: 2000, stopIds: [], sampling: { temperature: 1, seed: 7 } })) {
        expect(t.id).toBeLessThan(64);
        if (++n % 250 === 0) samples.push(tracker.live());
      }
      expect(n).toBe(2000);
      expect(samples).toEqual(new Array(8).fill(live));
      expect(tracker.counts).toEqual(counts);
    } finally {
      engine.destroy();
    }
  });

  // Last: it destroys the shared device.
  it('device lost during generation: DeviceLostError at once, no hang, and every later call says so', async () => {
    const engine = await load(ORIGINAL);
    const got: number[] = [];
    const err = await deadline(
      (async () => {
        for await (const t of engine.generate(CASE.prompt_ids, { maxNewTokens: 100, stopIds: [] })) {
          got.push(t.id);
          if (got.length === 3) gpu.device.destroy();
        }
      })().catch((e: unknown) => e),
      30_000,
      'generation on a lost device',
    );
    expect(err).toBeInstanceOf(DeviceLostError);
    expect((err as Error).message).toMatch(/GPU device was lost \(destroyed.*\); the f16 engine for stories260K must be rebuilt/);
    expect(got).toHaveLength(3);
    expect(engine.lost).toBe(true);
    await expect(engine.generate(CASE.prompt_ids, { maxNewTokens: 1 }).next()).rejects.toBeInstanceOf(DeviceLostError);
  });
});
