// The benchmark tools on SwiftShader: fill_random against its TS reference, synthetic weights
// shaped exactly like loaded ones, the profiler's pass splitting, the model benchmark (in process
// and through the real CLI) and the kernel lab, with every report field checked.
import { describe, it, expect, beforeAll } from 'vitest';
import { greedyIds as greedy } from '../../src/bench/greedy_check';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { acquireDevice, type GpuContext } from '../../src/gpu/device';
import { createStorage, readBuffer } from '../../src/gpu/buffers';
import { PipelineCache } from '../../src/gpu/pipelines';
import { GpuProfiler, kernelFamily } from '../../src/gpu/profiler';
import { FillRandom, fillInt8, fillQ4, fillUniform } from '../../src/kernels/fill_random';
import type { GpuWeight } from '../../src/kernels/weights';
import { parseConfig, type ModelConfig } from '../../src/model/config';
import { f16ToF32 } from '../../src/kernels/formats/dtype';
import { decodeStreamBytes, planMemory } from '../../src/model/memory';
import { packWeight, type WeightFormat } from '../../src/kernels/formats';
import { uploadTensors, modelSlots, type ModelWeights, type PackedTensor } from '../../src/model/weights';
import { createSyntheticWeights, loadSyntheticEngine, presetConfig, PRESET_NAMES } from '../../src/bench/synthetic';
import { runBench } from '../../src/bench/model_bench';
import { runKernelLab } from '../../src/bench/kernel_lab';
import { runVerify, nrmseLimit } from '../../src/bench/verify';
import { fixedCostMs, type ModelBenchReport, type Summary } from '../../src/bench/report';
import type { KernelLabReport } from '../../src/bench/kernel_report';
import { rng } from './harness';
import { modelDir } from '../unit/fixtures';

const root = path.resolve(__dirname, '../..');

let gpu: GpuContext;
beforeAll(async () => {
  gpu = await acquireDevice();
});

describe('fill_random', () => {
  // [mode, rows, cols, rowWords]: rows padded past `cols` (f32 7 -> 8, f16 9 -> 6 words, int8 10 -> 3 words, q4 13 -> 2 words).
  const cases: Array<[WeightFormat, number, number, number]> = [['f32', 3, 7, 8], ['f16', 5, 9, 6], ['int8', 4, 10, 3], ['q4', 6, 13, 2]];
  for (const [mode, rows, cols, rowWords] of cases) {
    it(`${mode} ${rows}x${cols} (row stride ${rowWords} words) equals the TS reference, padding zero`, async () => {
      const { device } = gpu;
      const fill = await FillRandom.create(new PipelineCache(device));
      const words = rows * rowWords;
      const buf = createStorage(device, 'fill test', (words + 4) * 4);
      device.queue.writeBuffer(buf, 0, new Uint32Array(words + 4).fill(0xdeadbeef));
      const seed = 12345;
      fill.fill(device, buf, { mode, seed, words, rowWords, cols, lo: -0.25, hi: 0.5 });
      const got = new Uint32Array(await readBuffer(device, buf));
      buf.destroy();
      const gotF = new Float32Array(got.buffer);
      const perWord = mode === 'f32' ? 1 : mode === 'f16' ? 2 : mode === 'int8' ? 4 : 8;
      for (let r = 0; r < rows; r++) {
        for (let c = 0; c < rowWords * perWord; c++) {
          const w = r * rowWords + Math.floor(c / perWord);
          const j = c % perWord;
          const pad = c >= cols;
          const where = `row ${r} col ${c}`;
          if (mode === 'f32') {
            const want = pad ? 0 : fillUniform(seed, r, c, -0.25, 0.5);
            expect(Math.abs(gotF[w]! - want), where).toBeLessThanOrEqual(1e-7);
          } else if (mode === 'f16') {
            const half = f16ToF32(j ? got[w]! >>> 16 : got[w]! & 0xffff);
            const want = pad ? 0 : fillUniform(seed, r, c, -0.25, 0.5);
            expect(Math.abs(half - want), where).toBeLessThanOrEqual(pad ? 0 : 2 ** -11 * Math.max(Math.abs(want), 2 ** -14));
          } else if (mode === 'int8') {
            const q = ((got[w]! >>> (8 * j)) << 24) >> 24;
            expect(q, where).toBe(pad ? 0 : fillInt8(seed, r, c));
          } else {
            const q = ((got[w]! >>> (4 * j)) << 28) >> 28;
            expect(q, where).toBe(pad ? 0 : fillQ4(seed, r, c));
          }
        }
      }
      expect(got[words], 'no write past the range').toBe(0xdeadbeef);
      if (mode === 'int8') {
        const qs = Array.from({ length: rows * cols }, (_, i) => fillInt8(seed, Math.floor(i / cols), i % cols));
        expect(Math.min(...qs)).toBeGreaterThanOrEqual(-127);
        expect(new Set(qs).size).toBeGreaterThan(rows * cols * 0.8);
      }
      if (mode === 'q4') {
        const qs = Array.from({ length: rows * cols }, (_, i) => fillQ4(seed, Math.floor(i / cols), i % cols));
        expect(Math.min(...qs)).toBe(-7);
        expect(Math.max(...qs)).toBe(7);
      }
    });
  }
});

