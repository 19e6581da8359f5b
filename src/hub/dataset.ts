// Files of Hugging Face *dataset* repos (the benchmark's prompt sets). Same client as the models'
// (retries, backoff, named errors), another URL: `<hub>/datasets/<owner>/<name>/resolve/<rev>/<file>`.
import { DEFAULT_HUB, validateRepoId } from './hub';
import { HubError, fetchText, resolveOptions, type HubOptions } from './download';

export function datasetFileUrl(repo: string, file: string, opts: Pick<HubOptions, 'baseUrl' | 'revision'> = {}): string {
  validateRepoId(repo);
  const base = (opts.baseUrl ?? DEFAULT_HUB).replace(/\/+$/, '');
  const segments = file.split('/');
  if (segments.some((s) => !s || s === '.' || s === '..')) throw new HubError(`${repo}: invalid file path ${JSON.stringify(file)}`);
  return `${base}/datasets/${repo}/resolve/${encodeURIComponent(opts.revision ?? 'main')}/${segments.map(encodeURIComponent).join('/')}`;
}

/** One file of a dataset repo as text; a HubError that names the dataset, file and revision otherwise. */
export async function fetchDatasetText(repo: string, file: string, opts: HubOptions = {}): Promise<string> {
  const revision = opts.revision ?? 'main';
  const url = datasetFileUrl(repo, file, { revision, ...(opts.baseUrl ? { baseUrl: opts.baseUrl } : {}) });
  const got = await fetchText(url, resolveOptions(opts), `dataset ${repo}: ${file} (revision "${revision}")`, false);
  return got!.text;
}
