import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseConfig, parameterCount, ConfigError, UnsupportedModelError } from '../../src/model/config';
import { FIXTURES, modelDir } from './fixtures';

const load = (m: string) => parseConfig(readFileSync(path.join(modelDir(m), 'config.json'), 'utf8'));

describe('parseConfig on the fixtures', () => {
  it('reads the new rope_parameters form and tied embeddings (llama-gqa-tied-f32)', () => {
    const c = load('llama-gqa-tied-f32');
    expect(c).toMatchObject({ modelType: 'llama', hiddenSize: 64, numHeads: 4, numKvHeads: 2, headDim: 16, tieWordEmbeddings: true, qkvBias: false });
    expect(c.rope).toEqual({ theta: 10000, type: 'default' });
  });
  it('reads classic rope_theta + llama3 rope_scaling (llama3-ropescaled-bf16)', () => {
    expect(load('llama3-ropescaled-bf16').rope).toEqual({
      theta: 500000, type: 'llama3', factor: 32, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositionEmbeddings: 8192,
    });
  });
  it('gives Qwen2 q/k/v biases and no window when use_sliding_window is false', () => {
    const c = load('qwen2-bias-f16');
    expect(c.qkvBias).toBe(true);
    expect(c.oBias).toBe(false);
    expect(c.layerWindows).toEqual([0, 0]);
    expect(c.rope?.theta).toBe(1e6);
    expect(c.headDim).toBe(16); // 112 / 7, no head_dim in the file
  });
  it('applies Mistral sliding_window to every layer, untied head', () => {
    const c = load('mistral-swa-f16');
    expect(c.layerWindows).toEqual([8, 8]);
    expect(c.tieWordEmbeddings).toBe(false);
  });
  it('reads stories260K', () => {
    const c = load('stories260K');
    expect(c).toMatchObject({ numLayers: 5, numHeads: 8, numKvHeads: 4, headDim: 8, vocabSize: 512, intermediateSize: 172, eosTokenIds: [2], bosTokenId: 1 });
  });
});

describe('GPT-2 configs', () => {
  const gpt2 = JSON.parse(readFileSync(path.join(FIXTURES, 'tokenizers', 'gpt2', 'config.json'), 'utf8')) as Record<string, unknown>;
  it('reads the gpt2-f32 fixture: learned positions, LayerNorm eps, biases everywhere, tied head, multi-head attention', () => {
    const c = load('gpt2-f32');
    expect(c).toMatchObject({
      arch: 'gpt2', modelType: 'gpt2', hiddenSize: 64, numHeads: 4, numKvHeads: 4, headDim: 16, numLayers: 2, intermediateSize: 256,
      vocabSize: 512, maxPositionEmbeddings: 256, normEps: 1e-5, rope: null, tieWordEmbeddings: true, qkvBias: true, oBias: true, mlpBias: true,
      bosTokenId: 1, eosTokenIds: [2],
    });
  });
  it("reads openai-community/gpt2's config.json (no n_inner: 4 x n_embd) and counts its published 124,439,808 parameters", () => {
    const c = parseConfig(gpt2);
    expect(c).toMatchObject({ hiddenSize: 768, numHeads: 12, numLayers: 12, intermediateSize: 3072, maxPositionEmbeddings: 1024, vocabSize: 50257, eosTokenIds: [50256] });
    expect(parameterCount(c)).toBe(124_439_808);
    // gpt2-large: n_embd 1280, n_head 20, n_layer 36 (774,030,080 on its model card)
    expect(parameterCount(parseConfig({ ...gpt2, n_embd: 1280, n_head: 20, n_layer: 36 }))).toBe(774_030_080);
  });
  it('refuses what the GPT-2 block does not compute', () => {
    expect(() => parseConfig({ ...gpt2, activation_function: 'relu' })).toThrow(/activation_function "relu" is not supported/);
    expect(() => parseConfig({ ...gpt2, scale_attn_by_inverse_layer_idx: true })).toThrow(UnsupportedModelError);
    expect(() => parseConfig({ ...gpt2, scale_attn_weights: false })).toThrow(UnsupportedModelError);
    expect(() => parseConfig({ ...gpt2, n_head: 7 })).toThrow(/n_embd \(768\) must be a multiple of n_head \(7\)/);
    expect(() => parseConfig({ ...gpt2, layer_norm_epsilon: 0 })).toThrow(/layer_norm_epsilon/);
    expect(() => parseConfig({ ...gpt2, n_layer: 0 })).toThrow(/n_layer/);
  });
});

