import { useComparison } from './useComparison';
import { percent } from './format';
import { useApp } from '../store';

function Metric({ label, value, note, id }: { label: string; value: string; note: string; id: string }) {
  return (
    <div className="metric" data-testid={`metric-${id}`}>
      <div className="metric-value">{value}</div>
      <div className="metric-label">{label}</div>
      <div className="metric-note">{note}</div>
    </div>
  );
}

export function Comparison() {
  const c = useComparison();
  const synthetic = useApp((s) => s.load.info?.synthetic ?? false);
  if (!c) return null;
  const d = c.divergence;
  return (
    <div className="card" data-testid="comparison">
      <div className="card-head">
        <h2>INT8 against the FP16 baseline</h2>
        {d === null ? <span className="badge badge-ok">identical output</span> : <span className="badge badge-warn">diverges at token {d + 1}</span>}
      </div>
      <div className="metrics">
        <Metric id="agreement" label="token agreement" value={percent(c.agreement)} note={`same token at the same position, over ${Math.max(c.tokens.f16, c.tokens.int8)} tokens`} />
        <Metric id="divergence" label="first divergence" value={d === null ? 'none' : `token ${d + 1}`} note={d === null ? 'every token matches' : 'marked in both texts'} />
        <Metric id="rouge" label="ROUGE-L F1" value={c.rougeL.toFixed(3)} note={synthetic ? 'longest common sequence of token ids' : 'longest common word sequence'} />
        <Metric id="speedup" label="decode speed-up" value={c.speedup === null ? '—' : `${c.speedup.toFixed(2)}×`} note="INT8 tokens/s ÷ FP16 tokens/s" />
        <Metric id="memory" label="weight memory" value={c.memoryRatio === null ? '—' : `${c.memoryRatio.toFixed(2)}×`} note="INT8 bytes ÷ FP16 bytes" />
      </div>
    </div>
  );
}
