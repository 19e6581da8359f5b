// Fetching files over HTTP the way a multi-hundred-megabyte model download needs: retries with
// backoff on transient failures only, resuming with Range instead of starting over, refusing a body
// whose length disagrees with the server's own headers, progress, and prompt aborts.

import { ProgressTracker } from './progress';

export class HubError extends Error {
  override name = 'HubError';
  status?: number;
  constructor(message: string, status?: number, options?: { cause?: unknown }) {
    super(message, options);
    if (status !== undefined) this.status = status;
  }
}

export interface DownloadProgress {
  /** the file this event is about */
  file: string;
  fileBytes: number;
  fileTotal: number | null;
  /** all files together */
  bytes: number;
  total: number | null;
  bytesPerSecond: number;
  etaSeconds: number | null;
  filesDone: number;
  filesTotal: number;
}

export interface HubOptions {
  baseUrl?: string;
  revision?: string;
  token?: string;
  fetch?: typeof fetch;
  signal?: AbortSignal;
  /** retries after the first attempt; default 4 */
  retries?: number;
  /** wait before the first retry, doubled for each further one; default 500 */
  backoffMs?: number;
  onProgress?: (p: DownloadProgress) => void;
}

/** HubOptions with defaults filled in (internal to src/hub). */
export interface Resolved {
  fetch: typeof fetch;
  signal?: AbortSignal;
  retries: number;
  backoffMs: number;
  headers: Record<string, string>;
  /** the model's page (https://huggingface.co/owner/name), named in access errors */
  page?: string;
}

export function resolveOptions(o: HubOptions): Resolved {
  return {
    // Called through a wrapper: a browser's fetch throws "Illegal invocation" when detached from window.
    fetch: o.fetch ?? ((input, init) => globalThis.fetch(input, init)),
    ...(o.signal ? { signal: o.signal } : {}),
    retries: Math.max(0, o.retries ?? 4),
    backoffMs: Math.max(0, o.backoffMs ?? 500),
    // Browsers and undici drop Authorization on a cross-origin redirect, so the token never reaches the CDN.
    headers: o.token ? { Authorization: `Bearer ${o.token}` } : {},
  };
}

/** A failure worth another attempt: network errors, 5xx, 429, a body cut short. */
class Transient extends Error {
  constructor(message: string, readonly status?: number, readonly waitMs?: number) {
    super(message);
  }
}

export function abortError(signal?: AbortSignal): Error {
  const r: unknown = signal?.reason;
  if (r instanceof Error && r.name === 'AbortError') return r;
  return new DOMException(typeof r === 'string' ? r : 'download aborted', 'AbortError');
}

function describe(e: unknown): string {
  if (!(e instanceof Error)) return String(e);
  const cause = e.cause instanceof Error ? e.cause.message : '';
  return cause && cause !== e.message ? `${e.message} (${cause})` : e.message;
}

