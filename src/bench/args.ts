// Command-line flags of the benchmark CLI (src/bench/bench.ts), parsed into the options of
// runBench and runKernelLab. Kept apart from the entry so tests can import it without running it.
import { FORMAT_NAMES, isWeightFormat, type WeightFormat } from '../kernels/formats';
import type { BenchOptions } from './model_bench';
import type { KernelLabOptions } from './kernel_lab';
import type { SuiteCliOptions } from './suite_cli';
import type { EvalCliOptions } from './eval_cli';
import type { BatchBenchOptions } from './batch_bench';
import { PROMPT_SETS, type PromptSetName, type SampleSize } from './prompts';
import { KV_FORMATS, isKvFormat, type KvFormat } from '../kernels/kv_cache';
import type { W8a8Setting } from '../gpu/pipelines';

export class UsageError extends Error {
  override name = 'UsageError';
}

export const USAGE = `usage:
  npm run -s bench -- --model synthetic:<preset>|DIR [--engines f16,int8] [--prompt-tokens 128,512]
                      [--new-tokens 128] [--runs 5] [--warmup 1] [--seed 1] [--context N] [--max-rows N] [--decode-norm fused|separate] [--kv-cache f16|f32] [--w8a8 auto|sgmat|dp4a|off]
                      [--temperature T --top-k K --top-p P --repetition-penalty R] [--no-profile] [--json OUT.json|-]
  npm run -s bench -- --kernels [--shapes 4096x4096,14336x4096,4096x14336,2048x8192] [--formats f16,int8,q4]
                      [--iters 50] [--trials 5] [--min-pass-ms 20] [--bytes N] [--rotate-bytes N] [--gemm-rows 512]
                      [--variants simple,engine|all|NAME,...] [--json OUT.json|-]
  npm run -s bench -- --suite builtin|alpaca --model synthetic:<preset>|DIR|HF_ID [--engines f16,int8] [--sample 20|100|all]
                      [--sample-seed 1] [--new-tokens 64] [--warmup 1] [--repetitions 3] [--price 2] [--chat]
                      [--temperature T --top-k K --top-p P --repetition-penalty R --seed S] [--hub URL] [--revision REV]
                      [--context N] [--batch N (prompts decoded together)] [--eval-text builtin|replies|TEXT_FILE [--eval-stride N]] [--json OUT.json|-]
  npm run -s bench -- --eval builtin|TEXT_FILE --model DIR [--engines f16,int8] [--context N] [--stride N] [--rows 64] [--kv-cache f16|f32] [--json OUT.json|-]
                      (teacher-forced: perplexity per engine; KL divergence and top-1 agreement against the first)
  npm run -s bench -- --batch 1,4,16 --model synthetic:<preset>|DIR [--engines f16,int8] [--prompt-tokens 128] [--new-tokens 64]
                      [--runs 3] [--warmup 1] [--seed 1] [--kv-cache f16|f32] [--json OUT.json|-]
                      (batched decode: aggregate and per-sequence tok/s per batch size; B=1 is the one-sequence path)
  npm run -s bench -- --verify DIR[,DIR...] [--engines f32,f16,int8,q4] [--kv-cache f16|f32] [--json OUT.json|-]
                      (folders with an HF oracle's reference.json + reference_logits.f32, e.g. ../shared/fixtures/models/*)
presets: smollm2-135m, qwen2.5-0.5b, llama-3.2-1b, mistral-7b, gpt2-large, tiny. Shapes are NxK (out x in).
GEMV variants: simple (the readable reference), engine (the default tuning), and tuned ones named
tpr<T>-u<unroll>[-magic|-mantissa] and a few more; GEMM variants: the engine's (always), wide128,
wide64, tiled, wide128-split, tiled-split; 'all' times every one of both.`;

export type ParsedArgs =
  | { mode: 'model'; options: BenchOptions; json: string | null }
  | { mode: 'kernels'; options: KernelLabOptions; json: string | null }
  | { mode: 'verify'; options: { models: string[]; engines: WeightFormat[]; kvCache?: KvFormat }; json: string | null }
  | { mode: 'suite'; options: SuiteCliOptions; json: string | null }
  | { mode: 'eval'; options: EvalCliOptions; json: string | null }
  | { mode: 'batch'; options: BatchBenchOptions; json: string | null }
  | { mode: 'help' };

