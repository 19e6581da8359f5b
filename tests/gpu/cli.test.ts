// The CLI exactly as other checks call it: `npm run -s cli -- ...`, one JSON object on stdout.
import { describe, it, expect } from 'vitest';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { modelDir, reference, type GreedyCase } from '../unit/fixtures';

const run = promisify(execFile);
const root = path.resolve(__dirname, '../..');
const npm = (args: string[]) => run('npm', ['run', '-s', 'cli', '--', ...args], { cwd: root, maxBuffer: 64 << 20 });

describe('cli', () => {
  it('generate --json prints one object with the HF greedy continuation', async () => {
    const c = (reference('stories260K').ref.greedy as GreedyCase[])[1]!;
    const { stdout } = await npm(['generate', '--model', modelDir('stories260K'), '--engine', 'f16', '--prompt', c.prompt!, '--max-new-tokens', '24', '--json']);
    const lines = stdout.trim().split('\n');
    expect(lines.length).toBe(1);
    const out = JSON.parse(lines[0]!) as Record<string, unknown>;
    expect(Object.keys(out)).toEqual(expect.arrayContaining(['engine', 'adapter', 'promptIds', 'ids', 'text', 'timeToFirstTokenMs', 'decodeTokensPerSecond']));
    expect(out.engine).toBe('f16');
    expect(out.promptIds).toEqual(c.prompt_ids);
    expect(out.ids).toEqual(c.continuation_ids.slice(0, 24));
    expect(c.text!.startsWith(out.text as string)).toBe(true);
    expect(out.timeToFirstTokenMs).toBeGreaterThan(0);
    expect(out.decodeTokensPerSecond).toBeGreaterThan(0);
    expect(String(out.adapter).length).toBeGreaterThan(3);
    expect(out.finishReason).toBe('length');
  });

  it('generate --ids with sampling is reproducible for a seed and differs across seeds', async () => {
    const args = (seed: number) => ['generate', '--model', modelDir('stories260K'), '--engine', 'int8', '--ids', '1,403,407', '--max-new-tokens', '16', '--temperature', '1', '--top-k', '40', '--top-p', '0.95', '--seed', String(seed), '--ignore-eos', '--json'];
    const [a, b, c] = await Promise.all([npm(args(7)), npm(args(7)), npm(args(8))]);
    const ids = (r: { stdout: string }) => (JSON.parse(r.stdout) as { ids: number[] }).ids;
    expect(ids(a)).toEqual(ids(b));
    expect(ids(a)).toHaveLength(16);
    expect(ids(c)).not.toEqual(ids(a));
  });

  it('logits writes [ids.length, vocab] float32 matching the oracle', async () => {
    const { ref, logits } = reference('llama-gqa-tied-f32');
    const ids = ref.input_ids.slice(0, 9);
    const out = path.join(mkdtempSync(path.join(tmpdir(), 'logits-')), 'l.f32');
    await npm(['logits', '--model', modelDir('llama-gqa-tied-f32'), '--engine', 'f32', '--ids', ids.join(','), '--out', out]);
    const buf = readFileSync(out);
    const got = new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4);
    const V = ref.logits_shape[1];
    expect(got.length).toBe(ids.length * V);
    let maxErr = 0;
    for (let i = 0; i < got.length; i++) maxErr = Math.max(maxErr, Math.abs(got[i]! - logits[i]!));
    expect(maxErr).toBeLessThan(1e-3);
  });

  it('generate --model HF_ID downloads from a hub (local server in hub layout)', async () => {
    const dir = modelDir('stories260K');
    const server = createServer((req, res) => {
      const m = /^\/fixtures\/stories260K\/resolve\/main\/([\w.-]+)$/.exec(req.url ?? '');
      const file = m && path.join(dir, m[1]!);
      if (!file || !existsSync(file)) return res.writeHead(404).end();
      const body = readFileSync(file);
      res.writeHead(200, { 'content-length': body.length });
      res.end(req.method === 'HEAD' ? undefined : body);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const hub = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const c = (reference('stories260K').ref.greedy as GreedyCase[])[4]!;
      const { stdout } = await npm(['generate', '--model', 'fixtures/stories260K', '--hub', hub, '--engine', 'f32', '--prompt', c.prompt!, '--max-new-tokens', '12', '--json']);
      expect((JSON.parse(stdout) as { ids: number[] }).ids).toEqual(c.continuation_ids.slice(0, 12));
      await expect(npm(['generate', '--model', 'fixtures/missing', '--hub', hub, '--engine', 'f32', '--ids', '1'])).rejects.toMatchObject({
        stderr: expect.stringContaining('HubError'),
      });
    } finally {
      server.close();
    }
  });

  it('fails with a named error and exit code for bad input', async () => {
    // A model folder of an architecture the engine does not run.
    const dir = mkdtempSync(path.join(tmpdir(), 'cli-gemma-'));
    const config = JSON.parse(readFileSync(path.join(modelDir('stories260K'), 'config.json'), 'utf8')) as Record<string, unknown>;
    writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ ...config, model_type: 'gemma' }));
    await expect(npm(['generate', '--model', dir, '--engine', 'f16', '--ids', '1', '--json'])).rejects.toMatchObject({
      code: 1,
      stderr: expect.stringContaining('UnsupportedModelError: model_type "gemma" is not supported'),
    });
    await expect(npm(['generate', '--model', modelDir('stories260K'), '--engine', 'q8'])).rejects.toMatchObject({ code: 2, stderr: expect.stringContaining('--engine must be one of f32, f16, int8, q4, got "q8"') });
  });
});
