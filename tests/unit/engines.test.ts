// The app's engine pair (app/engines.ts) and its per-format memory plan (app/engine_plan.ts): which
// formats an adapter accepts for a model, the pair's refusals, picking and swapping, the address
// parameter, and what the panes show when the pair changes after a load; the candidate alone (no
// baseline), what Load builds in all, and the large presets' default and badge (app/presets.ts).
import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseConfig } from '../../src/model/config';
import { Engine } from '../../src/model/engine';
import { checkFits, planMemory } from '../../src/model/memory';
import { FORMAT_NAMES } from '../../src/kernels/formats';
import { appLogitRows, engineBytes, planEngines, planShape, type AdapterLimits } from '../../app/engine_plan';
import { FORMATS, type EnginePlan, type ModelRef } from '../../app/protocol';
import {
  allowedFormats, choose, DEFAULT_PAIR, defaultPair, engineColor, engineLabel, engineTitle, ENGINE_COLOR, formatRefusal, LARGE_DEFAULT, pairBytes, pairChanged, pairFormats, pairName,
  pairParam, pairRefusals, parsePair, rolesOf, shownFormats, weightRatio, type EnginePair,
} from '../../app/engines';
import { isLargeModel, PRESETS, SYNTHETIC_PRESETS } from '../../app/presets';
import { presetConfig } from '../../src/bench/presets';
import { FIXTURES } from './fixtures';

const MiB = 2 ** 20;
// Llama-3.2-1B: embedding 128256 x 2048, 16 layers; f16 2.47 GB of weights (tests/unit/memory_presets.test.ts).
const config = parseConfig(readFileSync(path.join(FIXTURES, 'tokenizers', 'Llama-3.2-1B-Instruct', 'config.json'), 'utf8'));
const shape = Engine.shapeFor(config, { contextLength: 2048 });
const limits = (perBufferMiB: number, storageBuffers?: number): AdapterLimits => ({
  maxBufferSize: perBufferMiB * MiB,
  maxStorageBufferBindingSize: perBufferMiB * MiB,
  ...(storageBuffers ? { maxStorageBuffersPerShaderStage: storageBuffers } : {}),
});
const plan = (l: AdapterLimits, cached: string[] = []) => planEngines(config, shape, l, 'Llama-3.2-1B', (f) => cached.includes(f));
const refused = (engines: EnginePlan[]) => engines.filter((e) => e.refusal).map((e) => e.format);

describe('planEngines: every format, each with its own verdict', () => {
  it('lists the registry\'s four formats in its order, with planMemory\'s bytes and the cache flags', () => {
    const { engines } = plan(limits(1024), ['q4']);
    expect(FORMATS).toEqual(FORMAT_NAMES);
    expect(engines.map((e) => e.format)).toEqual(['f32', 'f16', 'int8', 'q4']);
    for (const e of engines) {
      const p = planMemory(config, e.format, shape.maxCtx, shape.maxRows, shape.maxLogitRows);
      expect(e).toEqual({ format: e.format, weightBytes: p.weightBytes, kvBytes: p.kvBytes, kvCache: e.format === 'f32' ? 'f32' : 'f16', activationBytes: p.activationBytes, totalBytes: p.totalBytes, cached: e.format === 'q4', refusal: null });
    }
  });

  it('a buffer limit that FP32 and FP16 exceed refuses those two only, with checkFits\'s message', () => {
    // 32 MiB per binding, no binding limit: the f16 embedding (501 MiB) would need 16 parts of 8.
    const l = limits(32);
    const { engines } = plan(l);
    expect(refused(engines)).toEqual(['f32', 'f16']);
    const msg = formatRefusal(engines, 'f16')!;
    expect(msg).toMatch(/^Llama-3\.2-1B \(f16\): /);
    expect(() => checkFits(planMemory(config, 'f16', shape.maxCtx, shape.maxRows, shape.maxLogitRows), l, 'Llama-3.2-1B (f16)')).toThrow(msg);
    expect(allowedFormats(engines)).toEqual(['int8', 'q4']);
    // The default pair is refused for its baseline; INT8 against Q4 is fine.
    expect(pairRefusals(engines, DEFAULT_PAIR)).toEqual([msg]);
    expect(pairRefusals(engines, { baseline: 'int8', candidate: 'q4' })).toEqual([]);
    expect(pairRefusals(engines, { baseline: 'f32', candidate: 'f16' })).toEqual([formatRefusal(engines, 'f32'), msg]);
  });

  it('64 MiB per binding and 8 storage buffers (WebGPU\'s defaults at half the buffer size) leave only Q4', () => {
    const { engines } = plan(limits(64, 8));
    expect(allowedFormats(engines)).toEqual(['q4']);
    expect(formatRefusal(engines, 'int8')).toMatch(/storage buffers; this adapter allows 8/);
  });

  it('the largest bound buffer is the same whatever the format', () => {
    const { largestBuffer } = plan(limits(1024));
    for (const f of FORMATS) expect(planMemory(config, f, shape.maxCtx, shape.maxRows, shape.maxLogitRows).largestBuffer).toEqual(largestBuffer);
  });

  it('weightRatio: what 4-bit buys (Q4 0.31x of FP16, INT8 0.52x)', () => {
    const { engines } = plan(limits(1024));
    expect(weightRatio(engines, 'q4', 'f16')).toBeCloseTo(772_612_096 / 2_471_763_968, 12);
    expect(weightRatio(engines, 'q4', 'f16')!.toFixed(2)).toBe('0.31');
    expect(weightRatio(engines, 'int8', 'f16')!.toFixed(2)).toBe('0.52');
    expect(weightRatio(engines, 'f16', 'f16')).toBe(1);
    expect(weightRatio([], 'q4', 'f16')).toBeNull();
  });
});

