import { useApp } from '../store';
import { useBench } from '../bench_store';
import { bytes, params } from './format';

/** The memory estimate from config.json alone, and the go-ahead button. */
export function PlanView() {
  const plan = useApp((s) => s.plan);
  const gpu = useApp((s) => s.gpu);
  const load = useApp((s) => s.load);
  const loadModel = useApp((s) => s.loadModel);
  const benchBusy = useBench((s) => s.status === 'running' || s.status === 'fetching');

  if (gpu.status === 'unavailable') return null;
  if (plan.status === 'idle' || gpu.status === 'starting') return <p className="hint">Pick a model to see how much GPU memory it needs.</p>;
  if (plan.status === 'checking') return <p className="hint"><span className="spinner" /> Reading config.json…</p>;
  if (plan.status === 'error') {
    return (
      <div className="alert alert-bad" role="alert" data-testid="plan-error">
        <strong>{plan.error.name === 'HubError' ? (/gated or private/.test(plan.error.message) ? 'Access needed' : 'Could not reach the model') : 'This model cannot be used'}</strong>
        <p>{plan.error.message}</p>
      </div>
    );
  }
  const p = plan.plan;
  const both = p.engines.reduce((a, e) => a + e.totalBytes, 0);
  const allCached = p.engines.every((e) => e.cached);
  const busy = load.status === 'loading' || benchBusy;
  return (
    <div className="plan" data-testid="plan">
      <div className="plan-title">
        <strong>
          {p.name}
          {p.synthetic && <span className="badge badge-speed">speed only</span>}
        </strong>
        <span className="muted">
          {p.modelType} · {params(p.params)} params · {p.layers} layers · context {p.contextLength}
        </span>
      </div>
      <table className="table">
        <thead>
          <tr>
            <th>GPU memory</th>
            <th>weights</th>
            <th>KV cache</th>
            <th>total</th>
          </tr>
        </thead>
        <tbody>
          {p.engines.map((e) => (
            <tr key={e.format}>
              <td>
                {e.format === 'f16' ? 'FP16' : 'INT8'}
                {e.cached && <span className="badge badge-ok">cached</span>}
              </td>
              <td>{bytes(e.weightBytes)}</td>
              <td>{bytes(e.kvBytes)}</td>
              <td>{bytes(e.totalBytes)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {p.refusal ? (
        <div className="alert alert-bad" role="alert" data-testid="plan-refusal">
          <strong>Too large for this GPU</strong>
          <p>{p.refusal}</p>
        </div>
      ) : (
        <p className="hint">
          Both engines stay loaded: {bytes(both)} together. Largest buffer {bytes(p.largestBuffer.bytes)} ({p.largestBuffer.label}); this adapter allows {bytes(p.maxBufferBytes)}.
        </p>
      )}
      <button className="btn btn-primary btn-wide" data-testid="load" disabled={!!p.refusal || busy} onClick={loadModel}>
        {busy ? 'Loading…' : load.status === 'ready' && load.info?.name === p.name ? 'Reload' : p.synthetic ? 'Generate weights & load' : allCached ? 'Load from cache' : 'Download & load'}
      </button>
    </div>
  );
}
