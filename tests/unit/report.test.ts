// Benchmark statistics and report formatting (src/bench/report.ts), against hand-computed values.
import { describe, it, expect } from 'vitest';
import {
  fixedCostMs, mean, median, std, percentile, summarize, latencySummary, intervals, computeRatios, baselineEngine, familyTimes,
  formatTable, fx, fmtBytes, sig, renderModelReport, MODEL_SCHEMA, type EngineResult, type PromptResult, type ModelBenchReport,
} from '../../src/bench/report';
import { kernelFamily, timestampQuantum } from '../../src/gpu/profiler';
import { parseArgs, parseShape, UsageError } from '../../src/bench/args';
import { benchSampling } from '../../src/bench/model_bench';
import { renderKernelReport, KERNEL_SCHEMA } from '../../src/bench/kernel_report';

describe('mean and std', () => {
  it('mean of [2, 4, 4, 4, 5, 5, 7, 9] is 5; sample std is sqrt(32/7)', () => {
    const xs = [2, 4, 4, 4, 5, 5, 7, 9];
    expect(mean(xs)).toBe(5);
    // squared deviations: 9+1+1+1+0+0+4+16 = 32, over n-1 = 7
    expect(std(xs)).toBeCloseTo(Math.sqrt(32 / 7), 12);
  });
  it('one value has std 0; no values give NaN', () => {
    expect(std([3.5])).toBe(0);
    expect(mean([])).toBeNaN();
    expect(std([])).toBeNaN();
  });
  it('summarize keeps the values and the extremes', () => {
    expect(summarize([3, 1, 2])).toEqual({ mean: 2, std: 1, min: 1, max: 3, values: [3, 1, 2] });
  });
});

describe('median', () => {
  it('is the middle value of an odd count and the mean of the middle two of an even one, in any order', () => {
    expect(median([5, 1, 3])).toBe(3);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([7])).toBe(7);
    const xs = [9, 2, 8];
    median(xs);
    expect(xs).toEqual([9, 2, 8]); // not sorted in place
  });
});

describe('percentile (nearest rank)', () => {
  // 10 values, unsorted on purpose: sorted = 1..10 scaled by 10.
  const xs = [70, 10, 100, 30, 50, 20, 90, 40, 80, 60];
  it('p50 of 10 values is the 5th smallest; p95 and p99 the largest', () => {
    expect(percentile(xs, 50)).toBe(50); // ceil(0.5*10) = 5
    expect(percentile(xs, 95)).toBe(100); // ceil(9.5) = 10
    expect(percentile(xs, 99)).toBe(100);
    expect(percentile(xs, 90)).toBe(90); // ceil(9) = 9
    expect(percentile(xs, 91)).toBe(100); // ceil(9.1) = 10
  });
  it('p0 is the minimum, p100 the maximum, and the input is not reordered', () => {
    expect(percentile(xs, 0)).toBe(10);
    expect(percentile(xs, 100)).toBe(100);
    expect(xs[0]).toBe(70);
  });
  it('200 values 1..200: p50 = 100, p95 = 190, p99 = 198', () => {
    const ys = Array.from({ length: 200 }, (_, i) => 200 - i);
    expect(percentile(ys, 50)).toBe(100);
    expect(percentile(ys, 95)).toBe(190);
    expect(percentile(ys, 99)).toBe(198);
  });
  it('rejects p outside [0, 100]; empty input gives NaN', () => {
    expect(() => percentile(xs, 101)).toThrow(RangeError);
    expect(percentile([], 50)).toBeNaN();
  });
  it('latencySummary over token gaps', () => {
    const gaps = intervals([100, 110, 125, 130, 170]);
    expect(gaps).toEqual([10, 15, 5, 40]);
    expect(latencySummary(gaps)).toEqual({ count: 4, mean: 17.5, p50: 10, p95: 40, p99: 40, max: 40 });
  });
});

function prompt(P: number, prefill: number, decode: number, ttft: number): PromptResult {
  const s = (v: number) => summarize([v]);
  return {
    promptTokens: P, newTokens: 8, runs: 1, prefillTokensPerSecond: s(prefill), decodeTokensPerSecond: s(decode), timeToFirstTokenMs: s(ttft),
    decodeLatencyMs: latencySummary([1000 / decode]), gpuTime: { source: 'wall' },
  };
}
const engine = (name: string, bytes: number, results: PromptResult[]): EngineResult => ({ engine: name, weightBytes: bytes, kvCacheBytes: 4096, contextLength: 2048, loadMs: 1, results });

