// The benchmark suite without a GPU: cost, prompt sets and sampling, the Alpaca set through the
// real hub client against a local server in dataset layout, the per-engine summary and CSV against
// hand-computed values, the memory tracker, and the runner driven by scripted engines.
import { describe, it, expect, afterEach } from 'vitest';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { costEstimate, costPerMillionTokens, formatUsd, CostInputError } from '../../src/bench/cost';
import { BUILTIN_PROMPTS, parseAlpaca, loadAlpacaPrompts, samplePrompts, PromptSetError, ALPACA_SOURCE } from '../../src/bench/prompts';
import { datasetFileUrl } from '../../src/hub/dataset';
import { HubError } from '../../src/hub/hub';
import { cdfPoints, renderSuiteReport, summarizeEngine, suiteCsv, CSV_COLUMNS, type PromptRecord, type SuiteReport, type SuiteSettings } from '../../src/bench/suite_report';
import { runSuite, SuiteSettingsError, type SuiteEngineHandle, type SuiteProgress } from '../../src/bench/suite';
import { BufferMemoryTracker } from '../../src/gpu/memory_tracker';
import { idsFromPrompt, PromptIdsError } from '../../src/bench/text_codec';
import { presetConfig } from '../../src/bench/presets';
import type { BatchOptions, BatchSequence, BatchToken, Engine, GenerateOptions, GeneratedToken } from '../../src/model/engine';
import { GREEDY } from '../../src/model/engine';
import { withoutSelfQuality } from '../../app/worker_bench';
import { FIXTURES } from './fixtures';
import { csvCells } from './csv';

const ALPACA_FIXTURE = path.join(FIXTURES, 'prompts', 'alpaca_eval_instructions.json');

describe('cost per million generated tokens', () => {
  it('$2/hour at 10 tok/s: 36,000 tokens an hour, so $55.56 per million', () => {
    expect(costPerMillionTokens(2, 10)).toBeCloseTo(2 / 36_000 * 1e6, 9);
    expect(costPerMillionTokens(2, 10)).toBeCloseTo(55.5556, 3);
  });
  it('$3.60/hour at 1000 tok/s is $1.00; free GPU costs 0', () => {
    expect(costPerMillionTokens(3.6, 1000)).toBeCloseTo(1, 12);
    expect(costPerMillionTokens(0, 50)).toBe(0);
  });
  it('the estimate carries its assumption; no throughput gives null; bad inputs are named errors', () => {
    const c = costEstimate(2.5, 125);
    expect(c.usdPerMillionTokens).toBeCloseTo(2.5 / (125 * 3600) * 1e6, 9);
    expect(c.assumption).toBe('$2.5/hour GPU, at the measured decode throughput (125 tok/s), one stream, no batching');
    expect(costEstimate(2, null).usdPerMillionTokens).toBeNull();
    expect(() => costPerMillionTokens(-1, 10)).toThrow(CostInputError);
    expect(() => costPerMillionTokens(1, 0)).toThrow(CostInputError);
    expect(() => costEstimate(Number.NaN, 10)).toThrow(CostInputError);
  });
  it('formats dollars for the table', () => {
    expect(formatUsd(55.5556)).toBe('$55.56');
    expect(formatUsd(0.012345)).toBe('$0.0123');
    expect(formatUsd(12345.6)).toBe('$12,346');
    expect(formatUsd(null)).toBe('—');
  });
});

