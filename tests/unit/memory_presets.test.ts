// The memory plan and the limits check on the app's presets, from their real config.json files
// (../shared/fixtures/tokenizers/<name>/config.json; SmolLM2-360M and Mistral-7B from
// tests/data/configs, see tests/data/README.md). Every number stated here was worked out by hand
// from the HF tensor shapes (and checked against the published parameter counts), not by the code
// under test: GB = 1e9 bytes, MiB = 2^20 bytes.
import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseConfig, parameterCount, type ModelConfig } from '../../src/model/config';
import { planMemory, checkFits, decodeStreamBytes, ModelTooLargeError, type MemoryPlan } from '../../src/model/memory';
import { partRowsFor } from '../../src/kernels/weights';
import { Engine } from '../../src/model/engine';
import type { WeightFormat } from '../../src/kernels/formats';
import { PRESETS } from '../../app/presets';
import { FIXTURES } from './fixtures';

const ROOT = path.resolve(__dirname, '../..');
const GB = 1e9;
const MiB = 2 ** 20;
const FORMATS: WeightFormat[] = ['f32', 'f16', 'int8', 'q4'];
/** app/store.ts's default context length (the test reads it there, below) */
const APP_CONTEXT = 2048;

interface Expected {
  repo: string;
  configFile: string;
  /** the checkpoint's parameter count as published (HF model card / safetensors metadata) */
  params: number;
  /** weight bytes per engine, GB, worked out by hand; checked to 0.01 GB */
  gb: Record<WeightFormat, number>;
  /** KV cache at the app's default context (2048 for all six), MiB */
  kvMiB: number;
  /**
   * buffers the embedding table is split over at 128 MiB per binding (WebGPU's default limit):
   * rows per buffer = floor(128 MiB / bytes per row / 4) * 4 (whole 4-row units), worked out by hand
   */
  parts128: Record<WeightFormat, number>;
}

const tok = (name: string) => path.join(FIXTURES, 'tokenizers', name, 'config.json');
const own = (name: string) => path.join(ROOT, 'tests/data/configs', `${name}.json`);

