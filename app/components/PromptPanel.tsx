import { useEffect, useState } from 'react';
import { useApp, type Settings } from '../store';
import { modelName } from '../protocol';
import { engineLabel } from '../engines';
import { useBench } from '../bench_store';
import { useSweep } from '../sweep_store';

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

/** The last session's model, offered again (loading it reads the cache; nothing starts without a click). */
function ResumeOffer() {
  const resume = useApp((s) => s.resume);
  const cached = useApp((s) => (s.plan.status === 'ready' && s.resume && s.plan.plan.name === modelName(s.resume.ref) ? s.resume.engines.every((f) => s.plan.status === 'ready' && s.plan.plan.engines.find((e) => e.format === f)?.cached) : null));
  const turns = useApp((s) => s.conversation.turns.length + (s.run.chat && s.run.status !== 'idle' ? 1 : 0));
  const { resumeModel } = useApp.getState();
  if (!resume) return null;
  return (
    <div className="alert alert-info resume" role="region" aria-label="Continue the last session" data-testid="resume">
      <p>
        Last time: <strong>{modelName(resume.ref)}</strong> ({resume.engines.map(engineLabel).join(' vs ')}, context {resume.contextLength})
        {turns > 0 ? `, a conversation of ${turns} message${turns > 1 ? 's' : ''}` : ''}.{' '}
        {cached === true ? 'Its weights are in this browser’s cache: loading needs no download.' : cached === false ? 'Its weights are not all cached: loading downloads them.' : ''}
      </p>
      <div className="actions">
        <button className="btn btn-primary small" data-testid="resume-load" onClick={() => resumeModel(true)}>
          {cached ? 'Load from cache' : 'Load it'}
        </button>
        <button className="btn btn-ghost small" data-testid="resume-dismiss" onClick={() => resumeModel(false)}>
          Not now
        </button>
      </div>
    </div>
  );
}

/** Chat mode: the system prompt, the conversation's controls, the reply rendering, the prompt as the model sees it. */
function ChatTools() {
  const system = useApp((s) => s.conversation.system);
  const info = useApp((s) => s.load.info?.systemPrompt ?? null);
  const markdown = useApp((s) => s.settings.markdown);
  const running = useApp((s) => s.run.status === 'running');
  const count = useApp((s) => s.conversation.turns.length + (s.run.chat && s.run.status !== 'idle' ? 1 : 0));
  const first = useApp((s) => s.load.formats[0] ?? null);
  // (a selector returns the pane as it is: a new object per call would re-render forever)
  const seenPane = useApp((s) => (first && s.run.chat && s.run.status !== 'idle' ? s.run.panes[first] : null));
  const seen = first && seenPane?.promptText ? { format: first, text: seenPane.promptText, pieces: seenPane.promptPieces } : null;
  const { setSystemPrompt, clearConversation, setSettings } = useApp.getState();
  const unsupported = info !== null && !info.supported;
  return (
    <div className="chat-tools">
      <div className="chat-tools-row">
        <details className="system-prompt">
          <summary>
            System prompt <span className="muted small">{system.trim() ? 'your own' : info?.defaultPrompt ? 'the template’s default' : 'none'}</span>
          </summary>
          {unsupported ? (
            <p className="hint">This model’s chat template takes no system message.</p>
          ) : (
            <>
              <label className="sr-only" htmlFor="system-prompt">
                System prompt
              </label>
              <textarea
                id="system-prompt"
                data-testid="system-prompt"
                rows={2}
                value={system}
                disabled={running}
                placeholder={info?.defaultPrompt ? `Blank: the template’s default, “${info.defaultPrompt}”` : 'Blank: none'}
                onChange={(e) => setSystemPrompt(e.target.value)}
              />
              <p className="hint">Changing it changes the start of the prompt: the next message prefills the whole conversation again.</p>
            </>
          )}
        </details>
        <div className="segmented" role="radiogroup" aria-label="Show replies as">
          <button role="radio" aria-checked={markdown} className={markdown ? 'on' : ''} data-testid="render-markdown" onClick={() => setSettings({ markdown: true })}>
            Markdown
          </button>
          <button role="radio" aria-checked={!markdown} className={!markdown ? 'on' : ''} data-testid="render-plain" onClick={() => setSettings({ markdown: false })}>
            Plain text
          </button>
        </div>
        <button className="btn btn-ghost small" data-testid="clear-conversation" disabled={running || count === 0} onClick={clearConversation}>
          New conversation
        </button>
      </div>
      {seen && <PromptSeen {...seen} />}
    </div>
  );
}

/** The last message's prompt as the model saw it: the templated text, or its tokens one by one. */
function PromptSeen({ format, text, pieces }: { format: string; text: string; pieces: string[] }) {
  const [tokens, setTokens] = useState(false);
  return (
    <details className="prompt-seen" data-testid="prompt-seen">
      <summary>
        The prompt as the model sees it <span className="muted small">{engineLabel(format)}, {pieces.length} tokens</span>
      </summary>
      <div className="segmented small" role="radiogroup" aria-label="Show the prompt as">
        <button role="radio" aria-checked={!tokens} className={!tokens ? 'on' : ''} onClick={() => setTokens(false)}>
          Text
        </button>
        <button role="radio" aria-checked={tokens} className={tokens ? 'on' : ''} data-testid="prompt-seen-tokens" onClick={() => setTokens(true)}>
          Tokens
        </button>
      </div>
      {tokens ? (
        <div className="token-chips" data-testid="prompt-seen-pieces">
          {pieces.map((p, i) => (
            <span key={i} className="token-chip" title={`token ${i + 1}`}>
              {p.replace(/\n/g, '↵')}
            </span>
          ))}
        </div>
      ) : (
        <pre className="prompt-text" data-testid="prompt-seen-text">
          {text}
        </pre>
      )}
    </details>
  );
}

export function PromptPanel() {
  const settings = useApp((s) => s.settings);
  const load = useApp((s) => s.load);
  const run = useApp((s) => s.run);
  const { setSettings, compare, stop } = useApp.getState();
  const benchRunning = useBench((s) => s.status === 'running' || s.status === 'fetching');
  const sweeping = useSweep((s) => s.status === 'running');
  const benchBusy = benchRunning || sweeping;
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
      <ResumeOffer />
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
          // Enter sends (Ctrl+Enter too), Shift+Enter is a new line; an IME composing text keeps its Enter.
          if (e.key !== 'Enter' || e.shiftKey || e.nativeEvent.isComposing) return;
          e.preventDefault();
          compare();
        }}
      />
      {chat && <ChatTools />}
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
          {running ? 'Esc stops.' : ready && !blank ? 'Enter runs it (Shift+Enter: a new line).' : ''}
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