type Flags = Map<string, string | true>;

const BOOLEAN = new Set(['kernels', 'no-profile', 'help', 'chat']);

function parseFlags(argv: string[]): Flags {
  const flags: Flags = new Map();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith('--')) throw new UsageError(`unexpected argument "${a}"`);
    const key = a.slice(2);
    const next = argv[i + 1];
    // "-" is a value (stdout), not a flag.
    if (BOOLEAN.has(key) || next === undefined || (next.startsWith('--') && next !== '-')) flags.set(key, true);
    else {
      flags.set(key, next);
      i++;
    }
  }
  return flags;
}

function str(f: Flags, key: string): string | undefined {
  const v = f.get(key);
  if (v === true) throw new UsageError(`--${key} needs a value`);
  return v;
}

function int(f: Flags, key: string, min: number): number | undefined {
  const v = str(f, key);
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new UsageError(`--${key} must be an integer >= ${min}, got "${v}"`);
  return n;
}

function intList(f: Flags, key: string, min: number): number[] | undefined {
  const v = str(f, key);
  if (v === undefined) return undefined;
  const xs = v.split(',').map((x) => Number(x.trim()));
  if (!xs.length || xs.some((x) => !Number.isInteger(x) || x < min)) throw new UsageError(`--${key} must be comma-separated integers >= ${min}, got "${v}"`);
  return xs;
}

/** --kv-cache: the KV cache's storage (absent: the engine's default, f16 unless the weights are f32) */
function kvCache(f: Flags): { kvCache?: KvFormat } {
  const v = str(f, 'kv-cache');
  if (v === undefined) return {};
  if (!isKvFormat(v)) throw new UsageError(`--kv-cache must be one of ${KV_FORMATS.join(', ')}, got "${v}"`);
  return { kvCache: v };
}

/** --w8a8: int8 passes of many rows with 8-bit activations (EngineOptions.w8a8; absent: the engine's default, 'auto') */
function w8a8(f: Flags): { w8a8?: W8a8Setting } {
  const v = str(f, 'w8a8');
  if (v === undefined) return {};
  if (v !== 'auto' && v !== 'sgmat' && v !== 'dp4a' && v !== 'off') throw new UsageError(`--w8a8 must be auto, sgmat, dp4a or off, got "${v}"`);
  return { w8a8: v };
}

function formats(f: Flags, key: string, fallback: WeightFormat[]): WeightFormat[] {
  const v = str(f, key);
  if (v === undefined) return fallback;
  const xs = v.split(',').map((x) => x.trim());
  for (const x of xs) if (!isWeightFormat(x)) throw new UsageError(`--${key}: unknown engine "${x}" (${FORMAT_NAMES.join(', ')})`);
  return xs as WeightFormat[];
}

/** "4096x14336" -> [4096, 14336] */
export function parseShape(s: string): [number, number] {
  const m = /^(\d+)x(\d+)$/.exec(s.trim());
  if (!m || Number(m[1]) < 1 || Number(m[2]) < 1) throw new UsageError(`bad shape "${s}": expected NxK, e.g. 4096x14336`);
  return [Number(m[1]), Number(m[2])];
}

function num(f: Flags, key: string, min: number, max = Infinity): number | undefined {
  const v = str(f, key);
  if (v === undefined) return undefined;
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || n < min || n > max) throw new UsageError(`--${key} must be a number in [${min}, ${max}], got "${v}"`);
  return n;
}

const SUITE_FLAGS = ['suite', 'batch', 'model', 'engines', 'sample', 'sample-seed', 'new-tokens', 'warmup', 'repetitions', 'price', 'chat', 'temperature', 'top-k', 'top-p', 'repetition-penalty', 'seed', 'hub', 'revision', 'context', 'eval-text', 'eval-stride', 'json'];

