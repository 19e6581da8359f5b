import { useApp } from '../store';
import { useSweep } from '../sweep_store';
import { useBench, MAX_EVAL_CHARS, type BenchForm } from '../bench_store';
import { useState, type DragEvent } from 'react';
import { BUILTIN_PROMPTS, SAMPLE_SIZES, type SampleSize } from '../../src/bench/prompts';
import { seconds } from './format';
import { engineLabel } from '../engines';

type NumberKey = 'maxNewTokens' | 'warmup' | 'repetitions' | 'pricePerHour' | 'batch';

const FIELDS: Array<{ key: NumberKey; label: string; hint: string; min: number; max: number; step: number; integer: boolean }> = [
  { key: 'maxNewTokens', label: 'Max new tokens', hint: 'per prompt', min: 1, max: 2048, step: 1, integer: true },
  { key: 'warmup', label: 'Warm-up', hint: 'runs per engine', min: 0, max: 20, step: 1, integer: true },
  { key: 'repetitions', label: 'Repetitions', hint: 'per prompt', min: 1, max: 20, step: 1, integer: true },
  { key: 'pricePerHour', label: 'GPU price', hint: '$ per hour', min: 0, max: 1000, step: 0.1, integer: false },
  { key: 'batch', label: 'Prompts at once', hint: '1 = one at a time', min: 1, max: 16, step: 1, integer: true },
];

const sampleLabel = (n: SampleSize) => (n === 'all' ? 'All' : String(n));

function Progress() {
  const { status, progress: p, source, cancelling } = useBench();
  const cancel = useBench((s) => s.cancel);
  const label = p ? engineLabel(p.engine) : '';
  let line: string;
  if (status === 'fetching') line = 'Fetching the AlpacaEval prompts from the hub…';
  else if (!p) line = 'Starting…';
  else if (p.phase === 'load') line = `${label}: getting ready`;
  else if (p.phase === 'warmup') line = `${label}: warm-up`;
  else if (p.phase === 'eval') line = p.prompts ? `Teacher-forced evaluation: window ${p.prompt} of ${p.prompts}` : 'Teacher-forced evaluation: starting';
  else line = `${label}: prompt ${p.prompt} of ${p.prompts}`;
  const frac = p?.phase === 'eval' ? (p.prompts ? p.prompt / p.prompts : null) : p && p.total ? p.done / p.total : null;
  return (
    <div className="bench-progress" data-testid="bench-progress">
      <div className="load-row">
        <span>
          <span className="spinner" /> <strong data-testid="bench-progress-line">{line}</strong>
        </span>
        <span className="muted small">
          {p?.phase === 'eval' ? 'every engine reads the same tokens' : p ? `${p.done} of ${p.total} generations` : source ? <code>{source}</code> : ''}
          {p?.etaSeconds != null && ` · about ${seconds(p.etaSeconds)} left`}
        </span>
      </div>
      <div className={`bar${frac === null ? ' bar-indeterminate' : ''}`} role="progressbar" aria-label="benchmark" aria-valuenow={frac === null ? undefined : Math.round(frac * 100)} aria-valuemin={0} aria-valuemax={100}>
        <div className="bar-fill" style={{ width: frac === null ? undefined : `${frac * 100}%` }} />
      </div>
      <div className="actions">
        <p className="hint">Engines run one after the other, each with the whole GPU. The page stays usable; results appear when the run ends.</p>
        <button className="btn btn-danger" data-testid="bench-cancel" onClick={cancel} disabled={cancelling}>
          {cancelling ? 'Cancelling…' : 'Cancel'}
        </button>
      </div>
    </div>
  );
}

const EVAL_CHOICES: Array<{ value: BenchForm['evalText']; label: string }> = [
  { value: 'off', label: 'Off' },
  { value: 'builtin', label: 'Built-in text' },
  { value: 'replies', label: 'Baseline’s replies' },
  { value: 'custom', label: 'Your text' },
];

/** Reads a dropped or chosen file as UTF-8 text into the form, refusing what is not text or too long. */
async function readTextFile(file: File, setError: (m: string | null) => void): Promise<void> {
  if (file.size > 4 * MAX_EVAL_CHARS) return setError(`${file.name} is ${(file.size / 1e6).toFixed(1)} MB; the evaluation takes texts up to ${MAX_EVAL_CHARS.toLocaleString('en-US')} characters`);
  let text: string;
  try {
    text = await file.text();
  } catch (e) {
    return setError(`${file.name} could not be read: ${(e as Error).message}`);
  }
  if (text.includes('\u0000')) return setError(`${file.name} is not a text file`);
  if (text.length > MAX_EVAL_CHARS) return setError(`${file.name} has ${text.length.toLocaleString('en-US')} characters; the evaluation takes up to ${MAX_EVAL_CHARS.toLocaleString('en-US')}`);
  if (!text.trim()) return setError(`${file.name} is empty`);
  setError(null);
  useBench.getState().setForm({ customText: text, customName: file.name });
}

