// Node CLI on real WebGPU (Dawn): `generate` and `logits`. Run through `npm run -s cli -- ...`.
// With --json, stdout carries exactly one JSON object; everything else goes to stderr.
import { writeFile } from 'node:fs/promises';
import { acquireDevice } from '../gpu/device';
import { folderSource, type ModelSource } from '../model/source';
import { Engine, finishReason } from '../model/engine';
import { FORMAT_NAMES, isWeightFormat, type WeightFormat } from '../kernels/formats';
import type { SamplingParams } from '../model/sampling';
import { StreamingDecoder } from '../model/tokenizer';
import { hubSource, validateRepoId, DEFAULT_HUB } from '../hub/hub';

class UsageError extends Error {
  override name = 'UsageError';
}

const USAGE = `usage:
  npm run -s cli -- generate --model DIR|HF_ID [--hub URL --revision REV] --engine f32|f16|int8|q4 (--prompt TEXT | --ids 1,2,3) --max-new-tokens N
                     [--temperature T --top-k K --top-p P --repetition-penalty R --seed S] [--chat] [--ignore-eos]
                     [--context N] [--json]
  npm run -s cli -- logits --model DIR --engine f32|f16|int8|q4 --ids 1,5,9 --out FILE`;

type Flags = Map<string, string | true>;

function parseFlags(argv: string[]): Flags {
  const flags: Flags = new Map();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith('--')) throw new UsageError(`unexpected argument "${a}"`);
    const next = argv[i + 1];
    if (next === undefined || next.startsWith('--')) flags.set(a.slice(2), true);
    else {
      flags.set(a.slice(2), next);
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

function need(f: Flags, key: string): string {
  const v = str(f, key);
  if (v === undefined) throw new UsageError(`--${key} is required`);
  return v;
}

function number(f: Flags, key: string): number | undefined {
  const v = str(f, key);
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n)) throw new UsageError(`--${key} must be a number, got "${v}"`);
  return n;
}

function engineFormat(f: Flags): WeightFormat {
  const e = need(f, 'engine');
  if (!isWeightFormat(e)) throw new UsageError(`--engine must be one of ${FORMAT_NAMES.join(', ')}, got "${e}"`);
  return e;
}

function idList(s: string): number[] {
  const ids = s.split(',').map((x) => Number(x.trim()));
  if (!ids.length || ids.some((x) => !Number.isInteger(x) || x < 0)) throw new UsageError(`--ids must be comma-separated token ids, got "${s}"`);
  return ids;
}

/** A local folder in HF layout, or else a hub id ("owner/name") fetched from --hub (default huggingface.co). */
async function openModel(spec: string, f: Flags): Promise<ModelSource> {
  const { stat } = await import('node:fs/promises');
  if ((await stat(spec).catch(() => null))?.isDirectory()) return folderSource(spec);
  const repo = validateRepoId(spec);
  return hubSource(repo, {
    baseUrl: str(f, 'hub') ?? process.env.HF_ENDPOINT ?? DEFAULT_HUB,
    revision: str(f, 'revision') ?? 'main',
    token: process.env.HF_TOKEN,
    onProgress: (p) => process.stderr.write(`\rdownloading ${p.file}: ${(p.bytes / 1e6).toFixed(1)}${p.total ? ` / ${(p.total / 1e6).toFixed(1)}` : ''} MB`),
  });
}

async function generate(f: Flags): Promise<void> {
  const format = engineFormat(f);
  const gpu = await acquireDevice();
  const maxNewTokens = number(f, 'max-new-tokens') ?? 64;
  const engine = await Engine.load(gpu, await openModel(need(f, 'model'), f), { format, contextLength: number(f, 'context') });
  const tok = engine.tokenizer;
  let promptIds: number[];
  const idsFlag = str(f, 'ids');
  const prompt = str(f, 'prompt');
  if (idsFlag !== undefined) promptIds = idList(idsFlag);
  else if (prompt !== undefined) {
    if (!tok) throw new UsageError('this model has no tokenizer.json; pass --ids');
    promptIds = f.has('chat') ? tok.applyChatTemplate([{ role: 'user', content: prompt }]) : tok.encode(prompt);
  } else throw new UsageError('pass --prompt TEXT or --ids 1,2,3');

  const sampling: Partial<SamplingParams> = {
    temperature: number(f, 'temperature') ?? 0,
    topK: number(f, 'top-k') ?? 0,
    topP: number(f, 'top-p') ?? 1,
    repetitionPenalty: number(f, 'repetition-penalty') ?? 1,
    seed: number(f, 'seed') ?? 0,
  };
  const ids: number[] = [];
  const times: number[] = [];
  const stream = tok ? new StreamingDecoder(tok) : null;
  const stopIds = f.has('ignore-eos') ? [] : engine.eosIds;
  for await (const t of engine.generate(promptIds, { maxNewTokens, sampling, stopIds })) {
    ids.push(t.id);
    times.push(t.timeMs);
    if (!f.has('json')) process.stdout.write(stream ? stream.push(t.id) : `${t.id} `);
  }
  const ttft = times[0] ?? 0;
  const decodeTime = times.length > 1 ? (times[times.length - 1]! - ttft) / 1000 : 0;
  const result = {
    engine: format,
    adapter: gpu.adapterInfo.name,
    model: engine.modelName,
    promptIds,
    ids,
    text: tok ? tok.decode(ids) : '',
    timeToFirstTokenMs: Number(ttft.toFixed(3)),
    decodeTokensPerSecond: decodeTime > 0 ? Number(((times.length - 1) / decodeTime).toFixed(3)) : 0,
    weightBytes: engine.weightBytes,
    kvCacheBytes: engine.kvBytes,
    contextLength: engine.contextLength,
    finishReason: finishReason(ids, { promptTokens: promptIds.length, contextLength: engine.contextLength, stopIds, aborted: false }),
  };
  if (f.has('json')) process.stdout.write(JSON.stringify(result) + '\n');
  else process.stderr.write(`\n[${format} on ${result.adapter}] ttft ${result.timeToFirstTokenMs} ms, decode ${result.decodeTokensPerSecond} tok/s\n`);
  engine.destroy();
}

async function logits(f: Flags): Promise<void> {
  const format = engineFormat(f);
  const ids = idList(need(f, 'ids'));
  const out = need(f, 'out');
  const gpu = await acquireDevice();
  const engine = await Engine.load(gpu, await openModel(need(f, 'model'), f), {
    format,
    contextLength: Math.max(ids.length + 1, 16),
    maxRows: ids.length,
    maxLogitRows: ids.length,
  });
  const data = await engine.logits(ids);
  await writeFile(out, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  process.stderr.write(`wrote ${ids.length} x ${engine.config.vocabSize} float32 logits (${format} on ${gpu.adapterInfo.name}) to ${out}\n`);
  engine.destroy();
}

async function main(argv: string[]): Promise<void> {
  const [cmd, ...rest] = argv;
  const f = parseFlags(rest);
  if (cmd === 'generate') return generate(f);
  if (cmd === 'logits') return logits(f);
  throw new UsageError(cmd ? `unknown command "${cmd}"` : 'no command given');
}

try {
  await main(process.argv.slice(2));
  process.exit(0);
} catch (e) {
  const err = e as Error;
  process.stderr.write(`${err.name}: ${err.message}\n${err instanceof UsageError ? USAGE + '\n' : ''}`);
  process.exit(err instanceof UsageError ? 2 : 1);
}