describe('ratios', () => {
  const f16 = engine('f16', 1000, [prompt(128, 400, 50, 320), prompt(512, 800, 40, 640)]);
  const int8 = engine('int8', 520, [prompt(128, 500, 90, 256), prompt(512, 600, 60, 853.3)]);
  it('int8 vs f16: speed-ups are tokens/s quotients, TTFT and bytes are int8 / f16', () => {
    const [r] = computeRatios([f16, int8]);
    expect(r!.engine).toBe('int8');
    expect(r!.baseline).toBe('f16');
    expect(r!.weightBytesRatio).toBeCloseTo(0.52, 12);
    expect(r!.byPrompt.map((p) => p.promptTokens)).toEqual([128, 512]);
    expect(r!.byPrompt[0]!.decodeSpeedup).toBeCloseTo(1.8, 12);
    expect(r!.byPrompt[0]!.prefillSpeedup).toBeCloseTo(1.25, 12);
    expect(r!.byPrompt[0]!.ttftRatio).toBeCloseTo(0.8, 12);
    expect(r!.byPrompt[1]!.decodeSpeedup).toBeCloseTo(1.5, 12);
    expect(r!.byPrompt[1]!.prefillSpeedup).toBeCloseTo(0.75, 12);
  });
  it('the baseline is f16 wherever it is listed, else the first engine; one engine gives no ratios', () => {
    expect(baselineEngine(['int8', 'f16'])).toBe('f16');
    expect(baselineEngine(['int8', 'f32'])).toBe('int8');
    expect(computeRatios([int8, f16])[0]!.engine).toBe('int8');
    expect(computeRatios([f16])).toEqual([]);
  });
  it('kernel families: matmul*, attention*, everything else', () => {
    const t = familyTimes({ matmul_gemv: 2, matmul_gemm: 1, attention: 0.5, rmsnorm: 0.25, sample: 0.25 }, kernelFamily);
    expect(t).toEqual({ matmul: 3, attention: 0.5, other: 0.5, total: 4 });
  });
});

describe('timestamp quantum', () => {
  it('nanosecond stamps give 1; stamps on a 65536 ns grid give 65536', () => {
    expect(timestampQuantum([16070664150993n, 16070664161483n])).toBe(1);
    expect(timestampQuantum([16046083670016n, 16046083735552n])).toBe(65536);
    expect(timestampQuantum([1024n * 3n, 1024n * 5n, 2048n])).toBe(1024);
  });
});