// Hand computation, e.g. Llama-3.2-1B (D 2048, 16 layers, q 2048, kv 512, I 8192, V 128256, tied):
//   per layer 2048*2048*2 (q, o) + 2048*512*2 (k, v) + 3*2048*8192 (MLP) + 2*2048 (norms) = 60,821,504
//   16 layers 973,144,064 + embedding 262,668,288 + final norm 2048 = 1,235,814,400 parameters.
//   f32: 4 B/param = 4.94 GB. f16: 2 B per matrix weight, norms stay f32 = 2.47 GB.
//   int8: 1 B per matrix weight + a 4-byte scale per 128 of a row (+3.1%), norms f32 = 1.27 GB.
//   q4: 0.5 B per matrix weight + a 4-byte scale per 32 of a row (0.625 B), norms f32 = 0.77 GB.
//   KV cache: 2 (K, V) * 16 layers * 2048 positions * 8 kv heads * 64 * 4 B (f32) = 128 MiB.
const EXPECTED: Expected[] = [
  {
    repo: 'HuggingFaceTB/SmolLM2-135M-Instruct', configFile: tok('SmolLM2-135M-Instruct'), params: 134_515_008,
    gb: { f32: 0.54, f16: 0.27, int8: 0.14, q4: 0.08 }, kvMiB: 90,
    parts128: { f32: 1, f16: 1, int8: 1, q4: 1 },
  },
  {
    repo: 'HuggingFaceTB/SmolLM2-360M-Instruct', configFile: own('SmolLM2-360M-Instruct'), params: 361_821_120,
    gb: { f32: 1.45, f16: 0.72, int8: 0.37, q4: 0.23 }, kvMiB: 160,
    // f32 embedding 49152 x 960 x 4 = 188.7 MB: rows of 3840 B, 34952 per buffer
    parts128: { f32: 2, f16: 1, int8: 1, q4: 1 },
  },
  {
    // q/k/v biases: 24 layers x (896 + 128 + 128) = 27,648 parameters, part of the published count
    repo: 'Qwen/Qwen2.5-0.5B-Instruct', configFile: tok('Qwen2.5-0.5B-Instruct'), params: 494_032_768,
    gb: { f32: 1.98, f16: 0.99, int8: 0.51, q4: 0.31 }, kvMiB: 48,
    // embedding 151936 x 896: f32 544.5 MB (rows 3584 B, 37448 per buffer), f16 272.3 MB
    // (74896 per buffer), int8 136.1 MB (149796 per buffer; the 4.3 MB of scales split alike)
    parts128: { f32: 5, f16: 3, int8: 2, q4: 1 },
  },
  {
    repo: 'TinyLlama/TinyLlama-1.1B-Chat-v1.0', configFile: tok('TinyLlama-1.1B-Chat-v1.0'), params: 1_100_048_384,
    gb: { f32: 4.40, f16: 2.20, int8: 1.13, q4: 0.69 }, kvMiB: 88,
    // embedding (and the untied lm_head) 32000 x 2048: f32 262.1 MB (16384 rows per buffer),
    // f16 131.1 MB (< 134.2 MB: whole)
    parts128: { f32: 2, f16: 1, int8: 1, q4: 1 },
  },
  {
    repo: 'unsloth/Llama-3.2-1B-Instruct', configFile: tok('Llama-3.2-1B-Instruct'), params: 1_235_814_400,
    gb: { f32: 4.94, f16: 2.47, int8: 1.27, q4: 0.77 }, kvMiB: 128,
    // embedding 128256 x 2048: f32 1050.7 MB (16384 rows per buffer), f16 525.3 MB (32768),
    // int8 262.7 MB (65536; its 8.2 MB of scales split alike)
    parts128: { f32: 8, f16: 4, int8: 2, q4: 1 },
  },
  {
    repo: 'mistralai/Mistral-7B-Instruct-v0.3', configFile: own('Mistral-7B-Instruct-v0.3'), params: 7_248_023_552,
    gb: { f32: 28.99, f16: 14.50, int8: 7.48, q4: 4.53 }, kvMiB: 512,
    // embedding (and lm_head) 32768 x 4096: f32 536.9 MB (8192 rows per buffer), f16 exactly
    // 256 MiB (16384), int8 exactly 128 MiB (whole; its scales are a buffer of their own)
    parts128: { f32: 4, f16: 2, int8: 1, q4: 1 },
  },
];

type Json = Record<string, unknown>;

/** The HF checkpoint's tensors as [rows, cols] (vectors as [n]), from config.json's raw fields. */
function hfTensorShapes(j: Json): number[][] {
  const n = (k: string) => j[k] as number;
  const D = n('hidden_size');
  const hd = (j.head_dim as number | undefined) ?? D / n('num_attention_heads');
  const Q = n('num_attention_heads') * hd;
  const KV = (n('num_key_value_heads') ?? n('num_attention_heads')) * hd;
  const I = n('intermediate_size');
  const V = n('vocab_size');
  const qwen = j.model_type === 'qwen2';
  const layer = [[Q, D], [KV, D], [KV, D], [D, Q], [I, D], [I, D], [D, I], [D], [D], ...(qwen ? [[Q], [KV], [KV]] : [])];
  return [[V, D], ...(j.tie_word_embeddings === true ? [] : [[V, D]]), [D], ...Array.from({ length: n('num_hidden_layers') }, () => layer).flat()];
}

const count = (shape: number[]) => shape.reduce((a, b) => a * b, 1);
const matrices = (shapes: number[][]) => shapes.filter((s) => s.length === 2);
const vectors = (shapes: number[][]) => shapes.filter((s) => s.length === 1);

interface Loaded extends Expected {
  json: Json;
  config: ModelConfig;
  shapes: number[][];
  ctx: number;
  plans: Record<WeightFormat, MemoryPlan>;
}

