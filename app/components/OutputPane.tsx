import { useEffect, useRef } from 'react';
import { useApp, paneStats, type Pane, type Turn } from '../store';
import { firstDivergence } from '../../src/bench/metrics';
import { PlainText, TurnView } from './ChatTurn';
import { modelName, type Format } from '../protocol';
import { useComparison } from './useComparison';
import { bytes, ms, rate } from './format';
import { engineColor, engineLabel, engineTitle, type PaneRole } from '../engines';

const STATUS: Record<Pane['status'], string> = { waiting: 'Waiting', running: 'Generating', done: 'Done', stopped: 'Stopped' };
/** Why a finished pane ended (a stopped one says Stopped already). */
const FINISH: Record<'eos' | 'length' | 'context', string> = { eos: 'end of text', length: 'token limit', context: 'context full' };

/** One engine's output and numbers; `role` says whether it is the baseline, the candidate or alone. */
export function OutputPane({ format, role }: { format: Format; role: PaneRole }) {
  const pane = useApp((s) => s.run.panes[format]);
  const runStatus = useApp((s) => s.run.status);
  const loaded = useApp((s) => s.load.info?.engines.find((e) => e.format === format) ?? null);
  const loadedName = useApp((s) => s.load.info?.name ?? null);
  // Another model picked (or a load that failed) after this one was loaded: the pane says which model it holds.
  const selected = useApp((s) => (s.model ? modelName(s.model) : null));
  const stale = loaded !== null && loadedName !== null && selected !== null && selected !== loadedName;
  const comparison = useComparison();
  const synthetic = useApp((s) => s.load.info?.synthetic ?? false);
  const stats = paneStats(pane);
  const idle = runStatus === 'idle';
  const finish = pane.status === 'done' && pane.finish && pane.finish !== 'stopped' ? pane.finish : null;
  // A pane that never started: skipped by Stop, or not run because the prompt was refused.
  const never = pane.status === 'waiting' && (runStatus === 'stopped' || runStatus === 'error');
  const status = idle
    ? loaded ? (stale ? `Holds ${loadedName}` : 'Ready') : 'Not loaded'
    : never ? (runStatus === 'stopped' ? 'Skipped' : 'Not run') : STATUS[pane.status] + (finish ? ` · ${FINISH[finish]}` : '');
  const contextLength = loaded?.contextLength ?? null;
  const turns = useApp((s) => s.conversation.turns);
  const user = useApp((s) => s.run.user);
  const formats = useApp((s) => s.load.formats);
  // A conversation: the chat turns so far and the current one (a Raw run shows its output alone).
  const chatView = useApp((s) => (s.run.status === 'idle' ? s.conversation.turns.length > 0 : s.run.chat));
  const placeholder = idle
    ? stale
      ? `This engine holds ${loadedName}; Compare runs it until ${selected} is loaded.`
      : 'Output appears here.'
    : never
      ? runStatus === 'stopped'
        ? 'Skipped: the run was stopped before this engine started.'
        : 'Not run: the run failed before this engine started (see above).'
      : pane.status === 'waiting'
        ? role === 'candidate'
          ? 'Runs after the baseline.'
          : 'Starting…'
        : '';
  // Where each earlier turn's replies first differ (the pair's first two engines).
  const turnDivergence = (t: Turn) => {
    const [a, b] = formats.map((f) => t.panes[f]);
    return a && b ? firstDivergence(a.ids.slice(0, Math.min(a.ids.length, b.ids.length)), b.ids.slice(0, Math.min(a.ids.length, b.ids.length))) : null;
  };
  // Follow the reply as it streams, unless the reader has scrolled up.
  const chatRef = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = chatRef.current;
    if (el && el.scrollHeight - el.scrollTop - el.clientHeight < 120) el.scrollTop = el.scrollHeight;
  }, [pane.text, turns.length]);
  return (
    <div className={`card pane pane-${role}`} style={{ ['--engine' as string]: engineColor(format) }} data-testid={`pane-${format}`} data-role={role} data-status={idle ? 'idle' : pane.status}>
      <div className="card-head">
        <h2 title={engineTitle(format)}>
          {engineLabel(format)}
          <span className="badge badge-role">{role}</span>
          {loaded?.fromCache && <span className="badge badge-ok">from cache</span>}
          {synthetic && <span className="badge badge-speed" title="random weights: the output is token ids and means nothing">token ids</span>}
        </h2>
        <span className={`status status-${pane.status}`} data-testid={`status-${format}`} data-finish={finish ?? undefined}>
          {pane.status === 'running' && <span className="spinner" />}
          {status}
        </span>
      </div>
      <dl className="stats">
        <div>
          <dt>tokens/s</dt>
          <dd data-testid={`tps-${format}`}>{rate(stats.tokensPerSecond, '')}</dd>
        </div>
        <div>
          <dt>1st token</dt>
          <dd>{ms(stats.ttftMs)}</dd>
        </div>
        <div title="prompt tokens the engine was given (after the chat template, when Chat is on)">
          <dt>prompt</dt>
          <dd data-testid={`prompt-tokens-${format}`}>{pane.status === 'waiting' ? '—' : pane.promptTokens}</dd>
        </div>
        <div>
          <dt>tokens</dt>
          <dd data-testid={`tokens-${format}`}>{stats.tokens}</dd>
        </div>
        <div>
          <dt>weights</dt>
          <dd>{bytes(loaded?.weightBytes)}</dd>
        </div>
        <div>
          <dt>KV cache{loaded ? ` (${loaded.kvCache})` : ''}</dt>
          <dd>{bytes(loaded?.kvBytes)}</dd>
        </div>
      </dl>
      {chatView ? (
        <div className="chat" ref={chatRef} data-testid={`chat-${format}`}>
          {turns.map((t, i) => (
            <TurnView key={i} index={i} user={t.user} pane={t.panes[format]} format={format} engineName={engineLabel(format)} divergence={turnDivergence(t)} current={false} placeholder={null} running={runStatus === 'running'} />
          ))}
          {!idle && (
            <TurnView
              index={turns.length}
              user={user}
              pane={pane}
              format={format}
              engineName={engineLabel(format)}
              divergence={comparison?.divergence ?? null}
              current
              placeholder={placeholder}
              running={runStatus === 'running'}
            />
          )}
        </div>
      ) : (
        <div className={`output${synthetic ? ' output-ids' : ''}`} data-testid={`output-${format}`} aria-live="polite">
          {pane.text === '' && pane.status !== 'running' ? <span className="placeholder">{placeholder}</span> : <PlainText pane={pane} divergence={comparison?.divergence ?? null} />}
          {pane.status === 'running' && <span className="cursor" aria-hidden="true" />}
        </div>
      )}
      {finish === 'context' && (
        <p className="hint" data-testid={`context-full-${format}`}>
          The context{contextLength ? ` (${contextLength} tokens)` : ''} is full: prompt and output use all of it, so nothing more fits. Load the model with a longer context, or shorten the prompt.
        </p>
      )}
    </div>
  );
}
