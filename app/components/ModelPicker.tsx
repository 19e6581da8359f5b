import { useState, type FormEvent } from 'react';
import { DEFAULT_HUB } from '../../src/hub/hub';
import { useApp, contextChoices } from '../store';
import { PRESETS, SYNTHETIC_PRESETS } from '../presets';
import { parameterCount, parseConfig, type ModelConfig } from '../../src/model/config';
import { presetConfig } from '../../src/bench/presets';
import { bytes, params } from './format';
import { engineBytes } from '../engine_plan';
import { LARGE_DEFAULT, pairName } from '../engines';
import { PlanView } from './PlanView';
import { LoadProgressView } from './LoadProgress';

/** A large preset's need: the GPU memory of what it loads by default (Q4 alone), at the chosen context, from its config. */
function LargeBadge({ config }: { config: ModelConfig }) {
  const contextLength = useApp((s) => s.contextLength);
  const need = engineBytes(config, LARGE_DEFAULT.candidate, contextLength);
  return (
    <span className="badge badge-warn" data-testid="large-badge" data-bytes={need} title={`too large for two engines on most GPUs; loads ${pairName(LARGE_DEFAULT)} unless you pick a pair`}>
      ≈{bytes(need)}: {pairName(LARGE_DEFAULT)}
    </span>
  );
}

export function ModelPicker() {
  const model = useApp((s) => s.model);
  const hubUrl = useApp((s) => s.hubUrl);
  const loading = useApp((s) => s.load.status === 'loading');
  const contextLength = useApp((s) => s.contextLength);
  const plan = useApp((s) => s.plan);
  const maxContext = plan.status === 'ready' ? plan.plan.maxContextLength : null;
  const choices = contextChoices(maxContext);
  // What the engines will be built with: the choice, capped by the model.
  const shownContext = maxContext === null ? contextLength : Math.min(contextLength, maxContext);
  const hubToken = useApp((s) => s.hubToken);
  const { selectHub, selectLocal, selectSynthetic, setContextLength, setHubToken } = useApp.getState();
  const [id, setId] = useState('');
  const [token, setToken] = useState('');
  const [idError, setIdError] = useState<string | null>(null);
  const selectedRepo = model?.kind === 'hub' ? model.repo : null;
  const selectedSynthetic = model?.kind === 'synthetic' ? model.preset : null;

  const submit = (e: FormEvent) => {
    e.preventDefault();
    try {
      selectHub(id);
      setIdError(null);
    } catch (err) {
      setIdError((err as Error).message);
    }
  };

  return (
    <div className="card" data-testid="model-card">
      <div className="card-head">
        <h2>Model</h2>
        {hubUrl !== DEFAULT_HUB && (
          <span className="tag" title="set with the ?hub= query parameter">
            hub: {hubUrl}
          </span>
        )}
      </div>
      <div className="group-label">From the Hugging Face hub</div>
      <ul className="presets" aria-label="Preset models">
        {PRESETS.map((p) => (
          <li key={p.repo}>
            <button className={`preset${selectedRepo === p.repo ? ' selected' : ''}`} disabled={loading} onClick={() => selectHub(p.repo)} title={p.repo}>
              <span className="preset-name">
                {p.label}
                {p.large && <LargeBadge config={parseConfig(p.large.config)} />}
              </span>
              <span className="preset-meta">
                {p.params} params · {p.download}
              </span>
            </button>
          </li>
        ))}
      </ul>

      <div className="group-label">
        Synthetic models <span className="badge badge-speed">speed only</span>
      </div>
      <p className="hint group-hint">Deterministic random weights with a real model’s shapes, made on the GPU: nothing to download. Speed and memory are real; the text is meaningless.</p>
      <ul className="presets" aria-label="Synthetic models" data-testid="synthetic-presets">
        {SYNTHETIC_PRESETS.map((p) => (
          <li key={p.preset}>
            <button
              className={`preset preset-synthetic${selectedSynthetic === p.preset ? ' selected' : ''}`}
              disabled={loading}
              onClick={() => selectSynthetic(p.preset)}
              title={`synthetic:${p.preset}`}
              data-testid={`synthetic-${p.preset}`}
            >
              <span className="preset-name">
                {p.label}
                {p.large && <LargeBadge config={presetConfig(p.preset)} />}
              </span>
              <span className="preset-meta">{params(parameterCount(presetConfig(p.preset)))} params · random</span>
            </button>
          </li>
        ))}
      </ul>

      <form className="field" onSubmit={submit}>
        <label htmlFor="repo-id">Any Hugging Face model id</label>
        <div className="row">
          <input
            id="repo-id"
            data-testid="repo-input"
            type="text"
            placeholder="owner/name"
            spellCheck={false}
            autoComplete="off"
            value={id}
            disabled={loading}
            onChange={(e) => setId(e.target.value)}
          />
          <button className="btn btn-secondary" type="submit" disabled={loading || id.trim() === ''} data-testid="repo-use">
            Use
          </button>
        </div>
        {idError && <p className="field-error">{idError}</p>}
      </form>

      <form
        className="field"
        onSubmit={(e) => {
          e.preventDefault();
          setHubToken(token);
        }}
      >
        <label htmlFor="hub-token">
          Access token <span className="muted small">for gated models; kept in this tab only</span>
        </label>
        <div className="row">
          <input id="hub-token" data-testid="hub-token" type="password" placeholder="hf_…" autoComplete="off" spellCheck={false} value={token} disabled={loading} onChange={(e) => setToken(e.target.value)} />
          <button className="btn btn-secondary" type="submit" disabled={loading || token.trim() === hubToken} data-testid="hub-token-use">
            {token.trim() === '' && hubToken ? 'Clear' : 'Set'}
          </button>
        </div>
      </form>

      <div className="field">
        <label>Or a model folder on this computer</label>
        <label className={`btn btn-secondary file-btn${loading ? ' disabled' : ''}`}>
          Choose folder…
          <input
            type="file"
            disabled={loading}
            {...{ webkitdirectory: '', directory: '' }}
            onChange={(e) => selectLocal([...(e.target.files ?? [])])}
          />
        </label>
        {model?.kind === 'local' && (
          <p className="hint">
            <strong>{model.name}</strong>: {model.files.length} files (config.json, tokenizer.json and *.safetensors are read; local folders are not cached)
          </p>
        )}
      </div>

      <div className="field field-inline">
        <label htmlFor="ctx">Context length</label>
        <select id="ctx" data-testid="context" value={shownContext} disabled={loading} onChange={(e) => setContextLength(Number(e.target.value))}>
          {choices.map((c) => (
            <option key={c} value={c}>
              {c} tokens{c === maxContext ? ' (the model’s maximum)' : ''}
            </option>
          ))}
        </select>
      </div>

      <PlanView />
      <LoadProgressView />
    </div>
  );
}
