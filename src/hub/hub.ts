// The Hugging Face hub as a ModelSource. Small JSON files are fetched as text when asked for;
// each safetensors file is downloaded whole, once (the loader reads every tensor of it anyway, and
// one streamed GET is far cheaper than hundreds of small Range requests), then served from memory.
//
// Progress totals: before the first weight download, the list of weight files is taken from
// model.safetensors.index.json (or is the single model.safetensors) and each file's size is asked
// for with a HEAD request, all in parallel. So for a sharded checkpoint the very first event
// already carries the grand total and filesTotal. A file whose HEAD gives no size (a server without
// HEAD, a compressed response) leaves `total` null until its GET's Content-Length arrives.
import { MissingFileError, type ModelSource } from '../model/source';
import { parseShardIndex } from '../model/safetensors';
import { HubError, download, fetchText, headSize, resolveOptions, type HubOptions } from './download';
import { ProgressTracker } from './progress';

export { HubError, downloadFile, type DownloadProgress, type HubOptions } from './download';

export const DEFAULT_HUB = 'https://huggingface.co';

export class InvalidRepoIdError extends Error {
  override name = 'InvalidRepoIdError';
}

/**
 * Checks an "owner/name" model id with the hub's own rules (letters, digits, ".", "_", "-"; no
 * ".." or "--"; "." and "-" neither first nor last; at most 96 characters per part), so a typo
 * or a pasted path never turns into a request for some other URL. Returns the id unchanged.
 */
export function validateRepoId(id: string): string {
  const bad = (why: string) => new InvalidRepoIdError(`invalid model id ${JSON.stringify(id)}: ${why}; expected "owner/name", e.g. "HuggingFaceTB/SmolLM2-135M-Instruct"`);
  if (typeof id !== 'string') throw bad('not a string');
  const odd = [...new Set(id.replace(/[A-Za-z0-9._/-]/g, ''))];
  if (odd.length) throw bad(`only letters, digits, ".", "_", "-" and one "/" are allowed, not ${odd.map((c) => (c === ' ' ? 'spaces' : JSON.stringify(c))).join(', ')}`);
  const parts = id.split('/');
  if (parts.length !== 2) throw bad(parts.length < 2 ? 'the owner is missing' : 'too many "/"');
  for (const p of parts) {
    if (!p) throw bad('empty owner or name');
    if (p.length > 96) throw bad('a part is longer than 96 characters');
    if (!/^[A-Za-z0-9._-]+$/.test(p)) throw bad('only letters, digits, ".", "_" and "-" are allowed');
    if (/^[.-]|[.-]$/.test(p)) throw bad('a part starts or ends with "." or "-"');
    if (p.includes('..') || p.includes('--')) throw bad('".." and "--" are not allowed');
  }
  if (id.endsWith('.git')) throw bad('it ends with ".git"');
  return id;
}

/**
 * What a user types or pastes to name a hub model: "owner/name", or its page's address
 * ("https://huggingface.co/owner/name", with or without the scheme, "hf.co/...", a trailing
 * "/tree/<revision>" or a file's "/blob|resolve/<revision>/<path>"). Returns the validated id and the
 * revision when the address names one.
 */