function load(e: Expected): Loaded {
  const text = readFileSync(e.configFile, 'utf8');
  const config = parseConfig(text);
  // The app plans with the shape its worker asks for (app/worker.ts plan()).
  const shape = Engine.shapeFor(config, { contextLength: APP_CONTEXT });
  const plans = Object.fromEntries(FORMATS.map((f) => [f, planMemory(config, f, shape.maxCtx, shape.maxRows, shape.maxLogitRows)])) as Record<WeightFormat, MemoryPlan>;
  return { ...e, json: JSON.parse(text) as Json, config, shapes: hfTensorShapes(JSON.parse(text) as Json), ctx: shape.maxCtx, plans };
}

const MODELS = EXPECTED.map(load);
const PER_BUFFER_128 = { maxStorageBufferBindingSize: 128 * MiB, maxBufferSize: 256 * MiB }; // WebGPU's default limits
const PER_BUFFER_256 = { maxStorageBufferBindingSize: 256 * MiB, maxBufferSize: 256 * MiB };
const DESKTOP = { maxStorageBufferBindingSize: 2 * 1024 * MiB, maxBufferSize: 4 * 1024 * MiB };

function fits(plan: MemoryPlan, limits: typeof DESKTOP): boolean {
  try {
    checkFits(plan, limits, 'model');
    return true;
  } catch (err) {
    expect(err).toBeInstanceOf(ModelTooLargeError);
    return false;
  }
}

