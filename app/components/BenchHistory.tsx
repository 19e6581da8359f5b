import { useBench } from '../bench_store';
import type { SuiteReport } from '../../src/bench/suite_report';
import { browserName, when } from './format';

const decode = (r: SuiteReport, engine: string) => r.engines.find((e) => e.engine === engine)?.decodeTokensPerSecond.mean;
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
                <th>FP16 tok/s</th>
                <th>INT8 tok/s</th>
                <th>speed-up</th>
                <th>INT8 ROUGE-L</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {history.map((r) => {
                const f16 = decode(r, 'f16');
                const int8 = decode(r, 'int8');
                const q = r.engines.find((e) => e.engine === 'int8')?.quality.rougeL;
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
                    <td>{fmt(f16)}</td>
                    <td>{fmt(int8)}</td>
                    <td>{f16 && int8 ? `${(int8 / f16).toFixed(2)}×` : '—'}</td>
                    <td>{q === undefined ? '—' : q.toFixed(3)}</td>
                    <td className="cell-actions">
                      <button className="btn btn-ghost small" onClick={() => view(r.id)} disabled={r.id === current}>
                        {r.id === current ? 'Shown' : 'View'}
                      </button>
                      <button className="btn btn-ghost small" onClick={() => void remove(r.id)} aria-label="Delete this run">
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
