import { useComparison } from './useComparison';
import { percent } from './format';
import { useApp } from '../store';
import { engineLabel } from '../engines';

function Metric({ label, value, note, id }: { label: string; value: string; note: string; id: string }) {
  return (
    <div className="metric" data-testid={`metric-${id}`}>
      <div className="metric-value">{value}</div>
      <div className="metric-label">{label}</div>
      <div className="metric-note">{note}</div>
    </div>
  );
}

/** With one engine loaded (no baseline) the page says so instead of showing metrics it cannot have. */
function Alone({ format }: { format: string }) {
  return (
    <div className="card" data-testid="comparison-alone">
      <p className="hint">
        {engineLabel(format)} is loaded alone: there is no baseline to compare its output, speed or memory against. Pick a baseline in the model card and load both to compare.
      </p>
    </div>
  );
}

export function Comparison() {
  const c = useComparison();
  const synthetic = useApp((s) => s.load.info?.synthetic ?? false);
  const loaded = useApp((s) => (s.load.status === 'ready' ? s.load.info?.engines : undefined));
  if (loaded?.length === 1) return <Alone format={loaded[0]!.format} />;
  if (!c) return null;
  if (c.incomplete && c.compared === 0) {
    return (
      <div className="card" data-testid="comparison" data-incomplete="true">
        <p className="hint">The run was stopped before both engines produced a token: there is nothing to compare.</p>
      </div>
    );
  }
  const d = c.divergence;
  const base = engineLabel(c.baseline);
  const cand = engineLabel(c.candidate);
  return (
    <div className="card" data-testid="comparison" data-baseline={c.baseline} data-candidate={c.candidate} data-incomplete={c.incomplete}>
      <div className="card-head">
        <h2>
          {cand} against the {base} baseline
        </h2>
        <span className="row">
          {c.incomplete && (
            <span className="badge badge-speed" data-testid="comparison-incomplete" title="an engine was stopped: only the tokens both produced are compared">
              stopped: first {c.compared} tokens compared
            </span>
          )}
          {d === null ? <span className="badge badge-ok">{c.incomplete ? 'identical so far' : 'identical output'}</span> : <span className="badge badge-warn">diverges at token {d + 1}</span>}
        </span>
      </div>
      <div className="metrics">
        <Metric id="agreement" label="token agreement" value={percent(c.agreement)} note={`same token at the same position, over ${c.compared} tokens${c.incomplete ? ' (both produced)' : ''}`} />
        <Metric id="divergence" label="first divergence" value={d === null ? 'none' : `token ${d + 1}`} note={d === null ? 'every token matches' : 'marked in both texts'} />
        <Metric id="rouge" label="ROUGE-L F1" value={c.rougeL.toFixed(3)} note={synthetic ? 'longest common sequence of token ids' : 'longest common word sequence'} />
        <Metric id="speedup" label="decode speed-up" value={c.speedup === null ? '—' : `${c.speedup.toFixed(2)}×`} note={`${cand} tokens/s ÷ ${base} tokens/s`} />
        <Metric id="memory" label="weight memory" value={c.memoryRatio === null ? '—' : `${c.memoryRatio.toFixed(2)}×`} note={`${cand} bytes ÷ ${base} bytes`} />
      </div>
    </div>
  );
}