export function parseModelInput(input: string): { repo: string; revision?: string } {
  let s = input.trim();
  const url = /^(?:https?:\/\/)?(?:www\.)?(?:huggingface\.co|hf\.co)\/(.*)$/i.exec(s);
  if (url) {
    const [owner, name, kind, revision] = url[1]!.replace(/[?#].*$/, '').split('/');
    if (owner === 'datasets' || owner === 'spaces') throw new InvalidRepoIdError(`${JSON.stringify(input)} is a ${owner.slice(0, -1)}, not a model`);
    s = `${owner ?? ''}/${name ?? ''}`;
    if ((kind === 'tree' || kind === 'blob' || kind === 'resolve') && revision) return { repo: validateRepoId(s), revision: decodeURIComponent(revision) };
  }
  return { repo: validateRepoId(s.replace(/\/+$/, '')) };
}

/** `${baseUrl}/${repo}/resolve/${encodeURIComponent(revision)}/${file}`, each path segment of `file` encoded. */
export function fileUrl(repo: string, file: string, opts: Pick<HubOptions, 'baseUrl' | 'revision'> = {}): string {
  const base = (opts.baseUrl ?? DEFAULT_HUB).replace(/\/+$/, '');
  const segments = file.split('/');
  if (segments.some((s) => !s || s === '.' || s === '..')) throw new HubError(`${repo}: invalid file path ${JSON.stringify(file)}`);
  return `${base}/${repo}/resolve/${encodeURIComponent(opts.revision ?? 'main')}/${segments.map(encodeURIComponent).join('/')}`;
}

export interface HubSource extends ModelSource {
  readonly repo: string;
  readonly revision: string;
  /** the commit the revision resolved to (X-Repo-Commit of config.json), when the server says; a better cache key than a branch name */
  readonly commit: string | null;
  /** the checkpoint's safetensors files: the shard index's, or the single model.safetensors */
  weightFiles(): Promise<string[]>;
  /** forgets downloaded files, freeing their memory once the engine holds the weights; a later range() downloads again */
  release(): void;
}

/** Memoizes a promise per key, forgetting failures so a later call tries again. */
function once<T>(memo: Map<string, Promise<T>>, key: string, make: () => Promise<T>): Promise<T> {
  let p = memo.get(key);
  if (!p) {
    const made = make();
    p = made;
    memo.set(key, made);
    made.catch(() => {
      if (memo.get(key) === made) memo.delete(key);
    });
  }
  return p;
}

/** The ModelSource contract: a missing file is a MissingFileError. */
function missingAs(e: unknown): unknown {
  return e instanceof HubError && e.status === 404 ? new MissingFileError(e.message) : e;
}

/**
 * A ModelSource over the hub. config.json is fetched at once, so a wrong id, revision or missing
 * access fails here with a HubError that says which. Other small files come on demand (404 ->
 * null); safetensors files are downloaded whole once, with progress, and served from memory.
 */
export async function hubSource(repo: string, opts: HubOptions = {}): Promise<HubSource> {
  validateRepoId(repo);
  const revision = opts.revision ?? 'main';
  const o = { ...resolveOptions(opts), page: `${(opts.baseUrl ?? DEFAULT_HUB).replace(/\/+$/, '')}/${repo}` };
  const url = (file: string) => fileUrl(repo, file, { revision, ...(opts.baseUrl ? { baseUrl: opts.baseUrl } : {}) });
  const label = (file: string) => `${repo}: ${file} (revision "${revision}")`;
  const tracker = new ProgressTracker(opts.onProgress);

  const config = (await fetchText(url('config.json'), o, label('config.json'), false))!;
  const texts = new Map<string, Promise<string | null>>([['config.json', Promise.resolve(config.text)]]);
  const text = (file: string) => once(texts, file, async () => (await fetchText(url(file), o, label(file), true))?.text ?? null);

  const lists = new Map<string, Promise<string[]>>();
  const weightFiles = () =>
    once(lists, 'weights', async () => {
      const index = await text('model.safetensors.index.json');
      return index === null ? ['model.safetensors'] : [...new Set(parseShardIndex(index).values())];
    });

  const heads = new Map<string, Promise<number | null>>();
  const head = (file: string) => once(heads, file, () => headSize(url(file), o, label(file)));
  const plans = new Map<string, Promise<void>>();
  const plan = () =>
    once(plans, 'all', async () => {
      const files = await weightFiles();
      for (const f of files) tracker.expect(f, null);
      await Promise.all(
        files.map(async (f) => {
          try {
            tracker.expect(f, await head(f));
          } catch (e) {
            // Only the total is lost; the GET will report any real problem with this file.
            if (o.signal?.aborted) throw e;
          }
        }),
      );
    });

  const data = new Map<string, Promise<Uint8Array>>();
  const fetchFile = (file: string) =>
    once(data, file, async () => {
      if ((await weightFiles()).includes(file)) await plan();
      tracker.begin(file);
      try {
        const bytes = await download(url(file), o, label(file), (b, t) => tracker.update(file, b, t));
        tracker.update(file, bytes.byteLength, bytes.byteLength, true);
        return bytes;
      } catch (e) {
        throw missingAs(e);
      }
    });

  return {
    name: repo,
    repo,
    revision,
    commit: config.headers.get('x-repo-commit'),
    weightFiles,
    release: () => data.clear(),
    text,
    size: async (file) => {
      const held = data.get(file);
      if (held) return (await held).byteLength;
      let size: number | null;
      try {
        size = await head(file);
      } catch (e) {
        throw missingAs(e);
      }
      return size ?? (await fetchFile(file)).byteLength;
    },
    range: async (file, begin, end) => {
      const bytes = await fetchFile(file);
      if (begin < 0 || end < begin || end > bytes.byteLength) {
        throw new MissingFileError(`${repo}: ${file} is truncated (${bytes.byteLength} bytes, needed [${begin}, ${end}))`);
      }
      return bytes.subarray(begin, end);
    },
  };
}