function parseSuite(f: Flags, json: string | null): ParsedArgs {
  const set = str(f, 'suite');
  if (!set || !PROMPT_SETS.includes(set as PromptSetName)) throw new UsageError(`--suite must be one of ${PROMPT_SETS.join(', ')}, got "${set ?? ''}"`);
  const model = str(f, 'model');
  if (!model) throw new UsageError('--model is required (synthetic:<preset>, a folder or a hub id)');
  const sampleFlag = str(f, 'sample');
  let sampleSize: SampleSize = set === 'alpaca' ? 20 : 'all';
  if (sampleFlag !== undefined) {
    sampleSize = sampleFlag === 'all' ? 'all' : Number(sampleFlag);
    if (sampleSize !== 'all' && (!Number.isInteger(sampleSize) || sampleSize < 1)) throw new UsageError(`--sample must be a whole number >= 1 or "all", got "${sampleFlag}"`);
  }
  const hub = str(f, 'hub');
  const revision = str(f, 'revision');
  const context = int(f, 'context', 2);
  const evalText = str(f, 'eval-text');
  const evalStride = int(f, 'eval-stride', 1);
  if (f.has('eval-text') && !evalText) throw new UsageError('--eval-text needs builtin, replies or a text file');
  if (evalStride !== undefined && !evalText) throw new UsageError('--eval-stride needs --eval-text');
  if (evalStride !== undefined && context !== undefined && evalStride >= context) throw new UsageError('--eval-stride must be below --context');
  const custom = evalText !== undefined && evalText !== 'builtin' && evalText !== 'replies';
  const evalSettings = evalText === undefined ? undefined : {
    text: custom ? ('custom' as const) : (evalText as 'builtin' | 'replies'),
    ...(custom ? { name: evalText.split(/[\\/]/).pop()! } : {}),
    ...(evalStride === undefined ? {} : { stride: evalStride }),
  };
  return {
    mode: 'suite',
    json,
    options: {
      model,
      ...(custom ? { evalFile: evalText } : {}),
      ...(hub ? { hubUrl: hub } : {}),
      ...(revision ? { revision } : {}),
      ...(context === undefined ? {} : { contextLength: context }),
      settings: {
        promptSet: set as PromptSetName,
        sampleSize,
        sampleSeed: int(f, 'sample-seed', 0) ?? 1,
        engines: formats(f, 'engines', ['f16', 'int8']),
        maxNewTokens: int(f, 'new-tokens', 1) ?? 64,
        warmup: int(f, 'warmup', 0) ?? 1,
        repetitions: int(f, 'repetitions', 1) ?? 3,
        ...(f.has('batch') ? { batch: int(f, 'batch', 1)! } : {}),
        sampling: {
          temperature: num(f, 'temperature', 0) ?? 0,
          topK: int(f, 'top-k', 0) ?? 0,
          topP: num(f, 'top-p', 0, 1) ?? 1,
          repetitionPenalty: num(f, 'repetition-penalty', 0) ?? 1,
          seed: int(f, 'seed', 0) ?? 0,
        },
        chat: f.has('chat'),
        pricePerHour: num(f, 'price', 0) ?? 2,
        ...(evalSettings ? { eval: evalSettings } : {}),
      },
    },
  };
}