describe('the engine pair', () => {
  it('defaults to INT8 against the FP16 baseline, in load order', () => {
    expect(DEFAULT_PAIR).toEqual({ baseline: 'f16', candidate: 'int8' });
    expect(pairFormats({ baseline: 'q4', candidate: 'f32' })).toEqual(['q4', 'f32']);
  });

  it('choose sets one role, and swaps when it picks the other role\'s format (the two always differ)', () => {
    expect(choose(DEFAULT_PAIR, 'candidate', 'q4')).toEqual({ baseline: 'f16', candidate: 'q4' });
    expect(choose(DEFAULT_PAIR, 'baseline', 'f32')).toEqual({ baseline: 'f32', candidate: 'int8' });
    expect(choose(DEFAULT_PAIR, 'baseline', 'int8')).toEqual({ baseline: 'int8', candidate: 'f16' });
    expect(choose(DEFAULT_PAIR, 'candidate', 'f16')).toEqual({ baseline: 'int8', candidate: 'f16' });
    expect(choose(DEFAULT_PAIR, 'candidate', 'int8')).toBe(DEFAULT_PAIR);
    for (const role of ['baseline', 'candidate'] as const) {
      for (const f of FORMATS) {
        const p = choose({ baseline: 'q4', candidate: 'f16' }, role, f);
        expect(p[role]).toBe(f);
        expect(p.baseline).not.toBe(p.candidate);
      }
    }
  });

  it('the address parameter round-trips; anything malformed means "no choice" (the default)', () => {
    const p: EnginePair = { baseline: 'f16', candidate: 'q4' };
    expect(pairParam(p)).toBe('f16,q4');
    expect(parsePair(pairParam(p))).toEqual(p);
    expect(parsePair(' int8 , f32 ')).toEqual({ baseline: 'int8', candidate: 'f32' });
    for (const bad of [null, undefined, '', 'q8', 'f16,f16', 'f16,q8', 'fp16,int8', 'f16,int8,q4', ',', 'q4,', ',q4']) expect(parsePair(bad)).toBeNull();
  });

  it('labels, titles and colors come from the registry for every format, and degrade to the name otherwise', () => {
    expect(FORMATS.map(engineLabel)).toEqual(['FP32', 'FP16', 'INT8', 'Q4']);
    expect(engineTitle('q4')).toBe('4-bit weight-only');
    expect(engineTitle('f16')).toBe('FP16 baseline');
    expect(engineLabel('bf16')).toBe('bf16');
    expect(new Set(FORMATS.map(engineColor)).size).toBe(FORMATS.length);
    expect(Object.keys(ENGINE_COLOR).sort()).toEqual([...FORMATS].sort());
    expect(engineColor('bf16')).toMatch(/^#[0-9a-f]{6}$/);
  });

  it('what the panes show: the picked pair until a load, then the loaded one; a later pick is flagged, not shown', () => {
    const pair: EnginePair = { baseline: 'f16', candidate: 'q4' };
    expect(shownFormats({ load: { status: 'idle', formats: [] }, pair })).toEqual(['f16', 'q4']);
    expect(shownFormats({ load: { status: 'loading', formats: ['f16', 'q4'] }, pair })).toEqual(['f16', 'q4']);
    const loaded = { status: 'ready', formats: ['f16', 'int8'] as const };
    expect(shownFormats({ load: loaded, pair })).toEqual(['f16', 'int8']);
    expect(pairChanged({ load: loaded, pair })).toBe(true);
    expect(pairChanged({ load: loaded, pair: DEFAULT_PAIR })).toBe(false);
    // The order matters: the baseline is the reference.
    expect(pairChanged({ load: loaded, pair: { baseline: 'int8', candidate: 'f16' } })).toBe(true);
    // A failed load shows the picked pair again, and nothing is "loaded" to differ from.
    expect(shownFormats({ load: { status: 'error', formats: ['f16', 'int8'] }, pair })).toEqual(['f16', 'q4']);
    expect(pairChanged({ load: { status: 'error', formats: ['f16', 'int8'] }, pair })).toBe(false);
  });
});

const ALONE: EnginePair = { baseline: null, candidate: 'q4' };

describe('the candidate alone (baseline None)', () => {
  it('one format in the address is the candidate alone, and it round-trips', () => {
    expect(parsePair('q4')).toEqual(ALONE);
    expect(parsePair(' int8 ')).toEqual({ baseline: null, candidate: 'int8' });
    expect(pairParam(ALONE)).toBe('q4');
    expect(parsePair(pairParam(ALONE))).toEqual(ALONE);
    for (const f of FORMATS) expect(parsePair(pairParam({ baseline: null, candidate: f }))).toEqual({ baseline: null, candidate: f });
  });

  it('loads, runs and names one engine', () => {
    expect(pairFormats(ALONE)).toEqual(['q4']);
    expect(rolesOf(['q4'])).toEqual(['alone']);
    expect(rolesOf(['f16', 'q4'])).toEqual(['baseline', 'candidate']);
    expect(pairName(ALONE)).toBe('Q4 alone');
    expect(pairName({ baseline: 'f16', candidate: 'q4' })).toBe('FP16 + Q4');
  });

  it('choose: baseline None keeps the candidate; a baseline again makes a pair; the candidate\'s format is no baseline for itself', () => {
    expect(choose({ baseline: 'f16', candidate: 'q4' }, 'baseline', null)).toEqual(ALONE);
    expect(choose(ALONE, 'baseline', 'f16')).toEqual({ baseline: 'f16', candidate: 'q4' });
    expect(choose(ALONE, 'candidate', 'int8')).toEqual({ baseline: null, candidate: 'int8' });
    // Nothing to swap in: unchanged (the picker disables that option).
    expect(choose(ALONE, 'baseline', 'q4')).toBe(ALONE);
    expect(choose(ALONE, 'baseline', null)).toBe(ALONE);
    // The candidate cannot be None.
    expect(choose(DEFAULT_PAIR, 'candidate', null)).toBe(DEFAULT_PAIR);
  });

  it('from FP16 + Q4 loaded to Q4 alone picked: changed, and Load builds Q4 only; the panes keep the loaded pair until then', () => {
    const loaded = { status: 'ready', formats: ['f16', 'q4'] as const };
    expect(pairChanged({ load: loaded, pair: ALONE })).toBe(true);
    expect(shownFormats({ load: loaded, pair: ALONE })).toEqual(['f16', 'q4']);
    const alone = { status: 'ready', formats: ['q4'] as const };
    expect(pairChanged({ load: alone, pair: ALONE })).toBe(false);
    expect(pairChanged({ load: alone, pair: { baseline: 'f16', candidate: 'q4' } })).toBe(true);
    expect(pairChanged({ load: alone, pair: { baseline: null, candidate: 'int8' } })).toBe(true);
    expect(shownFormats({ load: { status: 'idle', formats: [] }, pair: ALONE })).toEqual(['q4']);
    expect(pairRefusals(plan(limits(64, 8)).engines, ALONE)).toEqual([]);
  });

  it('what Load builds in all: the pair\'s plans summed, or the one engine\'s', () => {
    const { engines } = plan(limits(1024));
    const total = (f: string) => engines.find((e) => e.format === f)!.totalBytes;
    expect(pairBytes(engines, ALONE)).toBe(total('q4'));
    expect(pairBytes(engines, DEFAULT_PAIR)).toBe(total('f16') + total('int8'));
    expect(pairBytes(engines, { baseline: 'int8', candidate: 'q4' })).toBe(total('int8') + total('q4'));
    // Llama-3.2-1B at context 2048: 0.77 GB of Q4 weights + 64 MiB of f16 KV cache + activations
    expect(total('q4')).toBe(772_612_096 + 64 * MiB + planMemory(config, 'q4', 2048, 512, 1).activationBytes);
  });
});

describe('large presets: Q4 alone by default, and a badge computed from the memory plan', () => {
  const mistralFile = parseConfig(readFileSync(path.join(__dirname, '../data/configs/Mistral-7B-Instruct-v0.3.json'), 'utf8'));
  const mistral = PRESETS.find((p) => p.repo === 'mistralai/Mistral-7B-Instruct-v0.3')!;
  const hub = (repo: string): ModelRef => ({ kind: 'hub', repo, revision: 'main', baseUrl: 'https://huggingface.co' });

  it('Mistral-7B (hub and synthetic) is large and starts with Q4 alone; the others start with the default pair', () => {
    expect(PRESETS.filter((p) => p.large).map((p) => p.repo)).toEqual([mistral.repo]);
    expect(SYNTHETIC_PRESETS.filter((p) => p.large).map((p) => p.preset)).toEqual(['mistral-7b']);
    expect(isLargeModel(hub(mistral.repo))).toBe(true);
    expect(isLargeModel({ kind: 'synthetic', preset: 'mistral-7b' })).toBe(true);
    for (const p of PRESETS.filter((x) => !x.large)) expect(isLargeModel(hub(p.repo)), p.repo).toBe(false);
    expect(isLargeModel({ kind: 'synthetic', preset: 'tiny' })).toBe(false);
    expect(isLargeModel({ kind: 'local', name: 'Mistral-7B-Instruct-v0.3', files: [] })).toBe(false);
    expect(isLargeModel(null)).toBe(false);
    expect(defaultPair(true)).toEqual(LARGE_DEFAULT);
    expect(LARGE_DEFAULT).toEqual(ALONE);
    expect(defaultPair(false)).toEqual(DEFAULT_PAIR);
  });

  it('the preset\'s config fields plan exactly as the real config.json', () => {
    const own = parseConfig(mistral.large!.config);
    expect(own).toEqual(mistralFile);
    for (const f of FORMATS) expect(engineBytes(own, f, 2048)).toBe(engineBytes(mistralFile, f, 2048));
  });

  it('the app plans and loads with the context capped by the model, 512 rows per pass and the logit rows 8 MiB hold (16 to 256)', () => {
    expect(planShape(config, 4096)).toEqual({ maxCtx: 4096, maxRows: 512, maxLogitRows: 16, maxBatch: 1 }); // Llama-3.2-1B: 131072 positions, 128256 x 4 B = 0.49 MiB a row
    expect(planShape(presetConfig('gpt2-large'), 4096)).toEqual({ maxCtx: 1024, maxRows: 512, maxLogitRows: 41, maxBatch: 1 }); // 50257 tokens: 0.19 MiB a row
    expect(planShape({ ...config, vocabSize: 512 }, 8)).toEqual({ maxCtx: 8, maxRows: 8, maxLogitRows: 8, maxBatch: 1 });
    expect(appLogitRows({ vocabSize: 512 })).toBe(256);
    expect(appLogitRows({ vocabSize: 49152 })).toBe(42);
    expect(appLogitRows({ vocabSize: 151936 })).toBe(16);
    // The engine reads the same rule from its config.
    // The engine reads the same rule from its config, and its weight format picks the KV cache.
    const { kvCache, ...shape } = Engine.shapeFor(config, { contextLength: 4096, maxLogitRows: appLogitRows, format: 'int8' });
    expect(shape).toEqual(planShape(config, 4096));
    expect(kvCache).toBe('f16');
  });

  it('Q4 alone for Mistral-7B at context 2048 needs about 4.9 GB (4.53 GB of weights, 256 MiB of f16 KV cache); no pair fits twice that', () => {
    const need = engineBytes(mistralFile, 'q4', 2048);
    const p = planMemory(mistralFile, 'q4', 2048, 512, appLogitRows(mistralFile));
    expect(need).toBe(p.totalBytes);
    expect(p.weightBytes).toBe(4_530_913_280);
    expect(p.kvBytes).toBe(256 * MiB);
    expect(planMemory(mistralFile, 'q4', 2048, 512, appLogitRows(mistralFile), 1, 'f32').kvBytes).toBe(512 * MiB);
    expect(need).toBeGreaterThan(4.8e9);
    expect(need).toBeLessThan(5.0e9);
    // The smallest pair, INT8 + Q4, is more than twice as much.
    const engines = FORMATS.map((format) => ({ format, totalBytes: engineBytes(mistralFile, format, 2048) }));
    for (const b of FORMATS) for (const c of FORMATS) if (b !== c) expect(pairBytes(engines, { baseline: b, candidate: c })).toBeGreaterThan(2 * need);
    // A shorter context needs less: the badge follows the context picked.
    expect(engineBytes(mistralFile, 'q4', 512)).toBe(need - (2048 - 512) * 2 * 32 * 8 * 128 * 2 - (2048 - 512) * 4);
  });
});