describe('parseConfig errors', () => {
  const base = JSON.parse(readFileSync(path.join(modelDir('stories260K'), 'config.json'), 'utf8')) as Record<string, unknown>;
  it('refuses an unsupported model_type by name, listing the supported ones', () => {
    expect(() => parseConfig({ ...base, model_type: 'gemma' })).toThrow(UnsupportedModelError);
    expect(() => parseConfig({ ...base, model_type: 'gemma' })).toThrow(/model_type "gemma" is not supported; this engine runs llama, mistral, qwen2, gpt2 models/);
    expect(() => parseConfig({ ...base, model_type: undefined })).toThrow(/model_type undefined is not supported/);
  });
  it('refuses non-JSON', () => {
    expect(() => parseConfig('{ not json')).toThrow(ConfigError);
  });
  it('refuses zero, huge and non-integer sizes', () => {
    expect(() => parseConfig({ ...base, hidden_size: 0 })).toThrow(/hidden_size/);
    expect(() => parseConfig({ ...base, num_hidden_layers: 1e9 })).toThrow(/num_hidden_layers/);
    expect(() => parseConfig({ ...base, vocab_size: 12.5 })).toThrow(/vocab_size/);
  });
  it('refuses a vocabulary larger than the GPU sampler takes (262144), accepts that size', () => {
    expect(() => parseConfig({ ...base, vocab_size: 262145 })).toThrow(UnsupportedModelError);
    expect(() => parseConfig({ ...base, vocab_size: 262145 })).toThrow(/vocab_size 262145 is larger than the GPU sampler supports \(262144\)/);
    expect(parseConfig({ ...base, vocab_size: 262144 }).vocabSize).toBe(262144);
  });
  it('refuses absurd sizes: negative, strings, null, fractional head_dim, layer_types of the wrong length', () => {
    expect(() => parseConfig({ ...base, intermediate_size: -4 })).toThrow(/intermediate_size/);
    expect(() => parseConfig({ ...base, vocab_size: '512' })).toThrow(/vocab_size.*must be an integer/);
    expect(() => parseConfig({ ...base, num_attention_heads: null })).toThrow(ConfigError);
    expect(() => parseConfig({ ...base, head_dim: undefined, hidden_size: 60 })).toThrow(/head_dim 7.5/);
    expect(() => parseConfig({ ...base, max_position_embeddings: 0 })).toThrow(/max_position_embeddings/);
    expect(() => parseConfig({ ...base, rms_norm_eps: 'tiny' })).toThrow(/rms_norm_eps/);
    expect(() => parseConfig({ ...base, sliding_window: 16, layer_types: ['sliding_attention'] })).toThrow(/layer_types lists 1 layers but num_hidden_layers is 5/);
    expect(() => parseConfig('[1, 2]')).toThrow(/must be a JSON object/);
    expect(() => parseConfig('null')).toThrow(ConfigError);
  });
  it('refuses heads that do not divide', () => {
    expect(() => parseConfig({ ...base, num_key_value_heads: 3 })).toThrow(/multiple of num_key_value_heads/);
  });
  it('refuses an unknown rope scaling and a non-silu activation', () => {
    expect(() => parseConfig({ ...base, rope_scaling: { rope_type: 'yarn', factor: 4 } })).toThrow(UnsupportedModelError);
    expect(() => parseConfig({ ...base, hidden_act: 'gelu' })).toThrow(UnsupportedModelError);
  });
});

describe('context length at load', async () => {
  const { Engine } = await import('../../src/model/engine');
  const c = load('llama3-ropescaled-bf16'); // KV row: 2 heads x 16 x 4 bytes = 128 bytes
  const big = { maxStorageBufferBindingSize: 2 ** 31, maxBufferSize: 2 ** 40 };
  it('defaults to 2048, capped by max_position_embeddings', () => {
    expect(Engine.shapeFor(c, {}, big).maxCtx).toBe(2048);
    expect(Engine.shapeFor({ ...c, maxPositionEmbeddings: 512 }, {}, big).maxCtx).toBe(512);
    expect(Engine.shapeFor(c, { contextLength: 100 }, big)).toEqual({ maxCtx: 100, maxRows: 100, maxLogitRows: 1, maxBatch: 1, kvCache: 'f32' });
    // Sequences decoded together: every row of a batched step gets logits.
    expect(Engine.shapeFor(c, { contextLength: 100, maxBatch: 8 }, big)).toEqual({ maxCtx: 100, maxRows: 100, maxLogitRows: 8, maxBatch: 8, kvCache: 'f32' });
    expect(() => Engine.shapeFor(c, { maxBatch: 0 }, big)).toThrow(/maxBatch/);
  });
  it('shrinks to what one buffer of the device can hold', () => {
    const small = { maxStorageBufferBindingSize: 128 * 1000, maxBufferSize: 2 ** 40 };
    expect(Engine.shapeFor(c, {}, small).maxCtx).toBe(1000);
    // An f16 KV cache row is half as many bytes: twice the context fits the same buffer.
    expect(Engine.shapeFor(c, { kvCache: 'f16' }, small).maxCtx).toBe(2000);
    expect(Engine.shapeFor(c, { format: 'int8' }, small).maxCtx).toBe(2000);
  });
  it('picks the KV cache by weight format: f16 but for f32 weights, f32 where heads are not whole vec4s', () => {
    expect(Engine.shapeFor(c, { format: 'f32' }, big).kvCache).toBe('f32');
    for (const format of ['f16', 'int8', 'q4']) expect(Engine.shapeFor(c, { format }, big).kvCache, format).toBe('f16');
    expect(Engine.shapeFor(c, { format: 'f32', kvCache: 'f16' }, big).kvCache).toBe('f16');
    expect(Engine.shapeFor(c, { format: 'int8', kvCache: 'f32' }, big).kvCache).toBe('f32');
    const odd = { ...c, headDim: 6 };
    expect(Engine.shapeFor(odd, { format: 'int8' }, big).kvCache).toBe('f32');
    expect(() => Engine.shapeFor(odd, { kvCache: 'f16' }, big)).toThrow(/head_dim a multiple of 4/);
  });
});
