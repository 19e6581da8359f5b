// One local HTTP server for the browser tests: the built app, and the fixture models in the hub's
// URL layout (/<owner>/<name>/resolve/<revision>/<file>), with HEAD and Range like the real hub;
// dataset files at /datasets/<owner>/<name>/resolve/<revision>/<file>.
// Every request is logged so a test can count weight downloads.
import http from 'node:http';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import type { AddressInfo } from 'node:net';

export interface Repo {
  /** the fixture folder the files come from */
  dir: string;
  /** serve only this fraction of model.safetensors (a cut download that still looks complete) */
  truncateWeights?: number;
  /** a gated repo: every file needs `Authorization: Bearer <token>`, else 401 as the hub answers */
  token?: string;
}

export interface FixtureServer {
  url: string;
  /** method and path of every request, in order, and whether it carried an Authorization header */
  log: Array<{ method: string; path: string; auth?: string }>;
  close(): Promise<void>;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.wasm': 'application/wasm',
};

async function fileBytes(file: string): Promise<Buffer | null> {
  const s = await stat(file).catch(() => null);
  return s?.isFile() ? readFile(file) : null;
}

/** Sends a body with the hub's Range semantics: one `bytes=a-` or `bytes=a-b` range, or the whole. */
function sendBytes(req: http.IncomingMessage, res: http.ServerResponse, body: Buffer, type: string): void {
  const range = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
  res.setHeader('Content-Type', type);
  res.setHeader('Accept-Ranges', 'bytes');
  res.setHeader('Cache-Control', 'no-store');
  let out = body;
  if (range) {
    const start = Number(range[1]);
    const end = range[2] ? Math.min(Number(range[2]), body.length - 1) : body.length - 1;
    if (start >= body.length || end < start) {
      res.writeHead(416, { 'Content-Range': `bytes */${body.length}` }).end();
      return;
    }
    out = body.subarray(start, end + 1);
    res.statusCode = 206;
    res.setHeader('Content-Range', `bytes ${start}-${end}/${body.length}`);
  }
  res.setHeader('Content-Length', out.length);
  res.end(req.method === 'HEAD' ? undefined : out);
}

export interface ServerOptions {
  distDir: string;
  repos: Record<string, Repo>;
  /** dataset repo -> file name in the repo -> the fixture file served for it */
  datasets?: Record<string, Record<string, string>>;
}

export async function startServer(opts: ServerOptions): Promise<FixtureServer> {
  const log: FixtureServer['log'] = [];
  const server = http.createServer(async (req, res) => {
    try {
      const url = new URL(req.url ?? '/', 'http://localhost');
      const p = decodeURIComponent(url.pathname);
      log.push({ method: req.method ?? 'GET', path: p, ...(req.headers.authorization ? { auth: req.headers.authorization } : {}) });
      // Like the real hub: readable from any origin (the app under `vite dev` is another origin).
      res.setHeader('Access-Control-Allow-Origin', '*');
      res.setHeader('Access-Control-Expose-Headers', 'Content-Length, Content-Range, Accept-Ranges, ETag, X-Repo-Commit');
      if (req.method === 'OPTIONS') {
        res.writeHead(204, { 'Access-Control-Allow-Headers': 'Range, If-Range, Authorization', 'Access-Control-Allow-Methods': 'GET, HEAD' }).end();
        return;
      }
      const dataset = /^\/datasets\/([^/]+\/[^/]+)\/resolve\/[^/]+\/(.+)$/.exec(p);
      if (dataset) {
        const files = opts.datasets?.[dataset[1]!];
        const file = files?.[dataset[2]!];
        const body = file ? await fileBytes(file) : null;
        if (!body) {
          res.writeHead(404, { 'x-error-code': files ? 'EntryNotFound' : 'RepoNotFound' }).end('not found');
          return;
        }
        sendBytes(req, res, body, TYPES[path.extname(file!)] ?? 'application/octet-stream');
        return;
      }
      const hub = /^\/([^/]+\/[^/]+)\/resolve\/[^/]+\/(.+)$/.exec(p);
      if (hub) {
        const repo = opts.repos[hub[1]!];
        const file = hub[2]!;
        let body = repo && !file.includes('..') ? await fileBytes(path.join(repo.dir, file)) : null;
        if (repo?.token !== undefined && req.headers.authorization !== `Bearer ${repo.token}`) {
          res.writeHead(401, { 'x-error-code': 'GatedRepo', 'x-error-message': 'Access to this model is restricted' }).end('gated');
          return;
        }
        if (!repo || !body) {
          res.writeHead(404, { 'x-error-code': repo ? 'EntryNotFound' : 'RepoNotFound' }).end('not found');
          return;
        }
        if (repo.truncateWeights !== undefined && file.endsWith('.safetensors')) body = body.subarray(0, Math.floor(body.length * repo.truncateWeights));
        sendBytes(req, res, body, TYPES[path.extname(file)] ?? 'application/octet-stream');
        return;
      }
      const rel = p === '/' ? 'index.html' : p.slice(1);
      const body = rel.includes('..') ? null : await fileBytes(path.join(opts.distDir, rel));
      if (!body) {
        res.writeHead(404).end('not found');
        return;
      }
      sendBytes(req, res, body, TYPES[path.extname(rel)] ?? 'application/octet-stream');
    } catch (e) {
      res.writeHead(500).end(String(e));
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    log,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