describe('memory plan of the app presets (real config.json)', () => {
  it('covers every preset of app/presets.ts (GPT-2 below), at the app default context', () => {
    expect([...MODELS.map((m) => m.repo), ...GPT2.map((g) => g.repo)].sort()).toEqual(PRESETS.map((p) => p.repo).sort());
    expect(readFileSync(path.join(ROOT, 'app/store.ts'), 'utf8')).toMatch(new RegExp(`\\bcontextLength: ${APP_CONTEXT},`));
    // TinyLlama's max_position_embeddings is 2048 too; the others allow more.
    for (const m of MODELS) expect(m.ctx, m.repo).toBe(APP_CONTEXT);
  });

  for (const m of MODELS) {
    describe(m.repo, () => {
      it(`has ${m.params.toLocaleString('en-US')} parameters: the checkpoint's tensors, parameterCount, and f32 weight bytes / 4`, () => {
        expect(m.shapes.map(count).reduce((a, b) => a + b, 0)).toBe(m.params);
        expect(parameterCount(m.config)).toBe(m.params);
        // Every K of these presets is a multiple of 4, so the f32 rows carry no padding.
        expect(matrices(m.shapes).every(([, k]) => k! % 4 === 0)).toBe(true);
        expect(m.plans.f32.weightBytes).toBe(4 * m.params);
      });

      it('f16 is 2 bytes per matrix weight (norms and biases stay f32); int8 1 byte plus an f32 scale per 128 of a row', () => {
        const mat = matrices(m.shapes);
        const matParams = mat.map(count).reduce((a, b) => a + b, 0);
        const vecParams = vectors(m.shapes).map(count).reduce((a, b) => a + b, 0);
        expect(matParams + vecParams).toBe(m.params);
        // No row padding here (every K is a multiple of 4): the only excess over 2 bytes/param is
        // the 2 more bytes of each f32 norm/bias weight, under 0.06% for every preset.
        expect(m.plans.f16.weightBytes).toBe(2 * matParams + 4 * vecParams);
        expect(m.plans.f16.weightBytes / m.params).toBeGreaterThanOrEqual(2);
        expect(m.plans.f16.weightBytes / m.params).toBeLessThan(2.0006);
        const scales = mat.map(([n, k]) => n! * Math.ceil(k! / 128)).reduce((a, b) => a + b, 0);
        expect(m.plans.int8.weightBytes).toBe(matParams + 4 * scales + 4 * vecParams);
        // 1 + 4/128 = 1.03125 where every K is a multiple of 128; SmolLM2's rows of 576 and 960
        // weights end with a part group (4.5 and 7.5 groups), hence 1.0348 and 1.0334.
        expect(m.plans.int8.weightBytes / m.params).toBeGreaterThan(1.0312);
        expect(m.plans.int8.weightBytes / m.params).toBeLessThan(1.035);
        // The bf16 safetensors download is 2 bytes/param (plus a small header), as the preset says.
        const preset = PRESETS.find((p) => p.repo === m.repo)!;
        const [, num, unit] = /^([\d.]+) (MB|GB)$/.exec(preset.download)!;
        const stated = Number(num) * (unit === 'GB' ? 1e9 : 1e6);
        const precision = (unit === 'GB' ? 1e9 : 1e6) * 10 ** -(num!.split('.')[1]?.length ?? 0);
        expect(Math.abs(2 * m.params - stated), `${preset.download} vs ${2 * m.params} bytes`).toBeLessThanOrEqual(precision);
      });

      it(`weights f32 ${m.gb.f32} GB, f16 ${m.gb.f16} GB, int8 ${m.gb.int8} GB; KV cache ${m.kvMiB} MiB in f32, half in f16 (every engine but f32) at context ${APP_CONTEXT}`, () => {
        for (const f of FORMATS) expect(Math.abs(m.plans[f].weightBytes / GB - m.gb[f]), `${f}: ${m.plans[f].weightBytes / GB} GB`).toBeLessThanOrEqual(0.01 + 1e-9);
        const c = m.config;
        expect(2 * c.numLayers * m.ctx * c.numKvHeads * c.headDim * 4).toBe(m.kvMiB * MiB);
        for (const f of FORMATS) {
          // The default KV cache is f16 (2 bytes a value) except for the f32 engine (kv_cache.ts).
          expect(m.plans[f].kvBytes, f).toBe((m.kvMiB * MiB) / (f === 'f32' ? 1 : 2));
          expect(m.plans[f].totalBytes).toBe(m.plans[f].weightBytes + m.plans[f].kvBytes + m.plans[f].activationBytes);
        }
        // The int8 engine's weights are ~0.516x the f16 engine's.
        const ratio = m.plans.int8.weightBytes / m.plans.f16.weightBytes;
        expect(ratio).toBeGreaterThan(0.515);
        expect(ratio).toBeLessThan(0.518);
        // q4: 0.5 byte per matrix weight and an f32 scale per 32 of a row (every K here is a
        // multiple of 32): 0.625 bytes, ~0.3126x the f16 engine's.
        const mat = matrices(m.shapes);
        const matParams = mat.map(count).reduce((a, b) => a + b, 0);
        const vecParams = vectors(m.shapes).map(count).reduce((a, b) => a + b, 0);
        const scales32 = mat.map(([n, k]) => n! * Math.ceil(k! / 32)).reduce((a, b) => a + b, 0);
        expect(m.plans.q4.weightBytes).toBe(matParams / 2 + 4 * scales32 + 4 * vecParams);
        const q4ratio = m.plans.q4.weightBytes / m.plans.f16.weightBytes;
        expect(q4ratio).toBeGreaterThan(0.3125);
        expect(q4ratio).toBeLessThan(0.3129);
      });

      it('the limits check: a desktop GPU (2 GiB per binding, 4 GiB per buffer) takes every engine', () => {
        for (const f of FORMATS) expect(fits(m.plans[f], DESKTOP), f).toBe(true);
        // Weights past a binding are split, so the largest buffer bound whole is an activation or
        // a KV-cache layer (at most 29.4 MB: Mistral's MLP activations for 512 rows).
        for (const f of FORMATS) expect(m.plans[f].largestBuffer.bytes, f).toBeLessThanOrEqual(512 * 14336 * 4);
      });

      // Past maxStorageBufferBindingSize a weight is split by rows over buffers (kernels/weights.ts),
      // so every preset loads on a 128 MiB-per-binding GPU; what can still refuse it is the number
      // of storage buffers a kernel then binds (maxStorageBuffersPerShaderStage, 8 by default).
      it(`the limits check at 128 and 256 MiB per binding: the embedding split over ${FORMATS.map((f) => m.parts128[f]).join('/')} buffers at 128 MiB`, () => {
        for (const f of FORMATS) {
          expect(fits(m.plans[f], PER_BUFFER_128), `${f} at 128 MiB`).toBe(true);
          expect(fits(m.plans[f], PER_BUFFER_256), `${f} at 256 MiB`).toBe(true);
          const embed = m.plans[f].weights.matrices[0]!;
          expect(embed.label).toBe('embedding table');
          const rows = partRowsFor({ format: f, n: embed.n, k: embed.k, rowStride: f === 'f32' ? embed.k : f === 'f16' ? embed.k / 2 : f === 'int8' ? embed.k / 4 : embed.k / 8, groupSize: f === 'int8' ? 128 : f === 'q4' ? 32 : 0 }, 128 * MiB);
          expect(Math.ceil(embed.n / rows), `${f}: buffers of the embedding`).toBe(m.parts128[f]);
          // With 8 storage buffers per stage, lm_head's GEMV binds the parts (two each with int8
          // scales), x, the logits and the norm weight.
          const bound = m.parts128[f] * (f === 'int8' || f === 'q4' ? 2 : 1) + 3;
          const check = () => checkFits(m.plans[f], { ...PER_BUFFER_128, maxStorageBuffersPerShaderStage: 8 }, `${m.repo} (${f})`);
          if (bound <= 8) expect(check, f).not.toThrow();
          else expect(check, f).toThrow(new RegExp(`the embedding table is split over ${m.parts128[f]} buffers .* binds ${bound} storage buffers; this adapter allows 8`));
        }
      });
    });
  }
});