/** Anything a fetch or a body read throws is transient, unless it is our abort. */
function transientOrAbort(e: unknown, signal?: AbortSignal): Error {
  if (signal?.aborted) return abortError(signal);
  if (e instanceof HubError || e instanceof Transient) return e;
  return new Transient(`network error: ${describe(e)}`);
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(abortError(signal));
    const onAbort = () => {
      clearTimeout(timer);
      reject(abortError(signal));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

function retryAfterMs(res: Response): number | undefined {
  const v = res.headers.get('retry-after');
  if (!v) return undefined;
  const secs = Number(v);
  const ms = Number.isFinite(secs) ? secs * 1000 : Date.parse(v) - Date.now();
  // A server asking for minutes is better answered by failing and letting the user retry.
  return Number.isFinite(ms) && ms > 0 ? Math.min(ms, 60_000) : undefined;
}

/** The user-facing error for a non-2xx status, or a Transient for statuses worth retrying. */
export function httpError(res: Response, label: string, o?: Pick<Resolved, 'page' | 'headers'>): Error {
  const s = res.status;
  const code = res.headers.get('x-error-code');
  const tag = `HTTP ${s}${code ? ` ${code}` : ''}`;
  if (s === 401 || s === 403) {
    // The hub answers 401 for repos that do not exist too, so as not to reveal private ones.
    const what = code === 'RepoNotFound' ? 'no such repo, or a private or gated one' : 'gated or private model';
    const page = o?.page ?? 'the model page on huggingface.co';
    const how = o?.headers?.Authorization
      ? `the access token was refused or its account has no access: accept the licence on ${page} while logged in as the token's owner, or use another token`
      : `to get access, log in on huggingface.co, accept the model's licence on ${page}, then create a read token at https://huggingface.co/settings/tokens and set it (the app's "Access token" field, or HF_TOKEN for the command line)`;
    return new HubError(`${label}: ${what} (${tag}); ${how}`, s);
  }
  if (s === 404) return new HubError(`${label}: no such repo/file/revision (${tag})`, s);
  if (s === 408 || s === 429 || s >= 500) return new Transient(tag, s, retryAfterMs(res));
  const detail = res.headers.get('x-error-message');
  return new HubError(`${label}: unexpected ${tag}${detail ? `: ${detail}` : ''}`, s);
}

/** Runs `attempt` until it succeeds, retrying Transient failures with exponential backoff. */
export async function retrying<T>(o: Resolved, label: string, attempt: () => Promise<T>): Promise<T> {
  for (let n = 0; ; n++) {
    if (o.signal?.aborted) throw abortError(o.signal);
    try {
      return await attempt();
    } catch (e) {
      const err = transientOrAbort(e, o.signal);
      if (!(err instanceof Transient)) throw err;
      if (n >= o.retries) {
        const why = err.status && err.status >= 500 ? 'server error' : 'failed';
        throw new HubError(`${label}: ${why} after ${n + 1} attempts: ${err.message}`, err.status, { cause: e });
      }
      await sleep(Math.max(o.backoffMs * 2 ** n, err.waitMs ?? 0), o.signal);
    }
  }
}

export async function send(url: string, o: Resolved, method: 'GET' | 'HEAD', extra: Record<string, string> = {}): Promise<Response> {
  try {
    return await o.fetch(url, { method, headers: { ...o.headers, ...extra }, redirect: 'follow', ...(o.signal ? { signal: o.signal } : {}) });
  } catch (e) {
    throw transientOrAbort(e, o.signal);
  }
}

function discard(res: Response): void {
  res.body?.cancel().catch(() => {});
}

/** A whole small file as text with its response headers, or null on 404 when `optional`. */
export async function fetchText(url: string, o: Resolved, label: string, optional: boolean): Promise<{ text: string; headers: Headers } | null> {
  return retrying(o, label, async () => {
    const res = await send(url, o, 'GET');
    if (!res.ok) {
      discard(res);
      if (res.status === 404 && optional) return null;
      throw httpError(res, label, o);
    }
    try {
      return { text: await res.text(), headers: res.headers };
    } catch (e) {
      throw transientOrAbort(e, o.signal);
    }
  });
}

/** The body length a response promises, when it can be checked (compressed bodies cannot). */
function declaredLength(res: Response): number | null {
  const enc = res.headers.get('content-encoding');
  if (enc && enc !== 'identity') return null;
  const v = res.headers.get('content-length');
  const n = v === null ? NaN : Number(v);
  return Number.isSafeInteger(n) && n >= 0 ? n : null;
}

/** A file's size from a HEAD request; null when the server does not say. */
export async function headSize(url: string, o: Resolved, label: string): Promise<number | null> {
  return retrying(o, label, async () => {
    const res = await send(url, o, 'HEAD');
    discard(res);
    if (res.ok) return declaredLength(res);
    const err = httpError(res, label, o);
    // HEAD refused (405 and the like) only costs us an early total.
    if (err instanceof HubError && err.status !== 401 && err.status !== 403 && err.status !== 404) return null;
    throw err;
  });
}

function parseContentRange(v: string | null): { start: number; total: number | null } | null {
  const m = v ? /^bytes\s+(\d+)-(\d+)\/(\d+|\*)$/i.exec(v.trim()) : null;
  return m ? { start: Number(m[1]), total: m[3] === '*' ? null : Number(m[3]) } : null;
}

/**
 * Downloads a whole file. `onBytes` sees the bytes held so far and the total when known; after a
 * restart (a server that ignores Range) the count goes back to 0.
 */
export async function download(url: string, o: Resolved, label: string, onBytes: (bytes: number, total: number | null) => void): Promise<Uint8Array> {
  let total: number | null = null;
  let etag: string | null = null;
  // Preallocated when the size is known, so a large file is held once rather than in parts + copy.
  let buf: Uint8Array | null = null;
  let parts: Uint8Array[] = [];
  let received = 0;
  const restart = (size: number | null) => {
    total = size;
    buf = size === null ? null : new Uint8Array(size);
    parts = [];
    received = 0;
  };
  return retrying(o, label, async () => {
    const extra: Record<string, string> = {};
    // A single open range is a CORS-safelisted header, so resuming costs no preflight. (If-Range
    // would, and the CDN behind the hub need not allow it; the ETag is compared below instead.)
    if (received > 0) extra.Range = `bytes=${received}-`;
    const res = await send(url, o, 'GET', extra);
    if (res.status === 206 && received > 0) {
      const cr = parseContentRange(res.headers.get('content-range'));
      const tag = res.headers.get('etag');
      if (!cr || cr.start !== received || (total !== null && cr.total !== null && cr.total !== total) || (etag && tag && tag !== etag)) {
        discard(res);
        restart(null);
        throw new Transient(`the resumed response does not continue the same file (Content-Range ${res.headers.get('content-range')}, ETag ${tag}); starting over`);
      }
    } else if (res.status === 200) {
      restart(declaredLength(res));
      etag = res.headers.get('etag');
    } else {
      discard(res);
      if (res.status === 416) {
        restart(null);
        throw new Transient('HTTP 416 on resume; starting over');
      }
      if (res.ok) throw new HubError(`${label}: unexpected HTTP ${res.status}`, res.status);
      throw httpError(res, label, o);
    }
    onBytes(received, total);
    if (res.body) {
      const reader = res.body.getReader();
      try {
        for (;;) {
          let r: ReadableStreamReadResult<Uint8Array>;
          try {
            r = await reader.read();
          } catch (e) {
            if (o.signal?.aborted) throw abortError(o.signal);
            throw new Transient(`connection lost after ${received}${total === null ? '' : ` of ${total}`} bytes: ${describe(e)}`);
          }
          if (r.done) break;
          const chunk = r.value;
          if (total !== null && received + chunk.byteLength > total) {
            throw new HubError(`${label}: wrong content length: the server sent more than the ${total} bytes its Content-Length announced`);
          }
          if (buf) (buf as Uint8Array).set(chunk, received);
          else parts.push(chunk);
          received += chunk.byteLength;
          onBytes(received, total);
        }
      } finally {
        reader.cancel().catch(() => {});
      }
    }
    if (total !== null && received !== total) {
      throw new Transient(`the body ended after ${received} of the ${total} bytes its Content-Length announced`);
    }
    if (buf) return buf;
    const out = new Uint8Array(received);
    let at = 0;
    for (const p of parts) {
      out.set(p, at);
      at += p.byteLength;
    }
    return out;
  });
}

/**
 * Download one file fully: streaming body with progress, retries with exponential backoff on
 * network errors and 5xx/429 (not on other 4xx), resumes with a Range request when the server
 * answers 206 to it (else restarts), checks Content-Length, and on abort rejects with an
 * AbortError, cancelling the body and any backoff timer.
 */
export async function downloadFile(url: string, opts: HubOptions & { file: string }): Promise<Uint8Array> {
  const tracker = new ProgressTracker(opts.onProgress);
  tracker.expect(opts.file, null);
  const data = await download(url, resolveOptions(opts), `${opts.file} (${url})`, (b, t) => tracker.update(opts.file, b, t));
  tracker.update(opts.file, data.byteLength, data.byteLength, true);
  return data;
}