export function parseArgs(argv: string[]): ParsedArgs {
  const f = parseFlags(argv);
  if (f.has('help')) return { mode: 'help' };
  const json = str(f, 'json') ?? null;
  if (f.has('verify')) {
    for (const k of f.keys()) if (!['verify', 'engines', 'kv-cache', 'w8a8', 'json'].includes(k)) throw new UsageError(`unknown flag --${k} in --verify mode`);
    const models = str(f, 'verify')?.split(',').filter(Boolean) ?? [];
    if (!models.length) throw new UsageError('--verify needs one or more model folders');
    return { mode: 'verify', json, options: { models, engines: formats(f, 'engines', ['f32', 'f16', 'int8']), ...kvCache(f), ...w8a8(f) } };
  }
  if (f.has('eval')) {
    for (const k of f.keys()) if (!['eval', 'model', 'engines', 'context', 'stride', 'rows', 'kv-cache', 'w8a8', 'json'].includes(k)) throw new UsageError(`unknown flag --${k} in --eval mode`);
    const text = str(f, 'eval');
    if (!text) throw new UsageError('--eval needs "builtin" or a text file');
    const model = str(f, 'model');
    if (!model) throw new UsageError('--model is required (a model folder)');
    const context = int(f, 'context', 2);
    const stride = int(f, 'stride', 1);
    if (context !== undefined && stride !== undefined && stride >= context) throw new UsageError(`--stride must be below --context, got ${stride} >= ${context}`);
    return {
      mode: 'eval',
      json,
      options: { model, text, engines: formats(f, 'engines', ['f16', 'int8']), ...(context === undefined ? {} : { contextLength: context }), ...(stride === undefined ? {} : { stride }), rows: int(f, 'rows', 1) ?? 64, ...kvCache(f), ...w8a8(f) },
    };
  }
  if (f.has('suite')) {
    for (const k of f.keys()) if (!SUITE_FLAGS.includes(k)) throw new UsageError(`unknown flag --${k} in --suite mode`);
    return parseSuite(f, json);
  }
  if (f.has('batch')) {
    for (const k of f.keys()) if (!['batch', 'model', 'engines', 'prompt-tokens', 'new-tokens', 'runs', 'warmup', 'seed', 'kv-cache', 'w8a8', 'json'].includes(k)) throw new UsageError(`unknown flag --${k} in --batch mode`);
    const model = str(f, 'model');
    if (!model) throw new UsageError('--model is required (synthetic:<preset> or a folder)');
    return {
      mode: 'batch',
      json,
      options: {
        model,
        engines: formats(f, 'engines', ['f16', 'int8']),
        batches: intList(f, 'batch', 1)!,
        promptTokens: int(f, 'prompt-tokens', 1) ?? 128,
        newTokens: int(f, 'new-tokens', 2) ?? 64,
        runs: int(f, 'runs', 1) ?? 3,
        warmup: int(f, 'warmup', 0) ?? 1,
        seed: int(f, 'seed', 0) ?? 1,
        ...kvCache(f),
        ...w8a8(f),
      },
    };
  }
  const known = f.has('kernels')
    ? ['kernels', 'shapes', 'formats', 'iters', 'trials', 'min-pass-ms', 'bytes', 'rotate-bytes', 'gemm-rows', 'variants', 'json']
    : ['model', 'engines', 'prompt-tokens', 'new-tokens', 'runs', 'warmup', 'seed', 'context', 'max-rows', 'decode-norm', 'kv-cache', 'w8a8', 'no-profile', 'temperature', 'top-k', 'top-p', 'repetition-penalty', 'json'];
  for (const k of f.keys()) if (!known.includes(k)) throw new UsageError(`unknown flag --${k}${f.has('kernels') ? ' in --kernels mode' : ''}`);
  if (f.has('kernels')) {
    const shapes = (str(f, 'shapes') ?? '4096x4096,14336x4096,4096x14336,2048x8192').split(',');
    shapes.forEach(parseShape);
    return {
      mode: 'kernels',
      json,
      options: {
        shapes,
        formats: formats(f, 'formats', ['f16', 'int8']),
        iters: int(f, 'iters', 1),
        trials: int(f, 'trials', 1),
        minPassMs: int(f, 'min-pass-ms', 0),
        bandwidthBytes: int(f, 'bytes', 1 << 16),
        rotateBytes: int(f, 'rotate-bytes', 0),
        gemmRows: int(f, 'gemm-rows', 2),
        variants: str(f, 'variants')?.split(','),
      },
    };
  }
  const model = str(f, 'model');
  if (!model) throw new UsageError('--model is required (synthetic:<preset> or a folder), or use --kernels');
  const decodeNorm = str(f, 'decode-norm');
  if (decodeNorm !== undefined && decodeNorm !== 'fused' && decodeNorm !== 'separate') throw new UsageError(`--decode-norm must be fused or separate, got "${decodeNorm}"`);
  return {
    mode: 'model',
    json,
    options: {
      model,
      engines: formats(f, 'engines', ['f16', 'int8']),
      promptTokens: intList(f, 'prompt-tokens', 1) ?? [128, 512],
      newTokens: int(f, 'new-tokens', 2) ?? 128,
      runs: int(f, 'runs', 1) ?? 5,
      warmup: int(f, 'warmup', 0) ?? 1,
      seed: int(f, 'seed', 0) ?? 1,
      contextLength: int(f, 'context', 2),
      maxRows: int(f, 'max-rows', 1),
      ...(decodeNorm ? { decodeNorm } : {}),
      ...kvCache(f),
      ...w8a8(f),
      profile: !f.has('no-profile'),
      sampling: {
        temperature: num(f, 'temperature', 0) ?? 0,
        topK: int(f, 'top-k', 0) ?? 0,
        topP: num(f, 'top-p', 0, 1) ?? 1,
        repetitionPenalty: num(f, 'repetition-penalty', 0) ?? 1,
      },
    },
  };
}
