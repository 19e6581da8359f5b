import { useBench } from '../bench_store';
import type { SuiteReport } from '../../src/bench/suite_report';
import { browserName, score, when } from './format';
import { engineColor, engineLabel } from '../engines';

/** A run's baseline and its (first) candidate, as recorded: any formats, old FP16/INT8 runs too; a run of one engine is a candidate alone. */
function pairOf(r: SuiteReport) {
  if (r.engines.length === 1) return { base: undefined, cand: r.engines[0] };
  const base = r.engines.find((e) => e.engine === r.settings.baseline) ?? r.engines[0];
  const cand = r.engines.find((e) => e !== base);
  return { base, cand };
}
const fmt = (v: number | undefined) => (v === undefined || !Number.isFinite(v) ? '—' : v >= 100 ? v.toFixed(0) : v.toFixed(1));

/** Runs kept in this browser, newest first: one line each, to compare models, devices and days. */
export function BenchHistory() {
  const history = useBench((s) => s.history);
  const current = useBench((s) => s.report?.id);
  const error = useBench((s) => s.historyError);
  const loaded = useBench((s) => s.historyLoaded);
  const { view, remove } = useBench.getState();
  return (
    <div className="card" data-testid="bench-history" data-loaded={loaded}>
      <div className="card-head">
        <h2>Saved runs</h2>
        <span className="muted small">kept in this browser (IndexedDB)</span>
      </div>
      {history.length === 0 ? (
        <p className="empty">No runs yet. Each finished benchmark is saved here with its device, browser and settings.</p>
      ) : (
        <div className="table-scroll">
          <table className="table history-table">
            <thead>
              <tr>
                <th>date</th>
                <th>model</th>
                <th>device</th>
                <th>engines</th>
                <th>baseline tok/s</th>
                <th>candidate tok/s</th>
                <th>speed-up</th>
                <th title="the candidate's output against the baseline's">ROUGE-L</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {history.map((r) => {
                const { base, cand } = pairOf(r);
                const b = base?.decodeTokensPerSecond.mean;
                const c = cand?.decodeTokensPerSecond.mean;
                const q = cand?.quality.rougeL;
                return (
                  <tr key={r.id} className={r.id === current ? 'current' : ''} data-testid="history-row">
                    <td>{when(r.date)}</td>
                    <td className="cell-name" title={r.model.name}>
                      {r.model.name}
                      {r.model.synthetic && <span className="badge badge-speed">speed only</span>}
                      <span className="cell-sub">
                        {r.prompts.length} {r.settings.promptSet === 'alpaca' ? 'AlpacaEval' : 'built-in'} prompts · ≤ {r.settings.maxNewTokens} tokens
                      </span>
                    </td>
                    <td className="cell-name" title={`${r.tags.adapter.description}\n${r.tags.browser}`}>
                      {r.tags.adapter.name}
                      <span className="cell-sub">{browserName(r.tags.browser)}</span>
                    </td>
                    <td data-testid="history-engines">
                      {[base, cand].map(
                        (e) =>
                          e && (
                            <span key={e.engine} className="history-engine">
                              <span className="engine-dot" style={{ background: engineColor(e.engine) }} />
                              {engineLabel(e.engine)}
                            </span>
                          ),
                      )}
                    </td>
                    <td>{fmt(b)}</td>
                    <td>{fmt(c)}</td>
                    <td>{b && c ? `${(c / b).toFixed(2)}×` : '—'}</td>
                    <td>{score(q)}</td>
                    <td className="cell-actions">
                      <button className="btn btn-ghost small" onClick={() => view(r.id)} disabled={r.id === current}>
                        {r.id === current ? 'Shown' : 'View'}
                      </button>
                      <button className="btn btn-ghost small" onClick={() => void remove(r.id)} aria-label={`Delete the run of ${r.model.name} from ${r.date.slice(0, 19).replace('T', ' ')}`}>
                        Delete
                      </button>
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
      {error && <p className="field-error">{error}</p>}
    </div>
  );
}