/** The teacher-forced evaluation's text: off, the built-in one, the baseline's replies, or the user's. */
function EvalField({ busy, alone }: { busy: boolean; alone: boolean }) {
  const form = useBench((s) => s.form);
  const setForm = useBench((s) => s.setForm);
  const [fileError, setFileError] = useState<string | null>(null);
  const [over, setOver] = useState(false);
  const onDrop = (e: DragEvent) => {
    e.preventDefault();
    setOver(false);
    const file = e.dataTransfer.files[0];
    if (file) void readTextFile(file, setFileError);
  };
  return (
    <div className="field eval-field">
      <label id="bench-eval-label">
        Teacher-forced evaluation <span className="muted small">{alone ? 'perplexity' : 'perplexity, and KL divergence against the baseline'}</span>
      </label>
      <div className="segmented" role="radiogroup" aria-labelledby="bench-eval-label">
        {EVAL_CHOICES.map((c) => (
          <button key={c.value} role="radio" aria-checked={form.evalText === c.value} className={form.evalText === c.value ? 'on' : ''} disabled={busy} data-testid={`bench-eval-${c.value}`} onClick={() => setForm({ evalText: c.value })}>
            {c.label}
          </button>
        ))}
      </div>
      <p className="hint">
        {form.evalText === 'off' && 'No evaluation: quality is judged by the free-running outputs only (ROUGE-L, exact match, token agreement).'}
        {form.evalText === 'builtin' && 'After the generations, every engine reads the same text written for this project (prose, code, lists; CC0), a few thousand tokens, and is scored at every position.'}
        {form.evalText === 'replies' && 'After the generations, every engine reads each prompt followed by the baseline’s own reply to it, and is scored at every position.'}
        {form.evalText === 'custom' && 'Paste a text, drop a text file on the box, or choose one. Longer than the context, it is read in overlapping windows.'}
      </p>
      {form.evalText === 'custom' && (
        <div className={`eval-custom${over ? ' drop-over' : ''}`} onDragOver={(e) => (e.preventDefault(), setOver(true))} onDragLeave={() => setOver(false)} onDrop={onDrop}>
          <textarea
            data-testid="bench-eval-textarea"
            aria-label="Evaluation text"
            rows={5}
            value={form.customText}
            disabled={busy}
            placeholder="Paste or drop the text to evaluate on…"
            onChange={(e) => {
              setFileError(null);
              setForm({ customText: e.target.value.slice(0, MAX_EVAL_CHARS), customName: 'pasted text' });
            }}
          />
          <div className="row">
            <label className="btn btn-secondary small file-btn">
              Choose file…
              <input
                type="file"
                accept=".txt,.md,.py,.js,.ts,.json,.csv,text/*"
                data-testid="bench-eval-file"
                disabled={busy}
                onChange={(e) => {
                  const file = e.target.files?.[0];
                  if (file) void readTextFile(file, setFileError);
                  e.target.value = '';
                }}
              />
            </label>
            <span className="muted small" data-testid="bench-eval-custom-info">
              {form.customText ? `${form.customName}: ${form.customText.length.toLocaleString('en-US')} characters` : 'no text yet'}
            </span>
          </div>
          {fileError && (
            <p className="field-error" role="alert" data-testid="bench-eval-file-error">
              {fileError}
            </p>
          )}
        </div>
      )}
    </div>
  );
}

