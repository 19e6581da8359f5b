import { useEffect } from 'react';
import { useApp, type Settings } from '../store';
import { modelName } from '../protocol';
import { engineLabel } from '../engines';
import { useBench } from '../bench_store';

type NumericKey = 'temperature' | 'topK' | 'topP' | 'repetitionPenalty' | 'maxNewTokens' | 'seed';

const FIELDS: Array<{ key: NumericKey; label: string; hint: string; min: number; max?: number; step: number; integer?: boolean }> = [
  { key: 'maxNewTokens', label: 'Max new tokens', hint: 'per engine', min: 1, max: 4096, step: 1, integer: true },
  { key: 'temperature', label: 'Temperature', hint: '0 = greedy', min: 0, max: 5, step: 0.05 },
  { key: 'topK', label: 'Top-k', hint: '0 = off', min: 0, step: 1, integer: true },
  { key: 'topP', label: 'Top-p', hint: '1 = off', min: 0.01, max: 1, step: 0.01 },
  { key: 'repetitionPenalty', label: 'Repetition penalty', hint: '1 = off', min: 1, max: 3, step: 0.05 },
  { key: 'seed', label: 'Seed', hint: 'same for both', min: 0, max: 2 ** 32 - 1, step: 1, integer: true },
];

function NumberField({ f, value, disabled, onChange }: { f: (typeof FIELDS)[number]; value: number; disabled: boolean; onChange: (v: number) => void }) {
  const id = `set-${f.key}`;
  return (
    <div className="field">
      <label htmlFor={id}>
        {f.label} <span className="muted small">{f.hint}</span>
      </label>
      <input
        id={id}
        data-testid={id}
        type="number"
        min={f.min}
        max={f.max}
        step={f.step}
        value={value}
        disabled={disabled}
        onChange={(e) => {
          let v = Number(e.target.value);
          if (e.target.value === '' || !Number.isFinite(v)) return;
          if (f.integer) v = Math.round(v);
          v = Math.max(f.min, f.max === undefined ? v : Math.min(f.max, v));
          onChange(v);
        }}
      />
    </div>
  );
}

export function PromptPanel() {
  const settings = useApp((s) => s.settings);
  const load = useApp((s) => s.load);
  const run = useApp((s) => s.run);
  const { setSettings, compare, stop } = useApp.getState();
  const benchBusy = useBench((s) => s.status === 'running' || s.status === 'fetching');
  const ready = load.status === 'ready';
  const running = run.status === 'running';
  const hasChat = load.info?.hasChatTemplate ?? false;
  const chat = settings.chat && hasChat;
  const greedy = settings.temperature === 0;
  const synthetic = ready && (load.info?.synthetic ?? false);
  const blank = settings.prompt.trim() === '';
  const loadedName = ready ? (load.info?.name ?? null) : null;
  const software = useApp((s) => (s.gpu.status === 'ready' && s.gpu.software ? s.gpu.adapter : null));
  const selected = useApp((s) => (s.model ? modelName(s.model) : null));
  // Esc stops a run from anywhere on the page.
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Escape' && useApp.getState().run.status === 'running') useApp.getState().stop();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);

  return (
    <div className="card prompt-card">
      <div className="card-head">
        <h2>Prompt</h2>
        <div className="segmented" role="radiogroup" aria-label="Prompt format">
          <button role="radio" data-testid="mode-chat" aria-checked={chat} className={chat ? 'on' : ''} disabled={!hasChat || running} title={hasChat || !ready ? 'Wrap the prompt in the model’s chat template' : 'This model has no chat template'} onClick={() => setSettings({ chat: true })}>
            Chat
          </button>
          <button role="radio" data-testid="mode-raw" aria-checked={!chat} className={!chat ? 'on' : ''} disabled={running} title="Feed the text as it is" onClick={() => setSettings({ chat: false })}>
            Raw
          </button>
        </div>
      </div>
      {loadedName && (
        <p className="hint compare-model" data-testid="compare-model">
          Compare runs <strong>{loadedName}</strong> ({load.info!.engines.map((e) => engineLabel(e.format)).join(' vs ')})
          {selected && selected !== loadedName ? `; ${selected} is selected but not loaded: press Load in the model card to use it.` : '.'} Both engines were
          warmed up after loading, so the first run is not timed cold.
        </p>
      )}
      {software && (
        <p className="hint" data-testid="software-note">
          <strong>{software}</strong> is a software adapter: WebGPU runs on the CPU here, so tokens/s and time to first token measure the CPU, not a GPU.
          The engines’ ratios still say which does less work.
        </p>
      )}
      <textarea
        data-testid="prompt"
        rows={3}
        placeholder={ready ? (synthetic ? 'Token ids such as 1 403 407, or any text (read as bytes)…' : chat ? 'Ask the model something…' : 'Start a text for the model to continue…') : 'Load a model first'}
        value={settings.prompt}
        onChange={(e) => setSettings({ prompt: e.target.value })}
        onKeyDown={(e) => {
          if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) compare();
        }}
      />
      {synthetic ? (
        <div className="alert alert-info" role="note" data-testid="synthetic-note">
          <strong>Synthetic weights: the text is meaningless</strong>
          <p>This model has random weights and no tokenizer. The prompt becomes token ids (a list of ids is used as it is, other text byte by byte) and the output is shown as ids. Speed, memory and the agreement between the engines are real.</p>
        </div>
      ) : (
        ready && !hasChat && <p className="hint">This model has no chat template, so the prompt is fed as raw text.</p>
      )}
      <details className="sampling">
        <summary>
          Sampling <span className="muted small">{greedy ? 'greedy' : `temperature ${settings.temperature}, top-k ${settings.topK || 'off'}, top-p ${settings.topP}`} · {settings.maxNewTokens} tokens · seed {settings.seed}</span>
        </summary>
        <div className="grid-3">
          {FIELDS.map((f) => (
            <NumberField key={f.key} f={f} value={settings[f.key as keyof Settings] as number} disabled={running} onChange={(v) => setSettings({ [f.key]: v })} />
          ))}
        </div>
        <button className="btn btn-ghost small" disabled={running} onClick={() => setSettings({ temperature: 0, topK: 0, topP: 1, repetitionPenalty: 1 })}>
          Reset to greedy
        </button>
      </details>
      <div className="actions">
        <p className="hint" data-testid="compare-hint">
          {ready && blank && !running
            ? 'Type a prompt to compare the engines on.'
            : load.formats.length === 1 && ready
              ? 'One engine: no baseline to compare it with.'
              : 'Both engines run one after the other on the same GPU, with identical settings and seed.'}{' '}
          {running ? 'Esc stops.' : ready && !blank ? 'Ctrl+Enter runs it.' : ''}
        </p>
        {running ? (
          <button
            className="btn btn-danger"
            data-testid="stop"
            // Compare turns into Stop where it stands, so the second click of a double-click on
            // Compare lands here (detail 2): that is not a decision to cancel the run it started.
            onClick={(e) => e.detail <= 1 && stop()}
            disabled={run.stopping}
          >
            {run.stopping ? 'Stopping…' : 'Stop'}
          </button>
        ) : (
          <button className="btn btn-primary" data-testid="compare" onClick={compare} disabled={!ready || benchBusy || blank} title={benchBusy ? 'a benchmark is running' : blank ? 'type a prompt first' : undefined}>
            Compare
          </button>
        )}
      </div>
      {run.status === 'error' && run.error && (
        <div className="alert alert-bad" role="alert" data-testid="run-error">
          <strong>Generation failed</strong>
          <p>{run.error.message}</p>
        </div>
      )}
    </div>
  );
}