describe('prompt sets', () => {
  it('the built-in set: unique ids, several tasks, from a few words to a paragraph', () => {
    expect(new Set(BUILTIN_PROMPTS.map((p) => p.id)).size).toBe(BUILTIN_PROMPTS.length);
    expect(new Set(BUILTIN_PROMPTS.map((p) => p.task)).size).toBeGreaterThanOrEqual(8);
    const words = BUILTIN_PROMPTS.map((p) => p.text.split(/\s+/).length);
    expect(Math.min(...words)).toBeLessThanOrEqual(5);
    expect(Math.max(...words)).toBeGreaterThanOrEqual(60);
  });
  it('parses the AlpacaEval fixture: 805 instructions, sub-dataset as the task', () => {
    const set = parseAlpaca(readFileSync(ALPACA_FIXTURE, 'utf8'));
    expect(set).toHaveLength(805);
    expect(set[0]).toEqual({ id: 'alpaca/0', text: 'What are the names of some famous actors that started their careers on Broadway?', task: 'helpful_base' });
  });
  it('malformed sets are named errors', () => {
    expect(() => parseAlpaca('{"instruction": "x"}')).toThrow(PromptSetError);
    expect(() => parseAlpaca('[{"instruction": "a"}, {"output": "b"}]')).toThrow(/record 1 has no "instruction"/);
    expect(() => parseAlpaca('[')).toThrow(/not JSON/);
    expect(() => parseAlpaca('[]')).toThrow(/empty/);
  });
  it('seeded sample: same seed same prompts, in set order, no repeats; another seed differs; all keeps all', () => {
    const items = Array.from({ length: 805 }, (_, i) => i);
    const a = samplePrompts(items, 20, 1);
    expect(a).toEqual(samplePrompts(items, 20, 1));
    expect(a).toHaveLength(20);
    expect(new Set(a).size).toBe(20);
    expect([...a].sort((x, y) => x - y)).toEqual(a);
    expect(samplePrompts(items, 20, 2)).not.toEqual(a);
    expect(samplePrompts(items, 'all', 1)).toEqual(items);
    expect(samplePrompts(items.slice(0, 12), 100, 1)).toHaveLength(12);
    expect(() => samplePrompts(items, 0, 1)).toThrow(PromptSetError);
  });
  it('the sample is uniform: over 2000 seeds each of 10 items is drawn about 3/10 of the time', () => {
    const items = Array.from({ length: 10 }, (_, i) => i);
    const counts = new Array<number>(10).fill(0);
    for (let seed = 0; seed < 2000; seed++) for (const i of samplePrompts(items, 3, seed)) counts[i]!++;
    // expected 600 each; binomial sd ~ 20.5, so +-90 is over 4 sd
    for (const c of counts) expect(Math.abs(c - 600)).toBeLessThan(90);
  });
});

describe('the Alpaca set from a hub in dataset layout (real client, local server)', () => {
  const servers: http.Server[] = [];
  afterEach(() => servers.splice(0).forEach((s) => s.close()));
  async function serve(handler: http.RequestListener): Promise<string> {
    const s = http.createServer(handler);
    servers.push(s);
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    return `http://127.0.0.1:${(s.address() as AddressInfo).port}`;
  }

  it('GETs <hub>/datasets/tatsu-lab/alpaca_eval/resolve/main/alpaca_eval.json and parses it', async () => {
    const paths: string[] = [];
    const body = readFileSync(ALPACA_FIXTURE);
    const base = await serve((req, res) => {
      paths.push(req.url!);
      if (req.url === '/datasets/tatsu-lab/alpaca_eval/resolve/main/alpaca_eval.json') res.writeHead(200, { 'Content-Type': 'application/json' }).end(body);
      else res.writeHead(404, { 'X-Error-Code': 'EntryNotFound' }).end();
    });
    const set = await loadAlpacaPrompts({ baseUrl: base });
    expect(set).toHaveLength(805);
    expect(paths).toEqual([`/datasets/${ALPACA_SOURCE.repo}/resolve/main/${ALPACA_SOURCE.file}`]);
  });
  it('a missing dataset is a HubError naming it; a 503 is retried', async () => {
    let calls = 0;
    const base = await serve((_req, res) => {
      calls++;
      res.writeHead(calls === 1 ? 503 : 404).end();
    });
    await expect(loadAlpacaPrompts({ baseUrl: base, backoffMs: 1 })).rejects.toThrow(HubError);
    expect(calls).toBe(2);
    await expect(loadAlpacaPrompts({ baseUrl: base, backoffMs: 1 })).rejects.toThrow(/dataset tatsu-lab\/alpaca_eval: alpaca_eval\.json/);
  });
  it('dataset URLs: encoded revision, no path traversal', () => {
    expect(datasetFileUrl('a/b', 'x/y.json', { baseUrl: 'http://h/', revision: 'refs/pr/1' })).toBe('http://h/datasets/a/b/resolve/refs%2Fpr%2F1/x/y.json');
    expect(() => datasetFileUrl('a/b', '../secret')).toThrow(HubError);
  });
});

const run = (ttftMs: number, e2eMs: number, tokens: number) => ({ ttftMs, e2eMs, tokens });