/** What a real load produces for `c`: random tensors packed on the CPU, then uploadTensors. */
async function loadedWeights(c: ModelConfig, format: WeightFormat): Promise<ModelWeights> {
  const r = rng(3);
  async function* tensors(): AsyncGenerator<PackedTensor> {
    for (const [key, s] of modelSlots(c)) {
      const size = s.shape.reduce((a, b) => a * b, 1);
      const data = Float32Array.from({ length: size }, () => r() - 0.5);
      yield s.kind === 'matrix' ? { key, hf: s.hf, matrix: packWeight(data, s.shape[0]!, s.shape[1]!, format) } : { key, hf: s.hf, vector: data };
    }
  }
  return uploadTensors(gpu.device, c, format, tensors());
}

const shapeOf = (w: GpuWeight) => ({ format: w.format, n: w.n, k: w.k, rowStride: w.rowStride, groupSize: w.groupSize, bytes: w.bytes, data: w.data.size, scales: w.scales?.size, label: w.data.label });

describe('synthetic weights', () => {
  // Qwen2-like with K not a multiple of 4 (D = 70, I = 98), q/k/v biases, tied; and the tiny preset (untied).
  const odd = parseConfig({ model_type: 'qwen2', hidden_size: 70, intermediate_size: 98, num_hidden_layers: 2, num_attention_heads: 5, num_key_value_heads: 1, vocab_size: 37, tie_word_embeddings: true });
  // GPT-2 with D = 36 (K not a multiple of 8), untied: position table, LayerNorm biases, Conv1D-shaped weights.
  const gpt2 = parseConfig({ model_type: 'gpt2', n_embd: 36, n_head: 3, n_layer: 2, n_positions: 40, vocab_size: 37, tie_word_embeddings: false });
  const configs: Array<[string, ModelConfig]> = [['qwen2 D70 I98 V37 tied+bias', odd], ['tiny', presetConfig('tiny')], ['gpt2 D36 untied', gpt2]];
  for (const [name, c] of configs) {
    it(`${name}: every GpuWeight field, buffer size and byte count equals a real load's (f32, f16, int8, q4)`, async () => {
      for (const format of ['f32', 'f16', 'int8', 'q4'] as const) {
        const syn = await createSyntheticWeights(gpu.device, c, format, 5);
        const real = await loadedWeights(c, format);
        try {
          expect(syn.format).toBe(format);
          expect(shapeOf(syn.embed)).toEqual(shapeOf(real.embed));
          expect(shapeOf(syn.lmHead)).toEqual(shapeOf(real.lmHead));
          expect(syn.lmHead === syn.embed).toBe(c.tieWordEmbeddings);
          expect(syn.finalNorm.size).toBe(real.finalNorm.size);
          // The architecture's other model-wide tensors (GPT-2: position table, ln_f bias).
          const sizes = (g: Record<string, GpuWeight | GPUBuffer>) => Object.fromEntries(Object.entries(g).map(([k, v]) => [k, 'n' in v ? shapeOf(v) : v.size]));
          expect(sizes(syn.globals)).toEqual(sizes(real.globals));
          syn.layers.forEach((l, i) => {
            const rl = real.layers[i]! as unknown as Record<string, GpuWeight | GPUBuffer | undefined>;
            const sl = l as unknown as Record<string, GpuWeight | GPUBuffer | undefined>;
            expect(Object.keys(sl).filter((k) => sl[k]).sort(), `layer ${i} fields`).toEqual(Object.keys(rl).filter((k) => rl[k]).sort());
            for (const k of Object.keys(rl)) {
              const a = sl[k]!;
              const b = rl[k]!;
              if ('n' in b) expect(shapeOf(a as GpuWeight), `${format} layer ${i} ${k}`).toEqual(shapeOf(b));
              else expect((a as GPUBuffer).size, `${format} layer ${i} ${k}`).toBe(b.size);
            }
          });
          expect(syn.bytes).toBe(real.bytes);
          expect(syn.buffers.map((b) => b.size).sort((x, y) => x - y)).toEqual(real.buffers.map((b) => b.size).sort((x, y) => x - y));
          // The plan counts every buffer of a load, biases included.
          expect(syn.bytes).toBe(planMemory(c, format, 16, 4).weightBytes);
        } finally {
          for (const b of [...syn.buffers, ...real.buffers]) b.destroy();
        }
      }
    });
  }

  it('every preset is a valid config with the published shapes', () => {
    const shapes = Object.fromEntries(PRESET_NAMES.map((p) => {
      const c = presetConfig(p);
      return [p, [c.modelType, c.hiddenSize, c.numLayers, c.numHeads, c.numKvHeads, c.intermediateSize, c.vocabSize, c.tieWordEmbeddings, c.headDim, c.qkvBias]];
    }));
    expect(shapes).toEqual({
      'smollm2-135m': ['llama', 576, 30, 9, 3, 1536, 49152, true, 64, false],
      'qwen2.5-0.5b': ['qwen2', 896, 24, 14, 2, 4864, 151936, true, 64, true],
      'llama-3.2-1b': ['llama', 2048, 16, 32, 8, 8192, 128256, true, 64, false],
      'mistral-7b': ['mistral', 4096, 32, 32, 8, 14336, 32000, false, 128, false],
      'gpt2-large': ['gpt2', 1280, 36, 20, 20, 5120, 50257, true, 64, true],
      tiny: ['llama', 64, 2, 4, 2, 128, 512, false, 16, false],
    });
    expect(presetConfig('llama-3.2-1b').rope).toMatchObject({ type: 'llama3', factor: 32, theta: 500000 });
    expect(presetConfig('mistral-7b').layerWindows.every((w) => w === 0)).toBe(true);
  });
});