describe('table formatting', () => {
  it('pads columns to the widest cell, first column left, the rest right', () => {
    const t = formatTable(['engine', 'tok/s'], [['f16', 12.5], ['int8', 100]]);
    expect(t.split('\n')).toEqual(['engine  tok/s', '------  -----', 'f16      12.5', 'int8      100']);
  });
  it('explicit alignment; missing values as "-"', () => {
    const t = formatTable(['a', 'b'], [['x', 'long cell'], ['yy', 'z']], ['right', 'left']);
    expect(t.split('\n')).toEqual([' a  b', '--  ---------', ' x  long cell', 'yy  z']);
    expect(fx(undefined)).toBe('-');
    expect(fx(NaN)).toBe('-');
    expect(fx(1 / 3, 3)).toBe('0.333');
  });
  it('bytes in binary units', () => {
    expect(fmtBytes(512)).toBe('512 B');
    expect(fmtBytes(1536)).toBe('1.5 KiB');
    expect(fmtBytes(3 * 2 ** 20)).toBe('3.0 MiB');
    expect(fmtBytes(14.5 * 2 ** 30)).toBe('14.50 GiB');
  });
  it('the model report has one row per engine and prompt, and the ratio table', () => {
    const f16 = engine('f16', 1000, [prompt(128, 400, 50, 320)]);
    const int8 = engine('int8', 520, [prompt(128, 500, 90, 256)]);
    const report: ModelBenchReport = {
      schema: MODEL_SCHEMA, date: '2026-01-01T00:00:00.000Z',
      adapter: { name: 'test adapter', vendor: '', architecture: '', device: '', description: '' },
      features: { subgroups: false, shaderF16: false, timestampQuery: false, all: [] },
      settings: { model: 'synthetic:tiny', engines: ['f16', 'int8'], promptTokens: [128], newTokens: 8, runs: 1, warmup: 0, seed: 1, contextLength: null, maxRows: null, profile: false },
      model: { name: 'synthetic:tiny', modelType: 'llama', hiddenSize: 64, intermediateSize: 128, numLayers: 2, numHeads: 4, numKvHeads: 2, headDim: 16, vocabSize: 512, tiedEmbeddings: false, parameters: 139584 },
      engines: [f16, int8],
      ratios: computeRatios([f16, int8]),
    };
    const text = renderModelReport(report);
    expect(text).toContain('test adapter');
    expect(text).toMatch(/^f16 +128 +400\.0 ±0\.0 +50\.0 ±0\.0/m);
    expect(text).toMatch(/^int8 +128 +500\.0 ±0\.0 +90\.0 ±0\.0 .* wall /m);
    expect(text).toContain('int8 vs f16: weight bytes x0.520');
    expect(text).toMatch(/^128 +x1\.800 +x1\.250 +x0\.800$/m);
    expect(text).not.toContain('by kernel');
    // With timestamps: the per-kernel decode table, its sum and the profiled run's wall time.
    report.engines[0]!.results[0]!.gpuTime = {
      source: 'timestamp-query', prefillMs: { matmul: 2, attention: 1, other: 1, total: 4 }, decodeMsPerToken: { matmul: 1.5, attention: 0.25, other: 0.25, total: 2 },
      decodeKernelsMs: { matmul_gemv: 1.5, attention: 0.25, rmsnorm: 0.25 }, prefillKernelsMs: {}, invalidPasses: 0, timestampQuantumNs: 32,
      profiledWall: { timeToFirstTokenMs: 5, decodeMsPerToken: 2.5 },
    };
    const t2 = renderModelReport(report);
    expect(t2).toMatch(/^f16 +128 .* 1\.500\/0\.250\/0\.250 /m);
    expect(t2).toMatch(/^matmul_gemv +1\.500$/m);
    expect(t2).toMatch(/^sum +2\.000$/m);
    expect(t2).toMatch(/^wall \(same run\) +2\.500$/m);
    expect(t2).not.toContain('quantized');
    expect(t2).toContain('8 new tokens, greedy, seed 1');
    expect(t2).not.toContain('fixed cost');
    // With the streaming read of the same run and the step's weight bytes: what they take at that
    // rate, and the rest of the whole-pass GPU time (1.25 ms - 0.5 GB at 1,000 GB/s = 0.75 ms).
    report.bandwidth = { bytes: 1 << 30, gbPerSecond: 1000 };
    f16.decodeStreamBytes = 0.5e9;
    const g = report.engines[0]!.results[0]!.gpuTime;
    if (g.source === 'timestamp-query') g.steps = { prefillGpuMs: 3, decodeGpuMsPerToken: 1.25, decodeWallMsPerToken: 1.5 };
    expect(fixedCostMs(report, f16, f16.results[0]!)).toEqual({ streamMs: 0.5, fixedMs: 0.75 });
    expect(fixedCostMs(report, int8, int8.results[0]!), 'no GPU time').toBeUndefined();
    const t3 = renderModelReport(report);
    expect(t3).toMatch(/^weights at 1000 GB\/s +0\.500$/m);
    expect(t3).toMatch(/^fixed cost +0\.750$/m);
    expect(fixedCostMs({}, f16, f16.results[0]!), 'no bandwidth').toBeUndefined();
    report.settings.sampling = { temperature: 0.7, topK: 0, topP: 0.9, repetitionPenalty: 1, seed: 1 };
    expect(renderModelReport(report)).toContain('8 new tokens, temperature 0.7, top-p 0.9, seed 1');
  });
});