describe('per-engine summary and CSV', () => {
  // Two prompts (10 and 30 tokens), two runs each.
  const records: PromptRecord[] = [
    { id: 'p1', task: 't', text: 'a', promptTokens: 10, results: { f16: { text: 'x', ids: [1], runs: [run(100, 500, 5), run(200, 600, 5)], rougeL: 1, exactMatch: 1, tokenAgreement: 1 }, int8: { text: 'y', ids: [2], runs: [run(50, 250, 3), run(50, 1050, 1)], rougeL: 0.5, exactMatch: 0, tokenAgreement: 0.25 } } },
    { id: 'p2', task: 't', text: 'b', promptTokens: 30, results: { f16: { text: 'z', ids: [3], runs: [run(300, 700, 9), run(100, 900, 9)], rougeL: 1, exactMatch: 1, tokenAgreement: 1 }, int8: { text: 'z', ids: [3], runs: [run(150, 350, 5), run(150, 350, 5)], rougeL: 1, exactMatch: 1, tokenAgreement: 1 } } },
  ];
  const mem = { weightBytes: 1000, kvCacheBytes: 200, peakBytes: 1500, contextLength: 512 };

  it('throughput, percentiles, quality and cost from the runs', () => {
    const s = summarizeEngine('f16', 'f16', records, mem, 3.6, 2);
    // prefill: 10/0.1, 10/0.2, 30/0.3, 30/0.1 = 100, 50, 100, 300
    expect(s.prefillTokensPerSecond.mean).toBeCloseTo(137.5, 9);
    expect(s.prefillTokensPerSecond.count).toBe(4);
    // decode: 4/0.4, 4/0.4, 8/0.4, 8/0.8 = 10, 10, 20, 10 -> mean 12.5, sample std 5
    expect(s.decodeTokensPerSecond.mean).toBeCloseTo(12.5, 9);
    expect(s.decodeTokensPerSecond.std).toBeCloseTo(5, 9);
    // TTFT 100, 200, 300, 100: nearest rank p50 = 2nd smallest = 100, p95 = p99 = 300
    expect(s.timeToFirstTokenMs).toMatchObject({ p50: 100, p95: 300, p99: 300, count: 4 });
    expect(s.endToEndLatencyMs).toMatchObject({ p50: 600, p95: 900, mean: 675 });
    expect(s.generatedTokens).toBe(28);
    expect(s.baseline).toBe(true);
    // $3.60/hour at 12.5 tok/s: 3.6 / 45000 * 1e6 = $80
    expect(s.cost.usdPerMillionTokens).toBeCloseTo(80, 9);
  });
  it('a one-token run has no decode rate; quality is the mean over prompts', () => {
    const s = summarizeEngine('int8', 'f16', records, mem, 1, 4);
    // decode: 2/0.2 = 10, (one token: none), 4/0.2 = 20, 20
    expect(s.decodeTokensPerSecond.count).toBe(3);
    expect(s.decodeTokensPerSecond.mean).toBeCloseTo(50 / 3, 9);
    expect(s.quality).toEqual({ against: 'f16', runsCompared: 4, rougeL: 0.75, exactMatch: 0.5, tokenAgreement: 0.625 });
    expect(s.baseline).toBe(false);
  });
  it('CDF points: sorted values with their cumulative fraction', () => {
    expect(cdfPoints([30, 10, 20, 40])).toEqual([{ x: 10, p: 0.25 }, { x: 20, p: 0.5 }, { x: 30, p: 0.75 }, { x: 40, p: 1 }]);
  });
  it('CSV: a header and one row per engine; cells with commas or quotes are quoted', () => {
    const report = {
      date: '2026-11-24T00:00:00.000Z', model: { name: 'm', synthetic: false }, tags: { adapter: { name: 'gpu, "x"' }, browser: 'Mozilla/5.0 (KHTML, like Gecko)' },
      settings: { promptSet: 'builtin', maxNewTokens: 8, repetitions: 2 }, prompts: records,
      engines: [summarizeEngine('f16', 'f16', records, mem, 3.6, 2), summarizeEngine('int8', 'f16', records, { ...mem, peakBytes: null }, 3.6, 4)],
    } as unknown as SuiteReport;
    const lines = suiteCsv(report).trimEnd().split('\n');
    expect(lines[0]).toBe(CSV_COLUMNS.join(','));
    expect(lines).toHaveLength(3);
    expect(lines[1]).toContain('"gpu, ""x""","Mozilla/5.0 (KHTML, like Gecko)",builtin,2,8,2,f16,true');
    expect(csvCells(lines[2]!)).toHaveLength(CSV_COLUMNS.length);
    // no peak for int8: an empty cell, not "null"
    expect(lines[2]).not.toContain('null');
  });
});

