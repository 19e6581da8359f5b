// The app's engine pair (app/engines.ts) and its per-format memory plan (app/engine_plan.ts): which
// formats an adapter accepts for a model, the pair's refusals, picking and swapping, the address
// parameter, and what the panes show when the pair changes after a load.
import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseConfig } from '../../src/model/config';
import { Engine } from '../../src/model/engine';
import { checkFits, planMemory } from '../../src/model/memory';
import { FORMAT_NAMES } from '../../src/kernels/formats';
import { planEngines, type AdapterLimits } from '../../app/engine_plan';
import { FORMATS, type EnginePlan } from '../../app/protocol';
import {
  allowedFormats, choose, DEFAULT_PAIR, engineColor, engineLabel, engineTitle, ENGINE_COLOR, formatRefusal, pairChanged, pairFormats, pairParam, pairRefusals, parsePair, shownFormats,
  weightRatio, type EnginePair,
} from '../../app/engines';
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
      expect(e).toEqual({ format: e.format, weightBytes: p.weightBytes, kvBytes: p.kvBytes, activationBytes: p.activationBytes, totalBytes: p.totalBytes, cached: e.format === 'q4', refusal: null });
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
    for (const bad of [null, undefined, '', 'f16', 'f16,f16', 'f16,q8', 'fp16,int8', 'f16,int8,q4', ',']) expect(parsePair(bad)).toBeNull();
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
