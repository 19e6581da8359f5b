import { useApp } from '../store';
import { useBench } from '../bench_store';
import { bytes, params } from './format';
import { EnginePicker } from './EnginePicker';
import { allowedFormats, engineColor, engineLabel, engineTitle, formatsName, pairBytes, pairChanged, pairFormats, pairName, pairRefusals, weightRatio } from '../engines';

/** The memory estimate from config.json alone for every engine, the pair to compare (or one engine), what Load builds, and the go-ahead button. */
export function PlanView() {
  const plan = useApp((s) => s.plan);
  const gpu = useApp((s) => s.gpu);
  const load = useApp((s) => s.load);
  const pair = useApp((s) => s.pair);
  const changed = useApp(pairChanged);
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
  const picked = pairFormats(pair);
  const chosen = p.engines.filter((e) => picked.includes(e.format));
  const total = pairBytes(p.engines, pair);
  const allCached = chosen.every((e) => e.cached);
  const refusals = pairRefusals(p.engines, pair);
  const allowed = allowedFormats(p.engines);
  const busy = load.status === 'loading' || benchBusy;
  const names = pairName(pair);
  // The ratio column is against the baseline; with none, against FP16 (the checkpoint's own width).
  const reference = pair.baseline ?? 'f16';
  const loadedHere = load.status === 'ready' && load.info?.name === p.name;
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
      <table className="table plan-table">
        <thead>
          <tr>
            <th>GPU memory</th>
            <th>weights</th>
            <th title={`weight bytes over the ${engineLabel(reference)}${pair.baseline ? ' baseline' : ' engine'}'s`}>÷ {engineLabel(reference)}</th>
            <th>KV cache</th>
            <th>total</th>
          </tr>
        </thead>
        <tbody>
          {p.engines.map((e) => {
            const role = e.format === pair.baseline ? 'baseline' : e.format === pair.candidate ? 'candidate' : null;
            const ratio = weightRatio(p.engines, e.format, reference);
            return (
              <tr key={e.format} data-testid={`plan-row-${e.format}`} className={`${role ? 'picked' : ''}${e.refusal ? ' refused' : ''}`} title={e.refusal ?? engineTitle(e.format)}>
                <td>
                  <span className="engine-dot" style={{ background: engineColor(e.format) }} />
                  {engineLabel(e.format)}
                  {e.cached && <span className="badge badge-ok">cached</span>}
                  {e.refusal && <span className="badge badge-warn">too large</span>}
                </td>
                <td data-testid={`plan-weights-${e.format}`} data-bytes={e.weightBytes}>
                  {bytes(e.weightBytes)}
                </td>
                <td>{ratio === null ? '—' : `${ratio.toFixed(2)}×`}</td>
                <td title={`${e.kvCache} KV cache`}>
                  {bytes(e.kvBytes)} <span className="muted">{e.kvCache}</span>
                </td>
                <td>{bytes(e.totalBytes)}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
      <EnginePicker engines={p.engines} disabled={busy} />
      <p className="plan-total" data-testid="plan-total" data-bytes={total}>
        Load builds <strong>{names}</strong>: <strong>{bytes(total)}</strong> of GPU memory{pair.baseline ? ', both engines loaded at once' : ''}.
      </p>
      {refusals.length ? (
        <div className="alert alert-bad" role="alert" data-testid="plan-refusal">
          <strong>Too large for this GPU</strong>
          {refusals.map((r) => (
            <p key={r}>{r}</p>
          ))}
          {allowed.length > 0 && (
            <p>
              This adapter can hold {allowed.map(engineLabel).join(', ')}
              {allowed.length >= 2 ? ': pick two of them above, or one with no baseline.' : ': pick it as the candidate, with no baseline.'}
            </p>
          )}
        </div>
      ) : (
        <p className="hint">
          Largest buffer {bytes(p.largestBuffer.bytes)} ({p.largestBuffer.label}); this adapter allows {bytes(p.maxBufferBytes)}.
        </p>
      )}
      {changed && loadedHere && (
        <p className="alert alert-info" role="status" data-testid="pair-changed">
          Loaded: {formatsName(load.formats)}. Compare and the benchmark use {load.formats.length === 1 ? 'it' : 'those'} until you load {names}.
        </p>
      )}
      <button className="btn btn-primary btn-wide" data-testid="load" disabled={refusals.length > 0 || busy} onClick={loadModel}>
        {busy ? 'Loading…' : loadedHere ? (changed ? `Load ${names}` : 'Reload') : p.synthetic ? 'Generate weights & load' : allCached ? 'Load from cache' : 'Download & load'}
      </button>
    </div>
  );
}