describe('GPU buffer memory tracker', () => {
  function fakeDevice() {
    return { createBuffer: (d: GPUBufferDescriptor) => ({ size: d.size, destroy() {} }) } as unknown as GPUDevice;
  }
  it('counts live and peak bytes per owner; destroy counts once; attach is idempotent', () => {
    const device = fakeDevice();
    const t = BufferMemoryTracker.attach(device);
    expect(BufferMemoryTracker.attach(device)).toBe(t);
    t.owner = 'f16';
    const a = device.createBuffer({ size: 100, usage: 0 });
    const b = device.createBuffer({ size: 50, usage: 0 });
    b.destroy();
    b.destroy();
    const c = device.createBuffer({ size: 30, usage: 0 });
    t.owner = 'int8';
    device.createBuffer({ size: 10, usage: 0 });
    t.owner = null;
    device.createBuffer({ size: 7, usage: 0 });
    expect(t.of('f16')).toEqual({ live: 130, peak: 150 });
    expect(t.of('int8')).toEqual({ live: 10, peak: 10 });
    // 100 + 50 was the most at once: 150
    expect(t.total).toEqual({ live: 147, peak: 150 });
    a.destroy();
    c.destroy();
    t.resetPeak('f16');
    expect(t.of('f16')).toEqual({ live: 0, peak: 0 });
  });
});

describe('prompt ids for models without a tokenizer', () => {
  it('a list of integers is used as it is; other text is BOS + UTF-8 bytes mod the vocabulary', () => {
    expect(idsFromPrompt(' 1, 403  407 ', 512, 1)).toEqual([1, 403, 407]);
    expect(idsFromPrompt('Hé', 512, 1)).toEqual([1, 72, 0xc3, 0xa9]);
    expect(idsFromPrompt('Hé', 100, null)).toEqual([72, 0xc3 % 100, 0xa9 % 100]);
    expect(() => idsFromPrompt('1 600', 512, 1)).toThrow(PromptIdsError);
  });
});

/** An engine that replays scripted outputs with scripted timestamps: 100 ms to the first token, 10 ms per token after. */
function scriptedEngine(outputs: (promptLength: number, call: number) => number[], contextLength = 64) {
  let calls = 0;
  const engine = {
    config: presetConfig('tiny'),
    tokenizer: null,
    contextLength,
    weightBytes: 1000,
    kvBytes: 200,
    async *generate(ids: number[], o: GenerateOptions): AsyncGenerator<GeneratedToken> {
      const out = outputs(ids.length, calls++).slice(0, o.maxNewTokens);
      for (const [index, id] of out.entries()) {
        if (o.signal?.aborted) return;
        yield { id, index, timeMs: 100 + 10 * index };
      }
    },
  };
  return engine as unknown as Engine;
}

/**
 * The scripted engine with generateBatch: every sequence joins at 10 ms x its index, its tokens
 * come 100 ms after it joined and 10 ms apart, interleaved with the others'; setMaxBatch is recorded.
 */
function scriptedBatchEngine(outputs: (promptLength: number, call: number) => number[], rebuilt: number[]) {
  const engine = scriptedEngine(outputs) as unknown as Record<string, unknown>;
  let maxBatch = 1;
  let calls = 0;
  engine.forward = { get shape() { return { maxBatch }; } };
  engine.lost = false;
  engine.setMaxBatch = async (n: number) => {
    rebuilt.push(n);
    maxBatch = n;
  };
  engine.generateBatch = async function* (seqs: BatchSequence[], o: BatchOptions): AsyncGenerator<BatchToken> {
    if ((o.batch ?? 1) > maxBatch) throw new Error(`batch ${o.batch} on an engine built for ${maxBatch}`);
    const outs = seqs.map((q) => outputs(q.promptIds.length, calls++).slice(0, q.maxNewTokens));
    const longest = Math.max(...outs.map((x) => x.length));
    for (let index = 0; index < longest; index++) {
      for (const [seq, out] of outs.entries()) {
        if (index >= out.length) continue;
        const startMs = 10 * seq;
        yield { seq, startMs, id: out[index]!, index, timeMs: startMs + 100 + 10 * index, last: index === out.length - 1 };
      }
    }
  };
  return engine as unknown as Engine;
}

const settings = (o: Partial<SuiteSettings> = {}): SuiteSettings => ({
  promptSet: 'builtin', sampleSize: 'all', sampleSeed: 1, engines: ['f16', 'int8'], maxNewTokens: 4, warmup: 1, repetitions: 2,
  sampling: GREEDY, chat: false, pricePerHour: 2, ...o,
});
const tags = { adapter: { name: 'fake', vendor: '', architecture: '', device: '', description: '' }, features: [], browser: 'test', runtime: 'node' as const };