describe('command line', () => {
  it('model mode: lists, defaults, --json -', () => {
    const a = parseArgs(['--model', 'synthetic:tiny', '--engines', 'f16,int8', '--prompt-tokens', '8,16', '--new-tokens', '4', '--runs', '2', '--json', '-']);
    expect(a).toMatchObject({ mode: 'model', json: '-', options: { model: 'synthetic:tiny', engines: ['f16', 'int8'], promptTokens: [8, 16], newTokens: 4, runs: 2, warmup: 1, profile: true } });
    expect(a.mode === 'model' && benchSampling(a.options)).toEqual({ temperature: 0, topK: 0, topP: 1, repetitionPenalty: 1, seed: 1 });
  });
  it('model mode: sampling flags; the sampler is seeded by --seed', () => {
    const a = parseArgs(['--model', 'synthetic:tiny', '--temperature', '0.7', '--top-k', '40', '--top-p', '0.9', '--seed', '5']);
    expect(a.mode === 'model' && benchSampling(a.options)).toEqual({ temperature: 0.7, topK: 40, topP: 0.9, repetitionPenalty: 1, seed: 5 });
    expect(() => parseArgs(['--model', 'x', '--top-p', '1.5'])).toThrow(/--top-p/);
  });
  it('kernel mode and shapes NxK', () => {
    const a = parseArgs(['--kernels', '--shapes', '256x256,14336x4096', '--formats', 'int8', '--iters', '3']);
    expect(a).toMatchObject({ mode: 'kernels', json: null, options: { shapes: ['256x256', '14336x4096'], formats: ['int8'], iters: 3 } });
    expect(parseShape('14336x4096')).toEqual([14336, 4096]);
  });
  it('verify mode: model folders, engines default to all three', () => {
    expect(parseArgs(['--verify', 'a,b'])).toEqual({ mode: 'verify', json: null, options: { models: ['a', 'b'], engines: ['f32', 'f16', 'int8'] } });
    expect(parseArgs(['--verify', 'a', '--engines', 'int8', '--json', 'v.json'])).toMatchObject({ json: 'v.json', options: { engines: ['int8'] } });
    expect(() => parseArgs(['--verify', 'a', '--runs', '2'])).toThrow(/unknown flag --runs in --verify mode/);
  });
  it('kernel mode: GEMV variants by name', () => {
    expect(parseArgs(['--kernels', '--variants', 'all'])).toMatchObject({ options: { variants: ['all'] } });
  });
  it('usage errors name the flag', () => {
    expect(() => parseArgs(['--model', 'x', '--engines', 'fp8'])).toThrow(/unknown engine "fp8"/);
    expect(() => parseArgs(['--model', 'x', '--runs', '0'])).toThrow(UsageError);
    expect(() => parseArgs(['--kernels', '--shapes', '12x'])).toThrow(/bad shape/);
    expect(() => parseArgs(['--kernels', '--model', 'x'])).toThrow(/unknown flag --model/);
    expect(() => parseArgs([])).toThrow(/--model is required/);
  });
});

describe('significant digits', () => {
  it('three significant digits below 100, integers above', () => {
    expect(sig(0.0012345)).toBe('0.00123');
    expect(sig(1.5)).toBe('1.50');
    expect(sig(42.42)).toBe('42.4');
    expect(sig(4321.7)).toBe('4322');
    expect(sig(0)).toBe('0');
    expect(sig(Infinity)).toBe('-');
  });
});

describe('kernel-lab table', () => {
  it('one row per variant, format and shape, with GB/s and % of the read bandwidth', () => {
    const adapter = { name: 'test adapter', vendor: '', architecture: '', device: '', description: '' };
    const text = renderKernelReport({
      schema: KERNEL_SCHEMA, date: '2026-01-01T00:00:00.000Z', adapter, features: { subgroups: false, shaderF16: false, timestampQuery: true, all: ['timestamp-query'] },
      settings: { shapes: ['4096x4096'], formats: ['int8'], iters: 50, trials: 5, minPassMs: 20, bandwidthBytes: 2 ** 30, rotateBytes: 2 ** 29, gemmRows: 512, timing: 'timestamp-query', timestampQuantumNs: 65536 },
      bandwidth: [{ kernel: 'read', bytes: 2 ** 30, ms: 0.25, gbPerSecond: 4294.967296 }],
      gemv: [
        { variant: 'simple', format: 'int8', shape: '4096x4096', n: 4096, k: 4096, weightBytes: 17301504, copies: 32, iters: 1000, msMedian: 0.0155, msMin: 0.0154, gbPerSecond: 1116.2, rooflinePercent: 25.99, maxRelErrorVsReference: 0 },
        { variant: 'engine', format: 'int8', shape: '4096x4096', n: 4096, k: 4096, weightBytes: 17301504, copies: 32, iters: 1000, msMedian: 0.0091, msMin: 0.009, gbPerSecond: 1901.3, rooflinePercent: 44.27, maxRelErrorVsReference: 2e-7, sameSizeReadPercent: 91.24, overlapped: { msMedian: 0.005, gbPerSecond: 3460.3, rooflinePercent: 80.57 } },
      ],
      gemm: [{ variant: 'reference', format: 'int8', shape: '4096x4096', n: 4096, k: 4096, rows: 512, iters: 20, msMedian: 0.974, msMin: 0.97, tflops: 17.64, maxRelErrorVsReference: 0 }],
    });
    expect(text).toContain('quantized to 65536 ns');
    expect(text).toMatch(/^read +1\.00 GiB +0\.250 +4295$/m);
    expect(text).toMatch(/^4096x4096 +simple +int8 +16\.5 MiB +32 +15\.5 +15\.4 +1116 +26\.0 +- +- +0\.0e\+0$/m);
    expect(text).toMatch(/^4096x4096 +engine +int8 +16\.5 MiB +32 +9\.10 +9\.00 +1901 +44\.3 +91\.2 +80\.6 +2\.0e-7$/m);
    expect(text).toMatch(/^4096x4096 +reference +int8 +512 +0\.974 +17\.6 +0\.0e\+0$/m);
  });
});