// GPT-2 (openai-community/gpt2 and gpt2-large), worked out by hand from the HF tensor shapes. Per
// layer: c_attn [D, 3D] + bias 3D, attn.c_proj [D, D] + D, c_fc [D, 4D] + 4D, mlp.c_proj [4D, D] + D,
// ln_1 and ln_2 (weight and bias, 2D each); model-wide: wte [V, D], wpe [1024, D] (kept f32, like
// norms and biases), ln_f (2D). GPT-2:       matrices 50257*768 + 12 * 7,077,888 = 123,532,032;
//   f32 values 786,432 (wpe) + 12 * 9,984 + 1,536 = 907,776; together 124,439,808 (the model card's).
// GPT-2 Large: matrices 50257*1280 + 36 * 19,660,800 = 772,117,760;
//   f32 values 1,310,720 + 36 * 16,640 + 2,560 = 1,912,320; together 774,030,080.
// Bytes: f32 4/param; f16 2 per matrix weight + 4 per f32 value; int8 1 per matrix weight + an f32
// scale per 128 of a row (K = 768: 6 a row, 3072: 24; K = 1280: 10, 5120: 40); q4 0.5 + an f32
// word per 32 (every K a multiple of 32). Scales, GPT-2: wte 50257*6 + 12 * (2304*6 + 768*6 +
// 3072*6 + 768*24) = 965,094; Large: 50257*10 + 36 * (3840*10 + 1280*10 + 5120*10 + 1280*40) = 6,032,170.
// Downloads are f32 checkpoints that also store each layer's causal mask attn.bias (1024 x 1024 f32, 4 MiB).
const GPT2 = [
  {
    repo: 'openai-community/gpt2', configFile: tok('gpt2'), params: 124_439_808, matrixParams: 123_532_032, f32Values: 907_776,
    bytes: { f32: 497_759_232, f16: 250_695_168, int8: 131_023_512, q4: 80_838_624 },
    // context 1024 (n_positions caps the app's 2048): 2 * 12 layers * 1024 * 768 * 4 B
    kvBytes: 75_497_472,
    download: 497_759_232 + 12 * 4 * MiB,
  },
  {
    repo: 'openai-community/gpt2-large', configFile: own('gpt2-large'), params: 774_030_080, matrixParams: 772_117_760, f32Values: 1_912_320,
    bytes: { f32: 3_096_120_320, f16: 1_551_884_800, int8: 803_895_720, q4: 490_222_880 },
    kvBytes: 2 * 36 * 1024 * 1280 * 4,
    download: 3_096_120_320 + 36 * 4 * MiB,
  },
];