describe('runSuite with scripted engines', () => {
  const prompts = [{ id: 'a', text: 'hi', task: 't' }, { id: 'b', text: '5 6 7 8 9', task: 't' }, { id: 'long', text: 'x'.repeat(80), task: 't' }];

  it('baseline compared with its own later runs (1 exactly); the other engine by hand-computed ROUGE-L and agreement', async () => {
    const engines: Record<string, Engine> = {
      f16: scriptedEngine(() => [1, 2, 3, 4]),
      int8: scriptedEngine((len) => (len === 3 ? [1, 2, 3, 9] : [1, 2, 3, 4])),
    };
    const released: string[] = [];
    const seen: SuiteProgress[] = [];
    const r = await runSuite({
      settings: settings(), prompts, promptSource: 'built-in', setSize: 3, modelName: 'm', synthetic: true, tags,
      onProgress: (p) => seen.push(p),
      open: async (name): Promise<SuiteEngineHandle> => ({ engine: engines[name]!, peakBytes: () => 1500, release: () => void released.push(name) }),
    });
    expect(released).toEqual(['f16', 'int8']);
    // "hi" = BOS + 2 bytes = 3 tokens; "5 6 7 8 9" = 5 literal ids; 81 tokens do not fit a context of 64
    expect(r.prompts.map((p) => [p.id, p.promptTokens])).toEqual([['a', 3], ['b', 5]]);
    expect(r.skipped).toEqual([{ id: 'long', reason: '81 prompt tokens leave no room in the context of 64' }]);
    const [f16, int8] = r.engines;
    expect(f16!.quality).toEqual({ against: 'f16', runsCompared: 2, rougeL: 1, exactMatch: 1, tokenAgreement: 1 });
    // prompt a: "1 2 3 9" vs "1 2 3 4": LCS 3 of 4 words -> 0.75, 3 of 4 ids agree; prompt b identical
    expect(int8!.quality).toEqual({ against: 'f16', runsCompared: 4, rougeL: 0.875, exactMatch: 0.5, tokenAgreement: 0.875 });
    expect(r.prompts[0]!.results.int8!.text).toBe('1 2 3 9');
    // 3 decode steps in 30 ms = 100 tok/s; prefill 3/0.1 and 5/0.1 tokens/s
    expect(f16!.decodeTokensPerSecond.mean).toBeCloseTo(100, 9);
    expect(f16!.prefillTokensPerSecond.mean).toBeCloseTo(40, 9);
    expect(f16!.endToEndLatencyMs.p99).toBe(130);
    expect(f16!.peakBytes).toBe(1500);
    // 2 engines x (1 warm-up + 2 prompts x 2 runs) = 10 generations
    const last = seen[seen.length - 1]!;
    expect(last).toMatchObject({ engine: 'int8', phase: 'measure', prompt: 2, prompts: 2, done: 9, total: 10 });
    expect(seen.filter((p) => p.phase === 'measure').map((p) => `${p.engine}:${p.prompt}`)).toEqual(['f16:1', 'f16:1', 'f16:2', 'f16:2', 'int8:1', 'int8:1', 'int8:2', 'int8:2']);
    expect(r.model).toMatchObject({ name: 'm', synthetic: true, contextLength: 64 });
  });

  it('batch 2: every prompt through one continuous batch per repetition, its times its own (from when it joined), the pass rebuilt for 2 sequences and back', async () => {
    const rebuilt: Record<string, number[]> = { f16: [], int8: [] };
    const engines: Record<string, Engine> = {
      f16: scriptedBatchEngine(() => [1, 2, 3, 4], rebuilt.f16!),
      int8: scriptedBatchEngine((len) => (len === 3 ? [1, 2, 3, 9] : [1, 2, 3, 4]), rebuilt.int8!),
    };
    const r = await runSuite({
      settings: settings({ batch: 2 }), prompts, promptSource: 'built-in', setSize: 3, modelName: 'm', synthetic: true, tags,
      open: async (name): Promise<SuiteEngineHandle> => ({ engine: engines[name]!, peakBytes: () => 1500, release: () => {} }),
    });
    expect(rebuilt).toEqual({ f16: [2, 1], int8: [2, 1] });
    expect(r.settings.batch).toBe(2);
    // The same outputs and quality as one prompt at a time (the scripts do not depend on the batch).
    expect(r.engines[1]!.quality).toEqual({ against: 'f16', runsCompared: 4, rougeL: 0.875, exactMatch: 0.5, tokenAgreement: 0.875 });
    // The second prompt joined 10 ms after the first; its times count from then: 100 ms to its first token, 30 more to its last.
    for (const p of r.prompts) for (const run of p.results.f16!.runs) expect(run).toEqual({ ttftMs: 100, e2eMs: 130, tokens: 4 });
    expect(r.engines[0]!.decodeTokensPerSecond.mean).toBeCloseTo(100, 9);
  });

  it('a non-deterministic baseline shows below 1 against itself', async () => {
    const flaky = scriptedEngine((_len, call) => (call % 2 ? [1, 2, 3, 4] : [1, 2, 5, 6]));
    const r = await runSuite({
      settings: settings({ engines: ['f16'], warmup: 0 }), prompts: prompts.slice(0, 1), promptSource: 'built-in', setSize: 3, modelName: 'm', synthetic: true, tags,
      open: async () => ({ engine: flaky, peakBytes: () => null, release: () => {} }),
    });
    expect(r.engines[0]!.quality.exactMatch).toBe(0);
    expect(r.engines[0]!.quality.tokenAgreement).toBe(0.5);
  });

  it('one engine (the app\'s candidate alone): speed kept, and no quality (NaN: empty CSV cells, null in JSON), never 1 by definition', async () => {
    const r = await runSuite({
      settings: settings({ engines: ['q4'], repetitions: 1 }), prompts: prompts.slice(0, 2), promptSource: 'built-in', setSize: 3, modelName: 'm', synthetic: true, tags,
      open: async () => ({ engine: scriptedEngine(() => [1, 2, 3, 4]), peakBytes: () => 1500, release: () => {} }),
    });
    // What runSuite reports on its own: one run of the baseline compares nothing, so no quality.
    expect(r.engines[0]!.quality).toEqual({ against: 'q4', runsCompared: 0, rougeL: NaN, exactMatch: NaN, tokenAgreement: NaN });
    const alone = withoutSelfQuality(r);
    const [q4] = alone.engines;
    expect(q4!.quality.runsCompared).toBe(0);
    for (const k of ['rougeL', 'exactMatch', 'tokenAgreement'] as const) {
      expect(q4!.quality[k]).toBeNaN();
      for (const p of alone.prompts) expect(p.results.q4![k]).toBeNaN();
    }
    expect(q4!.decodeTokensPerSecond).toEqual(r.engines[0]!.decodeTokensPerSecond);
    expect(q4!.endToEndLatencyMs).toEqual(r.engines[0]!.endToEndLatencyMs);
    expect(q4!.peakBytes).toBe(1500);
    expect(q4!.cost).toEqual(r.engines[0]!.cost);
    expect(alone.prompts.map((p) => p.results.q4!.text)).toEqual(r.prompts.map((p) => p.results.q4!.text));
    const json = JSON.parse(JSON.stringify(alone)) as SuiteReport;
    expect(json.engines[0]!.quality).toEqual({ against: 'q4', runsCompared: 0, rougeL: null, exactMatch: null, tokenAgreement: null });
    const [head, row] = suiteCsv(alone).trimEnd().split('\n');
    const cell = (name: string) => csvCells(row!)[head!.split(',').indexOf(name)];
    expect(head).toBe(CSV_COLUMNS.join(','));
    for (const c of ['rouge_l_f1', 'exact_match', 'token_agreement']) expect(cell(c)).toBe('');
    expect(Number(cell('decode_tok_s_mean'))).toBeCloseTo(100, 9);
    // Two engines: as runSuite made it.
    const pair = await runSuite({
      settings: settings({ warmup: 0, repetitions: 1 }), prompts: prompts.slice(0, 1), promptSource: 'built-in', setSize: 3, modelName: 'm', synthetic: true, tags,
      open: async () => ({ engine: scriptedEngine(() => [1, 2, 3, 4]), peakBytes: () => null, release: () => {} }),
    });
    expect(withoutSelfQuality(pair)).toBe(pair);
  });

  it('cancel: rejects with an AbortError and releases the engine it held', async () => {
    const abort = new AbortController();
    const released: string[] = [];
    const p = runSuite({
      settings: settings(), prompts, promptSource: 'built-in', setSize: 3, modelName: 'm', synthetic: true, tags, signal: abort.signal,
      onProgress: (x) => x.done >= 2 && abort.abort(),
      open: async (name) => ({ engine: scriptedEngine(() => [1, 2, 3, 4]), peakBytes: () => null, release: () => void released.push(name) }),
    });
    await expect(p).rejects.toMatchObject({ name: 'AbortError' });
    expect(released).toEqual(['f16']);
  });

  it('a teacher-forced evaluation of the baseline\'s replies: every engine opened at once, each prompt and its reply one sequence; in the report, CSV and text', async () => {
    const V = presetConfig('tiny').vocabSize;
    // The baseline is sure of the token that follows (it reads the window); the candidate is uniform:
    // perplexity 1 and V, KL ln V at every position.
    const withLogits = (engine: Engine, sure: boolean) =>
      Object.assign(engine, {
        async *logitChunks(ids: number[]) {
          for (let pos = 0; pos < ids.length; pos += 4) {
            const rows = Math.min(4, ids.length - pos);
            const logits = new Float32Array(rows * V);
            if (sure) for (let r = 0; r < rows; r++) if (pos + r + 1 < ids.length) logits[r * V + ids[pos + r + 1]!] = 60;
            yield { pos, rows, logits };
          }
        },
      }) as Engine;
    const held = new Set<string>();
    let together = 0;
    const engines: Record<string, Engine> = { f16: withLogits(scriptedEngine(() => [1, 2, 3, 4]), true), int8: withLogits(scriptedEngine(() => [1, 2, 3, 9]), false) };
    const seen: SuiteProgress[] = [];
    const r = await runSuite({
      settings: settings({ warmup: 0, repetitions: 1, eval: { text: 'replies' } }), prompts: prompts.slice(0, 2), promptSource: 'built-in', setSize: 3, modelName: 'm', synthetic: true, tags,
      onProgress: (p) => seen.push(p),
      open: async (name) => {
        held.add(name);
        together = Math.max(together, held.size);
        return { engine: engines[name]!, peakBytes: () => null, release: () => void held.delete(name) };
      },
    });
    expect(together).toBe(2);
    expect(held.size).toBe(0);
    const ev = r.eval!;
    // "hi": BOS + 2 bytes, then the f16 reply 1 2 3 4; "5 6 7 8 9" then 1 2 3 4
    expect(ev).toMatchObject({ source: 'replies', text: 'f16 replies to 2 prompts', sequences: 2, tokens: 7 + 9, positions: 6 + 8, baseline: 'f16', contextLength: 64, stride: 32, windows: 2 });
    const [f16, int8] = ev.engines;
    expect(f16!.perplexity).toBeCloseTo(1, 9);
    expect(f16!.vsBaseline).toBeUndefined();
    expect(int8!.perplexity).toBeCloseTo(V, 6);
    expect(int8!.vsBaseline!.meanKl).toBeCloseTo(Math.log(V), 6);
    expect(seen.filter((p) => p.phase === 'eval').map((p) => `${p.prompt}/${p.prompts}`)).toEqual(['0/0', '1/2', '2/2']);
    const [head, f16Row, int8Row] = suiteCsv(r).trimEnd().split('\n');
    const cell = (row: string, name: string) => csvCells(row)[head!.split(',').indexOf(name)];
    expect(cell(int8Row!, 'eval_text')).toBe('f16 replies to 2 prompts');
    expect(cell(int8Row!, 'eval_positions')).toBe('14');
    expect(Number(cell(int8Row!, 'perplexity'))).toBeCloseTo(V, 6);
    expect(Number(cell(int8Row!, 'kl_mean'))).toBeCloseTo(Math.log(V), 6);
    expect(cell(f16Row!, 'kl_mean')).toBe('');
    expect(Number(cell(f16Row!, 'perplexity'))).toBeCloseTo(1, 9);
    expect(renderSuiteReport(r)).toContain("teacher-forced evaluation (the baseline's replies to the prompts):");
    // No evaluation asked: no eval in the report, empty cells.
    const plain = await runSuite({
      settings: settings({ warmup: 0, repetitions: 1 }), prompts: prompts.slice(0, 1), promptSource: 'built-in', setSize: 3, modelName: 'm', synthetic: true, tags,
      open: async (name) => ({ engine: engines[name]!, peakBytes: () => null, release: () => {} }),
    });
    expect(plain.eval).toBeUndefined();
    const [h2, row2] = suiteCsv(plain).trimEnd().split('\n');
    expect(csvCells(row2!)[h2!.split(',').indexOf('perplexity')]).toBe('');
  });

  it('bad settings are named errors before any engine is opened', async () => {
    const open = async (): Promise<SuiteEngineHandle> => {
      throw new Error('must not open');
    };
    const base = { prompts, promptSource: 'built-in', setSize: 3, modelName: 'm', synthetic: true, tags, open };
    await expect(runSuite({ ...base, settings: settings({ repetitions: 0 }) })).rejects.toThrow(SuiteSettingsError);
    await expect(runSuite({ ...base, settings: settings({ engines: ['f16', 'f16'] }) })).rejects.toThrow(/listed twice/);
    await expect(runSuite({ ...base, settings: settings({ pricePerHour: -1 }) })).rejects.toThrow(/hourly price/);
    await expect(runSuite({ ...base, settings: settings({ eval: { text: 'custom' } }), evalText: '  ' })).rejects.toThrow(/evaluation text is empty/);
    await expect(runSuite({ ...base, settings: settings({ eval: { text: 'builtin', contextLength: 64, stride: 64 } }) })).rejects.toThrow(/evaluation stride/);
  });
});

