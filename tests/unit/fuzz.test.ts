// Seeded fuzzing of a model's files at the level that runs before any GPU work: stories260K's
// config.json, model.safetensors, tokenizer.json and a chat template are mutated (thousands of
// cases, reproducible from the seed) and put through the production checks, Engine.prepare
// (config, tokenizer, memory plan against a device's limits) and readPackedTensors (headers,
// shapes, every tensor read and converted). Each case must load or fail with one of the project's
// named errors: never a TypeError/RangeError from deep inside, a hang, or a crash. The same
// mutations go through the full GPU load path in tests/gpu/robustness.test.ts, fewer of them.
import { describe, it, expect, vi } from 'vitest';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Engine } from '../../src/model/engine';
import { readPackedTensors } from '../../src/model/weights';
import { memorySource } from '../../src/model/source';
import { modelDir } from './fixtures';
import { mutateModel, isNamedError, type Rng, rngFrom, MUTATION_KINDS, CHATML } from './mutate';

const DIR = modelDir('stories260K');
const ORIGINAL = new Map(['config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json'].map((f) => [f, new Uint8Array(readFileSync(path.join(DIR, f)))]));
const TEMPLATE = CHATML;
/** What a WebGPU adapter allows per buffer (SwiftShader's 1 GiB): absurd sizes must be refused here. */
const LIMITS = { maxStorageBufferBindingSize: 2 ** 30, maxBufferSize: 2 ** 30 };

/** Everything a load does before the GPU, the way Engine.load does it; rethrows what fails. */
async function cpuLoad(files: Map<string, Uint8Array>): Promise<void> {
  const source = memorySource('fuzz', files);
  const { config, tokenizer } = await Engine.prepare(source, { format: 'f16' }, LIMITS);
  if (tokenizer) {
    const ids = tokenizer.encode('Once upon a time, <b>Lily</b> saw a ☃.');
    tokenizer.decode(ids);
    if (tokenizer.hasChatTemplate) tokenizer.applyChatTemplate([{ role: 'user', content: 'hi' }]);
  }
  for await (const t of readPackedTensors(source, config, 'f16')) {
    if (!t.matrix && !t.vector) throw new Error(`tensor ${t.key} is empty`);
  }
}

/** Runs one case with a deadline: a case that neither succeeds nor fails in time is a hang. */
async function runCase(files: Map<string, Uint8Array>, ms: number): Promise<unknown> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const hang = new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`hung for ${ms} ms`)), ms)));
  try {
    await Promise.race([cpuLoad(files), hang]);
    return null;
  } catch (e) {
    return e;
  } finally {
    clearTimeout(timer);
  }
}

describe('fuzzing model files (CPU: parse and validate)', () => {
  it('the unmutated fixture loads', async () => {
    expect(await runCase(ORIGINAL, 10_000)).toBeNull();
    const withTemplate = new Map(ORIGINAL);
    withTemplate.set('tokenizer_config.json', new TextEncoder().encode(JSON.stringify({ bos_token: '<s>', eos_token: '</s>', chat_template: TEMPLATE })));
    expect(await runCase(withTemplate, 10_000)).toBeNull();
  });

  it('the mutator is seeded: one seed gives the same files, another seed different ones', () => {
    const a = mutateModel(ORIGINAL, rngFrom(7), TEMPLATE);
    const b = mutateModel(ORIGINAL, rngFrom(7), TEMPLATE);
    expect(a.kind).toBe(b.kind);
    expect([...a.files].every(([f, v]) => Buffer.from(v).equals(Buffer.from(b.files.get(f)!)))).toBe(true);
    const kinds = new Set(Array.from({ length: 200 }, (_, i) => mutateModel(ORIGINAL, rngFrom(1000 + i), TEMPLATE).kind));
    expect(kinds.size).toBeGreaterThan(MUTATION_KINDS.length / 2);
  });

  const CASES = 3000;
  it(`${CASES} seeded mutations: every case loads or fails with a named error, none hangs`, async () => {
    // The tokenizer library warns on the console about some broken files before failing.
    const quiet = [vi.spyOn(console, 'warn').mockImplementation(() => {}), vi.spyOn(console, 'error').mockImplementation(() => {})];
    const slow: string[] = [];
    const failures: string[] = [];
    const byError = new Map<string, number>();
    const byKind = new Map<string, { ok: number; named: number }>();
    for (let seed = 1; seed <= CASES; seed++) {
      const rng: Rng = rngFrom(seed);
      const m = mutateModel(ORIGINAL, rng, TEMPLATE);
      const t0 = performance.now();
      const err = await runCase(m.files, 5_000);
      // A file that takes seconds to refuse would freeze the app just the same (e.g. an id of 1e9
      // that made the tokenizer allocate a table that large).
      if (performance.now() - t0 > 2_000) slow.push(`seed ${seed} (${m.kind}: ${m.detail}): ${Math.round(performance.now() - t0)} ms`);
      const k = byKind.get(m.kind) ?? { ok: 0, named: 0 };
      byKind.set(m.kind, k);
      if (err === null) {
        k.ok++;
        continue;
      }
      if (isNamedError(err)) {
        k.named++;
        const name = (err as Error).name;
        byError.set(name, (byError.get(name) ?? 0) + 1);
        // A named error must say something a user can act on, not an empty or raw-object message.
        if (!(err as Error).message || /\[object Object\]/.test((err as Error).message)) failures.push(`seed ${seed} (${m.kind}): ${name} with message ${JSON.stringify((err as Error).message)}`);
      } else {
        failures.push(`seed ${seed} (${m.kind}: ${m.detail}): ${(err as Error)?.name}: ${(err as Error)?.message}`);
      }
    }
    quiet.forEach((s) => s.mockRestore());
    console.log(`[fuzz cpu] ${CASES} cases; errors ${JSON.stringify(Object.fromEntries(byError))}; per mutation ${JSON.stringify(Object.fromEntries(byKind))}`);
    expect(failures.slice(0, 10)).toEqual([]);
    expect(slow).toEqual([]);
    // The fuzzer must actually reach each file and each family of errors, or it proves little.
    for (const name of ['ConfigError', 'SafetensorsError', 'WeightError', 'TokenizerError']) expect(byError.get(name) ?? 0, name).toBeGreaterThan(10);
    expect([...byKind.values()].reduce((a, k) => a + k.ok, 0)).toBeGreaterThan(50);
  }, 120_000);
});
