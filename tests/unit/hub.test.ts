// The hub client against a real local HTTP server that imitates the hub's resolve URLs, serving
// stories260K (and a two-shard split of it), with failures injected per test.
import { describe, it, expect, afterEach } from 'vitest';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { hubSource, downloadFile, fileUrl, validateRepoId, parseModelInput, HubError, InvalidRepoIdError, type DownloadProgress } from '../../src/hub/hub';
import { folderSource, memorySource, MissingFileError, type ModelSource } from '../../src/model/source';
import { readPackedTensors, type PackedTensor } from '../../src/model/weights';
import { parseConfig } from '../../src/model/config';
import { modelDir } from './fixtures';

const REPO = 'test-owner/stories260K';
const DIR = modelDir('stories260K');
const FILES = new Map(readdirSync(DIR).map((f) => [f, new Uint8Array(readFileSync(path.join(DIR, f)))]));
const WEIGHTS = FILES.get('model.safetensors')!;

type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => void;
interface Server {
  base: string;
  requests: Array<{ method: string; url: string; headers: http.IncomingHttpHeaders }>;
  close(): Promise<void>;
}
const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function serve(handler: Handler): Promise<Server> {
  const requests: Server['requests'] = [];
  const server = http.createServer((req, res) => {
    requests.push({ method: req.method!, url: req.url!, headers: req.headers });
    handler(req, res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const s: Server = {
    base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    close: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
  servers.push(s);
  return s;
}

function fail(res: http.ServerResponse, status: number, code?: string): void {
  res.writeHead(status, code ? { 'X-Error-Code': code } : {});
  res.end(`error ${status}`);
}

/** Serves `body` whole, or from a `Range: bytes=N-` offset when `ranges`. */
function sendBody(req: http.IncomingMessage, res: http.ServerResponse, body: Uint8Array, ranges = true): void {
  const r = ranges ? /^bytes=(\d+)-$/.exec(req.headers.range ?? '') : null;
  const start = r ? Number(r[1]) : 0;
  const headers = { 'Content-Type': 'application/octet-stream', ETag: '"v1"', 'X-Repo-Commit': 'c0ffee', ...(ranges ? { 'Accept-Ranges': 'bytes' } : {}) };
  if (r) res.writeHead(206, { ...headers, 'Content-Range': `bytes ${start}-${body.length - 1}/${body.length}`, 'Content-Length': body.length - start });
  else res.writeHead(200, { ...headers, 'Content-Length': body.length });
  if (req.method === 'HEAD') res.end();
  else res.end(body.subarray(start));
}

/** The hub's resolve URLs over in-memory repos. */
function hub(repos: Record<string, Map<string, Uint8Array>>): Handler {
  return (req, res) => {
    const m = /^\/([^/]+\/[^/]+)\/resolve\/([^/]+)\/(.+)$/.exec(req.url ?? '');
    const files = m ? repos[m[1]!] : undefined;
    if (!m || !files) return fail(res, 404, 'RepoNotFound');
    if (decodeURIComponent(m[2]!) !== 'main') return fail(res, 404, 'RevisionNotFound');
    const body = files.get(decodeURIComponent(m[3]!));
    if (!body) return fail(res, 404, 'EntryNotFound');
    sendBody(req, res, body);
  };
}

/** stories260K re-split into two valid safetensors shards plus model.safetensors.index.json. */
function sharded(): Map<string, Uint8Array> {
  const len = Number(new DataView(WEIGHTS.buffer, WEIGHTS.byteOffset).getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(WEIGHTS.subarray(8, 8 + len))) as Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }>;
  const names = Object.keys(header).filter((n) => n !== '__metadata__');
  const shards = [names.filter((_, i) => i % 2 === 0), names.filter((_, i) => i % 2 === 1)];
  const out = new Map([...FILES].filter(([f]) => f !== 'model.safetensors'));
  const weightMap: Record<string, string> = {};
  shards.forEach((group, s) => {
    const file = `model-0000${s + 1}-of-00002.safetensors`;
    const h: Record<string, unknown> = {};
    const parts: Uint8Array[] = [];
    let at = 0;
    for (const n of group) {
      const t = header[n]!;
      const bytes = WEIGHTS.subarray(8 + len + t.data_offsets[0], 8 + len + t.data_offsets[1]);
      h[n] = { ...t, data_offsets: [at, at + bytes.length] };
      parts.push(bytes);
      at += bytes.length;
      weightMap[n] = file;
    }
    const json = new TextEncoder().encode(JSON.stringify(h));
    const buf = new Uint8Array(8 + json.length + at);
    new DataView(buf.buffer).setBigUint64(0, BigInt(json.length), true);
    buf.set(json, 8);
    let p = 8 + json.length;
    for (const b of parts) (buf.set(b, p), (p += b.length));
    out.set(file, buf);
  });
  out.set('model.safetensors.index.json', new TextEncoder().encode(JSON.stringify({ metadata: {}, weight_map: weightMap })));
  return out;
}

async function tensors(source: ModelSource, format: 'int8' | 'f32'): Promise<PackedTensor[]> {
  const config = parseConfig((await source.text('config.json'))!);
  const out: PackedTensor[] = [];
  for await (const t of readPackedTensors(source, config, format)) out.push(t);
  return out;
}

const bytesOf = (a: ArrayBufferView) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

function expectSameTensors(a: PackedTensor[], b: PackedTensor[]): void {
  expect(a.map((t) => t.key)).toEqual(b.map((t) => t.key));
  a.forEach((t, i) => {
    const u = b[i]!;
    expect(t.hf).toBe(u.hf);
    if (t.matrix) {
      const { data, scales, ...rest } = t.matrix;
      const { data: data2, scales: scales2, ...rest2 } = u.matrix!;
      expect(rest).toEqual(rest2);
      expect(bytesOf(data).equals(bytesOf(data2))).toBe(true);
      expect(scales ? bytesOf(scales).equals(bytesOf(scales2!)) : scales2 === undefined).toBe(true);
    } else expect(bytesOf(t.vector!).equals(bytesOf(u.vector!))).toBe(true);
  });
}

function expectMonotonic(events: DownloadProgress[], total: number, files: number): void {
  expect(events.length).toBeGreaterThan(0);
  for (let i = 1; i < events.length; i++) expect(events[i]!.bytes).toBeGreaterThanOrEqual(events[i - 1]!.bytes);
  for (const e of events) {
    expect(e.total).toBe(total);
    expect(e.filesTotal).toBe(files);
    expect(e.bytes).toBeLessThanOrEqual(total);
  }
  const last = events.at(-1)!;
  expect([last.bytes, last.filesDone]).toEqual([total, files]);
}

describe('hubSource', () => {
  it('stories260K single file: same tensors as folderSource (int8), one HEAD + one GET, progress to the total', async () => {
    const srv = await serve(hub({ [REPO]: FILES }));
    const events: DownloadProgress[] = [];
    const src = await hubSource(REPO, { baseUrl: srv.base, onProgress: (e) => events.push({ ...e }) });
    expect(src.commit).toBe('c0ffee');
    expectSameTensors(await tensors(src, 'int8'), await tensors(await folderSource(DIR), 'int8'));
    expect(await src.text('tokenizer.json')).toBe(readFileSync(path.join(DIR, 'tokenizer.json'), 'utf8'));
    expect(await src.text('model.safetensors.index.json')).toBeNull();
    expect(await src.size('model.safetensors')).toBe(WEIGHTS.length);
    const weightRequests = srv.requests.filter((r) => r.url.endsWith('/model.safetensors')).map((r) => r.method);
    expect(weightRequests.sort()).toEqual(['GET', 'HEAD']);
    expectMonotonic(events, WEIGHTS.length, 1);
  });

  it('two shards: same tensors as the single file (f32); the first event already has the grand total', async () => {
    const shards = sharded();
    const srv = await serve(hub({ [REPO]: shards }));
    const events: DownloadProgress[] = [];
    const src = await hubSource(REPO, { baseUrl: srv.base, onProgress: (e) => events.push({ ...e }) });
    expect(await src.weightFiles()).toEqual(['model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors']);
    expectSameTensors(await tensors(src, 'f32'), await tensors(memorySource('x', FILES), 'f32'));
    const total = shards.get('model-00001-of-00002.safetensors')!.length + shards.get('model-00002-of-00002.safetensors')!.length;
    expectMonotonic(events, total, 2);
    expect(new Set(events.map((e) => e.file)).size).toBe(2);
  });

  it('a missing repo, revision or file: HubError / MissingFileError naming it', async () => {
    const srv = await serve(hub({ [REPO]: FILES }));
    const err = await hubSource('test-owner/missing', { baseUrl: srv.base }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HubError);
    expect((err as HubError).status).toBe(404);
    expect((err as Error).message).toMatch(/test-owner\/missing.*no such repo\/file\/revision/);
    await expect(hubSource(REPO, { baseUrl: srv.base, revision: 'v9' })).rejects.toThrow(/revision "v9".*RevisionNotFound/);
    const src = await hubSource(REPO, { baseUrl: srv.base });
    await expect(src.size('nope.safetensors')).rejects.toBeInstanceOf(MissingFileError);
    expect(srv.requests.filter((r) => r.url.includes('test-owner/missing'))).toHaveLength(1);
  });

  it.each([401, 403])('HTTP %i: HubError saying gated and how to get access (licence on the model page, a token), not retried; the token is sent as Bearer', async (status) => {
    const srv = await serve((_req, res) => fail(res, status));
    const err = (await hubSource(REPO, { baseUrl: srv.base, token: 'hf_secret', backoffMs: 1 }).catch((e: unknown) => e)) as HubError;
    expect(err).toBeInstanceOf(HubError);
    expect(err.status).toBe(status);
    expect(err.message).toMatch(/gated/);
    expect(err.message).toContain(`accept the licence on ${srv.base}/${REPO}`);
    expect(err.message).toMatch(/token was refused/);
    expect(err.message).not.toMatch(/hf_secret/);
    expect(srv.requests).toHaveLength(1);
    expect(srv.requests[0]!.headers.authorization).toBe('Bearer hf_secret');
    // Without a token: where to accept the licence and where to get a token.
    const anon = (await hubSource(REPO, { baseUrl: srv.base, backoffMs: 1 }).catch((e: unknown) => e)) as HubError;
    expect(anon.message).toContain(`accept the model's licence on ${srv.base}/${REPO}`);
    expect(anon.message).toContain('https://huggingface.co/settings/tokens');
    expect(srv.requests).toHaveLength(2);
    expect(srv.requests[1]!.headers.authorization).toBeUndefined();
  });
});

describe('downloadFile', () => {
  const file = 'model.safetensors';

  it('500, 500, then 200: succeeds after two retries', async () => {
    let n = 0;
    const srv = await serve((req, res) => (n++ < 2 ? fail(res, 500) : sendBody(req, res, WEIGHTS)));
    const data = await downloadFile(`${srv.base}/x`, { file, backoffMs: 1 });
    expect(bytesOf(data).equals(bytesOf(WEIGHTS))).toBe(true);
    expect(srv.requests).toHaveLength(3);
  });

  it('a slow body: throttled events with a speed and an ETA that reaches 0', async () => {
    const srv = await serve((_req, res) => {
      res.writeHead(200, { 'Content-Length': WEIGHTS.length });
      let at = 0;
      const step = () => {
        const n = Math.min(100_000, WEIGHTS.length - at);
        res.write(WEIGHTS.subarray(at, at + n));
        at += n;
        if (at < WEIGHTS.length) setTimeout(step, 40);
        else res.end();
      };
      step();
    });
    const events: DownloadProgress[] = [];
    const times: number[] = [];
    await downloadFile(`${srv.base}/x`, { file, onProgress: (e) => (events.push({ ...e }), times.push(performance.now())) });
    expectMonotonic(events, WEIGHTS.length, 1);
    expect(events.length).toBeGreaterThan(2);
    // throttled to one event per 100 ms, except the forced first-bytes and last events
    for (let i = 2; i < times.length - 1; i++) expect(times[i]! - times[i - 1]!).toBeGreaterThanOrEqual(99);
    const mid = events.slice(1, -1);
    expect(mid.some((e) => e.bytesPerSecond > 0 && e.etaSeconds !== null && e.etaSeconds > 0)).toBe(true);
    expect(events.at(-1)!.etaSeconds).toBe(0);
  });

  it('always 503: HubError after retries+1 attempts; a 400 is not retried', async () => {
    const srv = await serve((req, res) => fail(res, req.url === '/bad' ? 400 : 503));
    await expect(downloadFile(`${srv.base}/x`, { file, retries: 2, backoffMs: 1 })).rejects.toThrow(/server error after 3 attempts: HTTP 503/);
    expect(srv.requests).toHaveLength(3);
    const err = (await downloadFile(`${srv.base}/bad`, { file, backoffMs: 1 }).catch((e: unknown) => e)) as HubError;
    expect([err.name, err.status]).toEqual(['HubError', 400]);
    expect(srv.requests).toHaveLength(4);
  });

  /** First response: the full Content-Length but only `cut` bytes, then the connection drops. */
  const dropOnce = (ranges: boolean, cut = 500_000) => {
    let n = 0;
    return serve((req, res) => {
      if (n++ > 0) return sendBody(req, res, WEIGHTS, ranges);
      res.writeHead(200, { 'Content-Length': WEIGHTS.length, ETag: '"v1"', ...(ranges ? { 'Accept-Ranges': 'bytes' } : {}) });
      res.write(WEIGHTS.subarray(0, cut), () => setTimeout(() => res.socket?.destroy(), 30));
    });
  };

  it('connection dropped mid-file, server supports Range: resumes where it stopped, identical bytes', async () => {
    const srv = await dropOnce(true);
    const events: DownloadProgress[] = [];
    const data = await downloadFile(`${srv.base}/x`, { file, backoffMs: 1, onProgress: (e) => events.push({ ...e }) });
    expect(bytesOf(data).equals(bytesOf(WEIGHTS))).toBe(true);
    expect(srv.requests).toHaveLength(2);
    const from = Number(/^bytes=(\d+)-$/.exec(srv.requests[1]!.headers.range ?? '')?.[1]);
    expect(from).toBeGreaterThan(0);
    expect(from).toBeLessThanOrEqual(500_000);
    expectMonotonic(events, WEIGHTS.length, 1);
  });

  it('connection dropped, and the resumed response is of a changed file (other ETag): starts over', async () => {
    let n = 0;
    const srv = await serve((req, res) => {
      n++;
      if (n === 1) {
        res.writeHead(200, { 'Content-Length': WEIGHTS.length, ETag: '"v1"', 'Accept-Ranges': 'bytes' });
        res.write(WEIGHTS.subarray(0, 300_000), () => setTimeout(() => res.socket?.destroy(), 30));
      } else if (n === 2) {
        const start = Number(/^bytes=(\d+)-$/.exec(req.headers.range ?? '')![1]);
        res.writeHead(206, { ETag: '"v2"', 'Content-Range': `bytes ${start}-${WEIGHTS.length - 1}/${WEIGHTS.length}`, 'Content-Length': WEIGHTS.length - start });
        res.end(new Uint8Array(WEIGHTS.length - start).fill(7));
      } else sendBody(req, res, WEIGHTS);
    });
    const data = await downloadFile(`${srv.base}/x`, { file, backoffMs: 1 });
    expect(bytesOf(data).equals(bytesOf(WEIGHTS))).toBe(true);
    expect(srv.requests.map((r) => r.headers.range ?? null)).toEqual([null, expect.stringMatching(/^bytes=\d+-$/), null]);
  });

  it('connection dropped mid-file, server ignores Range: restarts, identical bytes', async () => {
    const srv = await dropOnce(false);
    const data = await downloadFile(`${srv.base}/x`, { file, backoffMs: 1 });
    expect(bytesOf(data).equals(bytesOf(WEIGHTS))).toBe(true);
    expect(srv.requests[1]!.headers.range).toMatch(/^bytes=\d+-$/);
  });

  it('wrong Content-Length: HubError (body longer, body shorter, connection closed short)', async () => {
    const srv = await serve((req, res) => sendBody(req, res, WEIGHTS, false));
    const lying = (delta: number): typeof fetch => async (input, init) => {
      const r = await fetch(input, init);
      const h = new Headers(r.headers);
      h.set('content-length', String(WEIGHTS.length + delta));
      return new Response(r.body, { status: r.status, headers: h });
    };
    await expect(downloadFile(`${srv.base}/x`, { file, fetch: lying(-10), backoffMs: 1 })).rejects.toThrow(/wrong content length/);
    const short = downloadFile(`${srv.base}/x`, { file, fetch: lying(10), retries: 1, backoffMs: 1 });
    await expect(short).rejects.toBeInstanceOf(HubError);
    await expect(short).rejects.toThrow(/ended after \d+ of the \d+ bytes its Content-Length announced/);
    const cut = await serve((_req, res) => {
      res.writeHead(200, { 'Content-Length': WEIGHTS.length + 100 });
      res.write(WEIGHTS, () => setTimeout(() => res.socket?.destroy(), 10));
    });
    const err = await downloadFile(`${cut.base}/x`, { file, retries: 1, backoffMs: 1 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HubError);
    expect((err as Error).message).toMatch(new RegExp(`of ${WEIGHTS.length + 100} bytes`));
  });

  it('abort mid-body, during backoff, or before starting: rejects quickly with AbortError', async () => {
    const stall = await serve((_req, res) => {
      res.writeHead(200, { 'Content-Length': WEIGHTS.length });
      res.write(WEIGHTS.subarray(0, 1000)); // and never more
    });
    const quick = async (url: string, backoffMs: number, abortAfterMs: number) => {
      const ac = new AbortController();
      setTimeout(() => ac.abort(), abortAfterMs);
      const t0 = performance.now();
      const err = (await downloadFile(url, { file, backoffMs, signal: ac.signal }).catch((e: unknown) => e)) as Error;
      return { name: err.name, ms: performance.now() - t0 - abortAfterMs };
    };
    const midBody = await quick(`${stall.base}/x`, 1, 100);
    expect(midBody.name).toBe('AbortError');
    expect(midBody.ms).toBeLessThan(500);
    const failing = await serve((_req, res) => fail(res, 500));
    const backoff = await quick(`${failing.base}/x`, 60_000, 100);
    expect(backoff.name).toBe('AbortError');
    expect(backoff.ms).toBeLessThan(500);
    expect(failing.requests).toHaveLength(1);
    const err = (await downloadFile(`${failing.base}/x`, { file, signal: AbortSignal.abort() }).catch((e: unknown) => e)) as Error;
    expect(err.name).toBe('AbortError');
    expect(failing.requests).toHaveLength(1);
  });
});

describe('repo ids and URLs', () => {
  it('validateRepoId rejects traversal, extra parts, spaces, markup; accepts real ids', () => {
    for (const bad of ['../x', 'a/b/c', 'a b/c', '<script>/x', 'x', '/x', 'x/', 'a/..', 'a/b..c', '-a/b', 'a/b.', `a/${'x'.repeat(97)}`, 'a/b.git']) {
      expect(() => validateRepoId(bad), bad).toThrow(InvalidRepoIdError);
    }
    for (const ok of ['HuggingFaceTB/SmolLM2-135M-Instruct', 'Qwen/Qwen2.5-0.5B-Instruct', 'a/b', 'meta-llama/Llama-3.2-1B', `a/${'x'.repeat(96)}`]) {
      expect(validateRepoId(ok)).toBe(ok);
    }
  });

  it('a pasted hub address is understood (page, tree, blob, resolve, hf.co, no scheme); invalid characters are named', () => {
    const id = 'HuggingFaceTB/SmolLM2-135M-Instruct';
    for (const input of [id, ` ${id} `, `https://huggingface.co/${id}`, `https://huggingface.co/${id}/`, `huggingface.co/${id}`, `http://www.huggingface.co/${id}?library=transformers`, `https://hf.co/${id}#files`]) {
      expect(parseModelInput(input), input).toEqual({ repo: id });
    }
    expect(parseModelInput(`https://huggingface.co/${id}/tree/v1.0`)).toEqual({ repo: id, revision: 'v1.0' });
    expect(parseModelInput(`https://huggingface.co/${id}/blob/main/config.json`)).toEqual({ repo: id, revision: 'main' });
    expect(parseModelInput(`https://huggingface.co/${id}/resolve/refs%2Fpr%2F3/model.safetensors`)).toEqual({ repo: id, revision: 'refs/pr/3' });
    expect(() => parseModelInput('https://huggingface.co/datasets/tatsu-lab/alpaca_eval')).toThrow(/is a dataset, not a model/);
    expect(() => parseModelInput('https://example.com/a/b')).toThrow(InvalidRepoIdError);
    expect(() => parseModelInput('smollm 135')).toThrow(/not spaces/);
    expect(() => parseModelInput('owner/na@me')).toThrow(/not "@"/);
    expect(() => parseModelInput('justaname')).toThrow(/the owner is missing/);
  });

  it('hubSource validates the id before any request is made', async () => {
    const urls: string[] = [];
    const spy: typeof fetch = async (input) => {
      urls.push(String(input));
      return new Response('{}');
    };
    for (const bad of ['evil.example/x/../../y', 'a/b?x=1', 'javascript:alert(1)/x', 'a/b#frag', 'a/"><img src=x>']) {
      await expect(hubSource(bad, { fetch: spy }), bad).rejects.toBeInstanceOf(InvalidRepoIdError);
    }
    expect(urls).toEqual([]);
  });

  it('fileUrl encodes the revision and refuses path traversal in the file', () => {
    expect(fileUrl('a/b', 'model.safetensors')).toBe('https://huggingface.co/a/b/resolve/main/model.safetensors');
    expect(fileUrl('a/b', 'sub/t.json', { baseUrl: 'http://h/', revision: 'refs/pr/1' })).toBe('http://h/a/b/resolve/refs%2Fpr%2F1/sub/t.json');
    expect(() => fileUrl('a/b', '../secret')).toThrow(HubError);
  });
});