describe('command line: --suite', () => {
  it('defaults: f16 then int8, 64 new tokens, 1 warm-up, 3 runs, greedy, $2/hour; Alpaca samples 20, built-in takes all', async () => {
    const { parseArgs } = await import('../../src/bench/args');
    const a = parseArgs(['--suite', 'alpaca', '--model', 'synthetic:tiny']);
    expect(a.mode).toBe('suite');
    if (a.mode !== 'suite') return;
    expect(a.options.settings).toEqual({
      promptSet: 'alpaca', sampleSize: 20, sampleSeed: 1, engines: ['f16', 'int8'], maxNewTokens: 64, warmup: 1, repetitions: 3,
      sampling: GREEDY, chat: false, pricePerHour: 2,
    });
    const b = parseArgs(['--suite', 'builtin', '--model', 'M', '--sample', '5', '--price', '3.5', '--chat', '--hub', 'http://h', '--json', '-']);
    if (b.mode !== 'suite') throw new Error('suite mode expected');
    expect(b.options).toMatchObject({ model: 'M', hubUrl: 'http://h', settings: { sampleSize: 5, pricePerHour: 3.5, chat: true } });
    expect(b.json).toBe('-');
    expect(parseArgs(['--suite', 'builtin', '--model', 'M', '--eval-text', 'replies'])).toMatchObject({ options: { settings: { eval: { text: 'replies' } } } });
    expect(parseArgs(['--suite', 'builtin', '--model', 'M', '--eval-text', 'notes/essay.txt', '--eval-stride', '100'])).toMatchObject({
      options: { evalFile: 'notes/essay.txt', settings: { eval: { text: 'custom', name: 'essay.txt', stride: 100 } } },
    });
    // --batch with --suite: prompts decoded together; alone: the batch-size sweep.
    expect(parseArgs(['--suite', 'builtin', '--model', 'M', '--batch', '4'])).toMatchObject({ mode: 'suite', options: { settings: { batch: 4 } } });
    expect(parseArgs(['--batch', '1,4,16', '--model', 'M'])).toMatchObject({ mode: 'batch', options: { batches: [1, 4, 16], engines: ['f16', 'int8'], promptTokens: 128, newTokens: 64, runs: 3 } });
    expect(() => parseArgs(['--suite', 'builtin', '--model', 'M', '--batch', '1,4'])).toThrow(/--batch must be an integer/);
  });
  it('usage errors name the flag', async () => {
    const { parseArgs, UsageError } = await import('../../src/bench/args');
    expect(() => parseArgs(['--suite', 'mmlu', '--model', 'M'])).toThrow(/--suite must be one of builtin, alpaca/);
    expect(() => parseArgs(['--suite', 'builtin', '--model', 'M', '--sample', '0'])).toThrow(UsageError);
    expect(() => parseArgs(['--suite', 'builtin', '--model', 'M', '--price', 'cheap'])).toThrow(/--price/);
    expect(() => parseArgs(['--suite', 'builtin', '--model', 'M', '--runs', '3'])).toThrow(/unknown flag --runs in --suite mode/);
    expect(() => parseArgs(['--suite', 'builtin', '--model', 'M', '--eval-stride', '8'])).toThrow(/--eval-stride needs --eval-text/);
    expect(() => parseArgs(['--suite', 'builtin', '--model', 'M', '--context', '256', '--eval-text', 'builtin', '--eval-stride', '256'])).toThrow(/--eval-stride must be below --context/);
  });
});