describe('profiler on a synthetic engine', () => {
  it('tiny int8: finite logits; same tokens with and without the profiler; one pass per decode step without it', async () => {
    const engine = await loadSyntheticEngine(gpu, 'tiny', 'int8', { contextLength: 64 });
    try {
      const logits = await engine.logits([1, 2, 3]);
      expect(logits.every(Number.isFinite)).toBe(true);
      expect(new Set(logits).size).toBeGreaterThan(100);
      const prompt = [5, 9, 200, 3, 77];
      const device = gpu.device;
      const origCreate = device.createCommandEncoder.bind(device);
      let encoders = 0;
      let passes = 0;
      device.createCommandEncoder = (d?: GPUCommandEncoderDescriptor) => {
        const enc = origCreate(d);
        encoders++;
        const begin = enc.beginComputePass.bind(enc);
        enc.beginComputePass = (pd?: GPUComputePassDescriptor) => (passes++, begin(pd));
        return enc;
      };
      let plain: number[];
      try {
        plain = await greedy(engine, prompt, 4);
      } finally {
        device.createCommandEncoder = origCreate;
      }
      expect(encoders).toBe(4); // one prefill, three decode steps
      expect(passes).toBe(2 + 3); // the prefill's layers and head; one pass per decode step
      const prof = new GpuProfiler(device);
      engine.forward.profiler = prof;
      const profiled = await greedy(engine, prompt, 4);
      await prof.flush();
      engine.forward.profiler = null;
      expect(profiled).toEqual(plain);
      const res = prof.results();
      prof.destroy();
      expect(res.prefill!.encoders).toBe(1);
      expect(res.decode!.encoders).toBe(3);
      const passesOf = (phase: string, fam: string) => Object.entries(res[phase]!.kernels).filter(([k]) => kernelFamily(k) === fam).reduce((a, [, t]) => a + t.passes, 0);
      // Per step: attention once per layer; matmul runs q/k/v, o, gate/up, down per layer (the
      // lm_head right after the last down runs in the same timed pass: same kernel), unless the
      // final RMSNorm runs on its own between them (software adapters' 'separate' norm).
      expect(passesOf('decode', 'attention')).toBe(3 * 2);
      expect(passesOf('decode', 'matmul')).toBe(3 * (4 * 2 + (engine.forward.separateDecodeNorm ? 1 : 0)));
      expect(passesOf('prefill', 'matmul')).toBe(4 * 2 + 1);
      expect(Object.values(res.decode!.kernels).every((t) => Number.isFinite(t.ns) && t.ns >= 0)).toBe(true);
      expect(prof.invalidPasses).toBe(0);
    } finally {
      engine.destroy();
    }
  });
});