/** The benchmark's settings, its button and its progress. */
export function BenchPanel() {
  const form = useBench((s) => s.form);
  const status = useBench((s) => s.status);
  const error = useBench((s) => s.error);
  const { setForm, start } = useBench.getState();
  const load = useApp((s) => s.load);
  const sweeping = useSweep((s) => s.status === 'running');
  const compareRunning = useApp((s) => s.run.status === 'running');
  const settings = useApp((s) => s.settings);
  const ready = load.status === 'ready';
  const busy = status === 'running' || status === 'fetching';
  const synthetic = load.info?.synthetic ?? false;
  const setSize = form.promptSet === 'builtin' ? BUILTIN_PROMPTS.length : 805;
  const count = form.sampleSize === 'all' ? setSize : Math.min(form.sampleSize, setSize);
  const engines = load.info?.engines.map((e) => e.format) ?? [];
  const generations = engines.length * (form.warmup + count * form.repetitions);
  // One engine loaded: it runs alone (no baseline, so no quality figures).
  const alone = engines.length === 1 ? engines[0]! : null;
  const [baseline, candidate] = alone ? [] : engines;

  return (
    <div className="card" data-testid="bench-panel">
      <div className="card-head">
        <h2>Benchmark</h2>
        <span className="muted small">
          {!ready ? 'load a model first' : alone ? `${load.info?.name} · ${engineLabel(alone)} alone` : `${load.info?.name} · ${engineLabel(candidate!)} vs the ${engineLabel(baseline!)} baseline`}
        </span>
      </div>
      <p className="hint">
        {!alone
          ? `Runs a prompt set through both loaded engines and measures prefill and decode speed, time to first token and end-to-end latency (p50/p95/p99), GPU memory, output quality against the ${baseline ? `${engineLabel(baseline)} baseline` : 'baseline'} (ROUGE-L, exact match, token agreement) and the cost per million generated tokens.`
          : `Runs a prompt set through the one loaded engine and measures prefill and decode speed, time to first token and end-to-end latency (p50/p95/p99), GPU memory and the cost per million generated tokens. With no baseline there is no output quality to measure.`}
      </p>
      <div className="bench-form">
        <div className="field">
          <label>Prompt set</label>
          <div className="segmented" role="radiogroup" aria-label="Prompt set">
            {(['builtin', 'alpaca'] as const).map((p) => (
              <button key={p} role="radio" aria-checked={form.promptSet === p} className={form.promptSet === p ? 'on' : ''} disabled={busy} data-testid={`bench-set-${p}`} onClick={() => setForm({ promptSet: p, sampleSize: p === 'builtin' ? 'all' : 20 })}>
                {p === 'builtin' ? `Built-in (${BUILTIN_PROMPTS.length})` : 'AlpacaEval (805)'}
              </button>
            ))}
          </div>
        </div>
        <div className="field">
          <label htmlFor="bench-sample">Sample</label>
          <select id="bench-sample" data-testid="bench-sample" value={String(form.sampleSize)} disabled={busy} onChange={(e) => setForm({ sampleSize: e.target.value === 'all' ? 'all' : Number(e.target.value) })}>
            {/* samples smaller than the set, and all of it (the 12 built-in prompts offer 5 and all) */}
            {SAMPLE_SIZES.filter((n) => n === 'all' || n < setSize).map((n) => (
              <option key={String(n)} value={String(n)}>
                {sampleLabel(n)} {n === 'all' ? `(${setSize})` : 'prompts'}
              </option>
            ))}
          </select>
        </div>
        {FIELDS.map((f) => (
          <div className="field" key={f.key}>
            <label htmlFor={`bench-${f.key}`}>
              {f.label} <span className="muted small">{f.hint}</span>
            </label>
            <input
              id={`bench-${f.key}`}
              data-testid={`bench-${f.key}`}
              type="number"
              min={f.min}
              max={f.max}
              step={f.step}
              value={form[f.key]}
              disabled={busy}
              onChange={(e) => {
                let v = Number(e.target.value);
                if (e.target.value === '' || !Number.isFinite(v)) return;
                if (f.integer) v = Math.round(v);
                setForm({ [f.key]: Math.max(f.min, Math.min(f.max, v)) } as Partial<BenchForm>);
              }}
            />
          </div>
        ))}
      </div>
      <label className="check">
        <input type="checkbox" checked={form.greedy} disabled={busy} onChange={(e) => setForm({ greedy: e.target.checked })} />
        Greedy decoding, so the engines’ outputs are comparable
        {!form.greedy && (
          <span className="muted small">
            {' '}
            (using the Compare tab’s sampling: temperature {settings.temperature}, top-k {settings.topK || 'off'}, top-p {settings.topP}, seed {settings.seed})
          </span>
        )}
      </label>
      <EvalField busy={busy} alone={alone !== null} />
      {synthetic && (
        <div className="alert alert-info" role="note">
          <strong>Synthetic weights: speed only</strong>
          <p>Prompts become token ids and outputs are ids; speed, latency and memory are real, quality only says whether the two engines pick the same ids.</p>
        </div>
      )}
      {busy ? (
        <Progress />
      ) : (
        <div className="actions">
          <p className="hint">
            {count} {count === 1 ? 'prompt' : 'prompts'} × {form.repetitions} {form.repetitions === 1 ? 'run' : 'runs'} + {form.warmup} warm-up{form.batch > 1 ? `, ${form.batch} prompts at a time` : ''}, on {alone ? 'one engine' : `each of ${engines.length} engines`} ({engines.map(engineLabel).join(', ')}): {generations} generations of up to {form.maxNewTokens} tokens
            {form.evalText !== 'off' && ', then the teacher-forced evaluation'}.
          </p>
          <button className="btn btn-primary" data-testid="bench-run" onClick={start} disabled={!ready || compareRunning || sweeping} title={sweeping ? 'a batch sweep is running' : undefined}>
            Run benchmark
          </button>
        </div>
      )}
      {status === 'cancelled' && (
        <div className="alert alert-warn" role="status" data-testid="bench-cancelled">
          <strong>Benchmark cancelled</strong>
          <p>Partial results are discarded so that every saved run is complete.</p>
        </div>
      )}
      {status === 'error' && error && (
        <div className="alert alert-bad" role="alert" data-testid="bench-error">
          <strong>The benchmark failed</strong>
          <p>
            {error.name}: {error.message}
          </p>
        </div>
      )}
    </div>
  );
}
