// One turn of a conversation in one engine's pane: the user's message, this engine's reply
// (Markdown or plain text, the divergence marked), its numbers, and what can be done with it.
import { useState } from 'react';
import { LineChart, Line, XAxis, YAxis, Tooltip, ResponsiveContainer } from 'recharts';
import { useApp, paneStats, type Pane } from '../store';
import type { Format } from '../protocol';
import { MarkdownText } from './Markdown';
import { ms, rate } from './format';
import { engineColor } from '../engines';

/** [start, end) of token `divergence` in the pane's text, or null. */
export function divergenceRange(pane: Pane, divergence: number | null): [number, number] | null {
  if (divergence === null || divergence >= pane.offsets.length) return null;
  return [pane.offsets[divergence]!, pane.offsets[divergence + 1] ?? pane.text.length];
}

/** The reply as plain text with the first diverging token marked and everything after it shaded. */
export function PlainText({ pane, divergence }: { pane: Pane; divergence: number | null }) {
  const r = divergenceRange(pane, divergence);
  if (!r) return <>{pane.text}</>;
  const { text } = pane;
  return (
    <>
      {text.slice(0, r[0])}
      <mark className="div-first" data-testid="divergence" title={`first divergence: token ${divergence! + 1}`}>
        {text.slice(r[0], r[1])}
      </mark>
      <span className="div-rest">{text.slice(r[1])}</span>
    </>
  );
}

/** Milliseconds per generated token (the first is the prefill: time to first token). */
export function tokenLatencies(times: readonly number[]): number[] {
  return times.map((t, i) => (i === 0 ? t : t - times[i - 1]!));
}

function LatencyPlot({ pane, format }: { pane: Pane; format: Format }) {
  const data = tokenLatencies(pane.times)
    .slice(1)
    .map((v, i) => ({ token: i + 2, ms: Number(v.toFixed(2)) }));
  if (data.length === 0) return <p className="hint">One token: its time is the prefill (time to first token).</p>;
  return (
    <div className="latency-plot" data-testid={`latency-plot-${format}`}>
      <ResponsiveContainer width="100%" height={120}>
        <LineChart data={data} margin={{ top: 4, right: 8, bottom: 0, left: -12 }}>
          <XAxis dataKey="token" tick={{ fontSize: 10 }} />
          <YAxis tick={{ fontSize: 10 }} unit=" ms" width={56} />
          <Tooltip formatter={(v) => [`${String(v)} ms`, 'decode step']} labelFormatter={(l) => `token ${String(l)}`} />
          <Line type="monotone" dataKey="ms" stroke={engineColor(format)} dot={false} isAnimationActive={false} />
        </LineChart>
      </ResponsiveContainer>
    </div>
  );
}

/** Prefill and decode numbers of one reply: what the KV cache kept, what was prefilled, how fast. */
function TurnStats({ pane, format, index }: { pane: Pane; format: Format; index: number }) {
  const [plot, setPlot] = useState(false);
  const s = paneStats(pane);
  const n = pane.times.length;
  const decodeMs = n > 1 ? pane.times[n - 1]! - pane.times[0]! : null;
  const prefilled = pane.promptTokens - pane.reusedTokens;
  return (
    <div className="turn-stats" data-testid={`turn-stats-${index}-${format}`} data-prompt={pane.promptTokens} data-reused={pane.reusedTokens} data-prefilled={prefilled} data-tokens={n}>
      <span title="prompt tokens: reused from the KV cache of the previous turn + prefilled now">
        prompt {pane.promptTokens} ({pane.reusedTokens > 0 ? `${pane.reusedTokens} cached, ` : ''}
        {prefilled} prefilled)
      </span>
      <span title="prefill: time to the first token">prefill {ms(s.ttftMs)}</span>
      <span title="decode: the tokens after the first">
        decode {n > 1 ? `${n - 1} tok in ${ms(decodeMs)}` : '—'} · {rate(s.tokensPerSecond)}
      </span>
      {pane.droppedTurns > 0 && (
        <span className="warn" data-testid={`dropped-${index}-${format}`} title="the conversation no longer fit the context: the oldest turns were left out and the rest prefilled again">
          {pane.droppedTurns} oldest turn{pane.droppedTurns > 1 ? 's' : ''} left out to fit
        </span>
      )}
      {n > 1 && (
        <button className="link" aria-expanded={plot} onClick={() => setPlot(!plot)} data-testid={`latency-${index}-${format}`}>
          {plot ? 'hide latency' : 'latency per token'}
        </button>
      )}
      {plot && <LatencyPlot pane={pane} format={format} />}
    </div>
  );
}

function CopyButton({ text, label }: { text: string; label: string }) {
  const [done, setDone] = useState<'copied' | 'failed' | null>(null);
  return (
    <button
      className="btn btn-ghost small"
      aria-label={label}
      onClick={() => {
        navigator.clipboard.writeText(text).then(
          () => setDone('copied'),
          () => setDone('failed'),
        );
        setTimeout(() => setDone(null), 1500);
      }}
    >
      {done === 'copied' ? 'Copied' : done === 'failed' ? 'Copy failed' : 'Copy'}
    </button>
  );
}

export interface TurnViewProps {
  index: number;
  user: string;
  pane: Pane | undefined;
  format: Format;
  engineName: string;
  divergence: number | null;
  /** the turn being generated or just generated (it can be regenerated), with the pane's testids */
  current: boolean;
  /** what the reply area says while it has no text */
  placeholder: string | null;
  running: boolean;
}

export function TurnView({ index, user, pane, format, engineName, divergence, current, placeholder, running }: TurnViewProps) {
  const markdown = useApp((s) => s.settings.markdown);
  const { editTurn, regenerate } = useApp.getState();
  const busy = useApp((s) => s.run.status === 'running' || s.load.status !== 'ready');
  return (
    <div className="turn" data-testid={`turn-${index}-${format}`}>
      <div className="bubble bubble-user">
        <div className="bubble-text">{user}</div>
        <div className="bubble-actions">
          <button className="btn btn-ghost small" disabled={running} data-testid={`edit-${index}-${format}`} aria-label={`Edit message ${index + 1} and send it again`} onClick={() => editTurn(index)}>
            Edit
          </button>
        </div>
      </div>
      <div className="bubble bubble-reply">
        <div className={`output${markdown ? ' output-md' : ''}`} data-testid={current ? `output-${format}` : `reply-${index}-${format}`} aria-live={current ? 'polite' : undefined}>
          {!pane || (pane.text === '' && pane.status !== 'running') ? (
            <span className="placeholder">{placeholder ?? (pane ? 'No reply.' : 'This engine did not answer this message.')}</span>
          ) : markdown ? (
            <MarkdownText text={pane.text} mark={divergenceRange(pane, divergence)} />
          ) : (
            <PlainText pane={pane} divergence={divergence} />
          )}
          {pane?.status === 'running' && <span className="cursor" aria-hidden="true" />}
        </div>
        {pane && pane.status !== 'waiting' && (
          <div className="bubble-actions">
            <TurnStats pane={pane} format={format} index={index} />
            {pane.text !== '' && <CopyButton text={pane.text} label={`Copy ${engineName}'s reply ${index + 1}`} />}
            {current && !running && (
              <button className="btn btn-ghost small" disabled={busy} data-testid={`regenerate-${format}`} aria-label="Regenerate the last reply of both engines" onClick={regenerate}>
                Regenerate
              </button>
            )}
          </div>
        )}
      </div>
    </div>
  );
}