const finitePos = (x: number, what: string) => expect(Number.isFinite(x) && x > 0, `${what} = ${x}`).toBe(true);
function checkSummary(s: Summary, runs: number, what: string): void {
  finitePos(s.mean, `${what}.mean`);
  expect(Number.isFinite(s.std) && s.std >= 0, `${what}.std`).toBe(true);
  expect(s.values.length, `${what}.values`).toBe(runs);
  expect(s.min <= s.mean + 1e-9 && s.mean <= s.max + 1e-9, `${what} min <= mean <= max`).toBe(true);
}

function checkModelReport(r: ModelBenchReport, o: { engines: WeightFormat[]; promptTokens: number[]; newTokens: number; runs: number }): void {
  expect(r.schema).toBe('webgpu-int8-llm/bench-model@1');
  expect(Number.isNaN(Date.parse(r.date))).toBe(false);
  expect(typeof r.adapter.name).toBe('string');
  expect(r.adapter.name.length).toBeGreaterThan(0);
  expect(typeof r.features.timestampQuery).toBe('boolean');
  expect(Array.isArray(r.features.all)).toBe(true);
  // The streaming read measured with the profiled runs (its size: the CPU adapter's 32 MiB).
  if (r.features.timestampQuery) {
    expect(r.bandwidth!.bytes).toBe(32 << 20);
    finitePos(r.bandwidth!.gbPerSecond, 'read GB/s');
  } else expect(r.bandwidth).toBeUndefined();
  expect(r.settings).toMatchObject({ engines: o.engines, promptTokens: o.promptTokens, newTokens: o.newTokens, runs: o.runs });
  const c = presetConfig('tiny');
  expect(r.model).toMatchObject({ hiddenSize: 64, numLayers: 2, vocabSize: 512 });
  expect(r.engines.map((e) => e.engine)).toEqual(o.engines);
  for (const e of r.engines) {
    const fmt = e.engine as WeightFormat;
    expect(e.weightBytes).toBe(planMemory(c, fmt, e.contextLength, 512).weightBytes);
    expect(e.decodeStreamBytes).toBe(decodeStreamBytes(c, fmt));
    // The engines' default KV cache: f16 (2 bytes a value) for these weights.
    expect(e.kvCache).toBe('f16');
    expect(e.kvCacheBytes).toBe(2 * c.numLayers * e.contextLength * c.numKvHeads * c.headDim * 2);
    finitePos(e.loadMs, 'loadMs');
    expect(e.results.map((p) => p.promptTokens)).toEqual(o.promptTokens);
    for (const p of e.results) {
      const what = `${e.engine} P=${p.promptTokens}`;
      expect(p.newTokens).toBe(o.newTokens);
      checkSummary(p.prefillTokensPerSecond, o.runs, `${what} prefill`);
      checkSummary(p.decodeTokensPerSecond, o.runs, `${what} decode`);
      checkSummary(p.timeToFirstTokenMs, o.runs, `${what} ttft`);
      // prefill tok/s is the prompt over the time to first token, run by run
      p.timeToFirstTokenMs.values.forEach((t, i) => expect(p.prefillTokensPerSecond.values[i]!).toBeCloseTo(p.promptTokens / (t / 1000), 6));
      const l = p.decodeLatencyMs;
      expect(l.count).toBe(o.runs * (o.newTokens - 1));
      finitePos(l.p50, `${what} p50`);
      expect(l.p50 <= l.p95 && l.p95 <= l.p99 && l.p99 <= l.max).toBe(true);
      // mean gap = 1 / decode rate when there is one run
      if (o.runs === 1) expect(l.mean).toBeCloseTo(1000 / p.decodeTokensPerSecond.mean, 6);
      if (r.features.timestampQuery) {
        const g = p.gpuTime;
        expect(g.source).toBe('timestamp-query');
        if (g.source !== 'timestamp-query') continue;
        for (const fam of [g.prefillMs, g.decodeMsPerToken]) {
          for (const v of Object.values(fam)) expect(Number.isFinite(v) && v >= 0).toBe(true);
          expect(fam.total).toBeCloseTo(fam.matmul + fam.attention + fam.other, 9);
        }
        // On SwiftShader the GPU is the CPU: matmul work always spans at least one timestamp tick.
        finitePos(g.prefillMs.total, `${what} prefill GPU ms`);
        finitePos(g.decodeMsPerToken.matmul, `${what} decode matmul GPU ms`);
        expect(g.invalidPasses).toBe(0);
        expect(g.timestampQuantumNs).toBeGreaterThanOrEqual(1);
        finitePos(g.profiledWall.timeToFirstTokenMs, 'profiled TTFT');
        finitePos(g.profiledWall.decodeMsPerToken, 'profiled decode ms/token');
        // The fixed cost per token: the whole-pass step less its weight bytes at the run's read bandwidth.
        const fixed = fixedCostMs(r, e, p)!;
        expect(fixed.streamMs).toBeCloseTo((e.decodeStreamBytes! / (r.bandwidth!.gbPerSecond * 1e9)) * 1000, 9);
        expect(fixed.fixedMs).toBeCloseTo(g.steps!.decodeGpuMsPerToken - fixed.streamMs, 9);
      } else expect(p.gpuTime.source).toBe('wall');
    }
  }
  const f16 = r.engines.find((e) => e.engine === 'f16')!;
  const int8 = r.engines.find((e) => e.engine === 'int8')!;
  expect(r.ratios).toHaveLength(1);
  const ratio = r.ratios[0]!;
  expect([ratio.engine, ratio.baseline]).toEqual(['int8', 'f16']);
  expect(ratio.weightBytesRatio).toBeCloseTo(int8.weightBytes / f16.weightBytes, 12);
  expect(ratio.weightBytesRatio).toBeLessThan(0.6);
  ratio.byPrompt.forEach((b, i) => {
    expect(b.promptTokens).toBe(o.promptTokens[i]);
    expect(b.decodeSpeedup).toBeCloseTo(int8.results[i]!.decodeTokensPerSecond.mean / f16.results[i]!.decodeTokensPerSecond.mean, 12);
    expect(b.prefillSpeedup).toBeCloseTo(int8.results[i]!.prefillTokensPerSecond.mean / f16.results[i]!.prefillTokensPerSecond.mean, 12);
    expect(b.ttftRatio).toBeCloseTo(int8.results[i]!.timeToFirstTokenMs.mean / f16.results[i]!.timeToFirstTokenMs.mean, 12);
  });
}

