// The KV cache format module: names, bytes, and the WGSL it declares (compiled and run in
// tests/gpu/kv_append.test.ts and attention.test.ts).
import { describe, expect, it } from 'vitest';
import { KV_FORMATS, kvCacheBytes, kvCacheWgsl, parseKvFormat, defaultKvFormat, kvFormatApplies } from '../../src/kernels/kv_cache';
import { planMemory } from '../../src/model/memory';
import { parseArgs } from '../../src/bench/args';
import { presetConfig } from '../../src/bench/presets';

describe('KV cache formats', () => {
  it('names and bytes', () => {
    expect(KV_FORMATS).toEqual(['f32', 'f16']);
    expect(parseKvFormat('f16')).toBe('f16');
    expect(() => parseKvFormat('int8')).toThrow(/f32, f16/);
    expect(kvCacheBytes('f32', 10, 64)).toBe(2560);
    expect(kvCacheBytes('f16', 10, 64)).toBe(1280);
    expect(kvFormatApplies('f16', 6)).toBe(false);
    expect(kvFormatApplies('f32', 6)).toBe(true);
    expect(defaultKvFormat('f32', 64)).toBe('f32');
    expect(defaultKvFormat('q4', 64)).toBe('f16');
  });

  it('declares the bindings asked for, packed pairs for f16', () => {
    const f16 = kvCacheWgsl('f16', { view: 'vec4', access: 'read', k: 1, v: 2 });
    expect(f16).toMatch(/@binding\(1\) var<storage, read> k_cache: array<vec2<u32>>/);
    expect(f16).toMatch(/fn kv_v4\(i: u32\) -> vec4<f32>/);
    expect(f16).not.toMatch(/kv_put/);
    const w = kvCacheWgsl('f16', { view: 'scalar', access: 'read_write', k: 7, v: 8 });
    expect(w).toMatch(/@binding\(8\) var<storage, read_write> v_cache: array<u32>/);
    expect(w).toMatch(/pack2x16float/);
    expect(kvCacheWgsl('f32', { view: 'scalar', access: 'read', k: 1, v: 2 })).toMatch(/k_cache: array<f32>/);
    expect(() => kvCacheWgsl('f32', { view: 'vec4', access: 'read_write', k: 1, v: 2 })).toThrow(/scalar/);
  });

  it('the memory plan counts the format, the bench flags take it', () => {
    const c = presetConfig('llama-3.2-1b'); // 16 layers, 8 KV heads of 64
    const kv = (f?: 'f32' | 'f16', w: 'f32' | 'int8' = 'int8') => planMemory(c, w, 1024, 64, 1, 1, f).kvBytes;
    expect(kv('f32')).toBe(2 * 16 * 1024 * 512 * 4);
    expect(kv('f16')).toBe(2 * 16 * 1024 * 512 * 2);
    expect(kv()).toBe(kv('f16'));
    expect(kv(undefined, 'f32')).toBe(kv('f32'));
    expect(parseArgs(['--model', 'synthetic:tiny', '--kv-cache', 'f32'])).toMatchObject({ mode: 'model', options: { kvCache: 'f32' } });
    expect(parseArgs(['--batch', '1,2', '--model', 'synthetic:tiny', '--kv-cache', 'f16'])).toMatchObject({ mode: 'batch', options: { kvCache: 'f16' } });
    expect(parseArgs(['--eval', 'builtin', '--model', 'x', '--kv-cache', 'f32'])).toMatchObject({ mode: 'eval', options: { kvCache: 'f32' } });
    expect(parseArgs(['--model', 'synthetic:tiny'])).not.toHaveProperty('options.kvCache');
    expect(() => parseArgs(['--model', 'synthetic:tiny', '--kv-cache', 'int8'])).toThrow(/--kv-cache must be one of f32, f16/);
  });
});