describe('memory plan of the GPT-2 presets (real config.json)', () => {
  for (const g of GPT2) {
    it(`${g.repo}: ${g.params.toLocaleString('en-US')} parameters; weights f32 ${g.bytes.f32}, f16 ${g.bytes.f16}, int8 ${g.bytes.int8}, q4 ${g.bytes.q4} bytes; KV cache (f32; f16 halves it) at context 1024`, () => {
      const config = parseConfig(readFileSync(g.configFile, 'utf8'));
      expect(g.matrixParams + g.f32Values).toBe(g.params);
      expect(parameterCount(config)).toBe(g.params);
      const shape = Engine.shapeFor(config, { contextLength: APP_CONTEXT });
      expect(shape.maxCtx).toBe(1024);
      for (const f of FORMATS) {
        const plan = planMemory(config, f, shape.maxCtx, shape.maxRows, shape.maxLogitRows);
        expect(plan.weightBytes, f).toBe(g.bytes[f]);
        expect(plan.kvBytes, f).toBe(g.kvBytes / (f === 'f32' ? 1 : 2)); // f16 KV cache but for f32 weights
        expect(fits(plan, DESKTOP), f).toBe(true);
        expect(fits(plan, PER_BUFFER_128), f).toBe(true);
      }
      // The stated download, to its last digit.
      const preset = PRESETS.find((p) => p.repo === g.repo)!;
      expect(preset.dtype).toBe('f32');
      const [, num, unit] = /^([\d.]+) (MB|GB)$/.exec(preset.download)!;
      const scale = unit === 'GB' ? 1e9 : 1e6;
      expect(Math.abs(g.download - Number(num) * scale)).toBeLessThanOrEqual(scale * 10 ** -(num!.split('.')[1]?.length ?? 0) / 2);
    });
  }
});

describe("a decode step's weight bytes (the bench's fixed cost per token is GPU time minus these at the read bandwidth)", () => {
  it('every matrix, norm and bias; not the rows only looked up: position embeddings, and an untied embedding table', () => {
    const cfg = (file: string) => parseConfig(readFileSync(file, 'utf8'));
    // GPT-2 (tied): the lm_head streams wte; wpe is 1024 x 768 f32 = 3,145,728 bytes of lookups.
    expect(decodeStreamBytes(cfg(tok('gpt2')), 'int8')).toBe(GPT2[0]!.bytes.int8 - 3_145_728);
    expect(decodeStreamBytes(cfg(tok('gpt2')), 'f32')).toBe(GPT2[0]!.bytes.f32 - 3_145_728);
    // TinyLlama (untied): the lm_head is its own matrix, the 32000 x 2048 embedding is looked up:
    // int8 rows of 2048 bytes + 16 scales of 4 bytes = 67,584,000 bytes; f16 131,072,000.
    const tiny = cfg(tok('TinyLlama-1.1B-Chat-v1.0'));
    expect(decodeStreamBytes(tiny, 'int8')).toBe(planMemory(tiny, 'int8', 2048, 1).weightBytes - 67_584_000);
    expect(decodeStreamBytes(tiny, 'f16')).toBe(planMemory(tiny, 'f16', 2048, 1).weightBytes - 131_072_000);
    // Llama-3.2-1B (tied): everything.
    const llama = cfg(tok('Llama-3.2-1B-Instruct'));
    expect(decodeStreamBytes(llama, 'int8')).toBe(planMemory(llama, 'int8', 2048, 1).weightBytes);
  });
});