const SMALL = { engines: ['f16', 'int8'] as WeightFormat[], promptTokens: [8], newTokens: 4, runs: 1 };

describe('model benchmark', () => {
  it('runBench synthetic:tiny f16,int8, prompt 8, 4 new tokens, 1 run: complete, consistent report', async () => {
    const r = await runBench({ model: 'synthetic:tiny', ...SMALL, warmup: 1 }, gpu);
    checkModelReport(r, SMALL);
  });

  it('the CLI (scripts/run-ts.mjs src/bench/bench.ts) writes the same report to --json FILE', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'bench-'));
    const out = path.join(dir, 'report.json');
    try {
      const args = ['scripts/run-ts.mjs', 'src/bench/bench.ts', '--model', 'synthetic:tiny', '--engines', 'f16,int8', '--prompt-tokens', '8', '--new-tokens', '4', '--runs', '1', '--warmup', '0', '--json', out];
      const { code, stderr, stdout } = await new Promise<{ code: number | null; stderr: string; stdout: string }>((resolve) => {
        const p = spawn(process.execPath, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
        let stderr = '';
        let stdout = '';
        p.stderr.on('data', (d) => (stderr += d));
        p.stdout.on('data', (d) => (stdout += d));
        p.on('close', (code) => resolve({ code, stderr, stdout }));
      });
      expect(code, stderr).toBe(0);
      expect(stdout.trim()).toBe(''); // the report goes to the file; the table to stderr
      expect(stderr).toMatch(/int8 vs f16: weight bytes x0\.5/);
      checkModelReport(JSON.parse(await readFile(out, 'utf8')) as ModelBenchReport, SMALL);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('kernel lab', () => {
  it('256x256 f16,int8 with a 1 MiB bandwidth buffer: GB/s, roofline and TFLOP/s consistent', async () => {
    const r: KernelLabReport = await runKernelLab({ shapes: ['256x256'], formats: ['f16', 'int8'], iters: 2, trials: 2, minPassMs: 2, bandwidthBytes: 1 << 20, gemmRows: 16, variants: ['engine', 'tpr16-u2', 'wide64'] }, gpu);
    expect(r.schema).toBe('webgpu-int8-llm/bench-kernels@1');
    expect(r.adapter.name.length).toBeGreaterThan(0);
    expect(r.bandwidth.map((b) => b.kernel)).toEqual(['read', 'copy']);
    expect(r.bandwidth[0]!.bytes).toBe(1 << 20);
    for (const b of r.bandwidth) {
      finitePos(b.gbPerSecond, `${b.kernel} GB/s`);
      expect(b.gbPerSecond).toBeCloseTo(b.bytes / (b.ms / 1000) / 1e9, 6);
    }
    const read = r.bandwidth[0]!.gbPerSecond;
    // 'simple' (the reference GEMV) always runs first: every other variant is checked against it.
    expect(r.gemv.map((g) => `${g.variant} ${g.format} ${g.shape}`)).toEqual(
      ['f16', 'int8'].flatMap((f) => ['simple', 'engine', 'tpr16-u2'].map((v) => `${v} ${f} 256x256`)),
    );
    // Matmul.weightBytes: f16 = n * k/2 words; int8 = n * k/4 words + n * k/128 scales.
    expect(r.gemv.map((g) => g.weightBytes)).toEqual([...Array(3).fill(256 * 128 * 4), ...Array(3).fill(256 * 64 * 4 + 256 * 2 * 4)]);
    for (const g of r.gemv) {
      finitePos(g.msMedian, 'gemv ms');
      expect(g.msMin).toBeLessThanOrEqual(g.msMedian);
      expect(g.gbPerSecond).toBeCloseTo(g.weightBytes / (g.msMedian / 1000) / 1e9, 6);
      expect(g.rooflinePercent).toBeCloseTo((100 * g.gbPerSecond) / read, 6);
      expect(g.copies).toBeGreaterThanOrEqual(1);
      expect(g.iters).toBeGreaterThanOrEqual(2);
      // Against a streaming read of the same bytes in one dispatch, timed in the same run.
      finitePos(g.sameSizeReadPercent!, 'same-size read %');
      // The engine's kernel is also timed without the barrier between dispatches.
      if (g.variant === 'engine') {
        finitePos(g.overlapped!.gbPerSecond, 'overlapped GB/s');
        expect(g.overlapped!.gbPerSecond).toBeCloseTo(g.weightBytes / (g.overlapped!.msMedian / 1000) / 1e9, 6);
      } else expect(g.overlapped).toBeUndefined();
      // Same weights and x, different summation order: equal to f32 rounding, not bit for bit.
      if (g.variant === 'simple') expect(g.maxRelErrorVsReference).toBe(0);
      else expect(g.maxRelErrorVsReference).toBeLessThan(1e-5);
    }
    // GEMMs: the engine's, and a named one checked against it.
    expect(r.gemm.map((g) => `${g.variant} ${g.format} ${g.rows}`)).toEqual(['engine f16 16', 'wide64 f16 16', 'engine int8 16', 'wide64 int8 16']);
    for (const g of r.gemm) {
      expect(g.tflops).toBeCloseTo((2 * 16 * 256 * 256) / (g.msMedian / 1000) / 1e12, 9);
      expect(g.maxRelErrorVsReference).toBeLessThan(1e-5);
    }
  });
});

describe('verify against the oracle', () => {
  it('llama-gqa-tied-f32 int8: both forward schedules within the golden bound, greedy reported', async () => {
    const r = await runVerify({ models: [modelDir('llama-gqa-tied-f32')], engines: ['int8'] }, gpu);
    expect(r.schema).toBe('webgpu-int8-llm/verify@1');
    expect(r.rows.map((x) => `${x.engine} ${x.path}`)).toEqual(['int8 prefill', 'int8 decode']);
    for (const row of r.rows) {
      expect(row.nrmse).toBeGreaterThan(0); // int8 is not exact: the comparison saw real logits
      expect(row.nrmse).toBeLessThanOrEqual(nrmseLimit('int8'));
      expect(row.clear).toBeGreaterThan(0);
      expect(row.pass).toBe(true);
    }
    const g = r.rows[1]!.greedy!;
    expect(g.cases).toBe(1);
    expect(g.tokenAgreement).toBeGreaterThan(0.5);
    expect(r.pass).toBe(true);
  });
});
