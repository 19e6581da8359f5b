// The batch-size sweep on the Benchmark tab: throughput against batch size, one line per loaded
// engine (bench --batch in the page). Compare stays one sequence per engine; the sweep rebuilds
// the engines for several sequences (short KV caches), measures, and rebuilds them as they were.
import { CartesianGrid, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { useSweep, parseBatches, type SweepForm } from '../sweep_store';
import { useApp } from '../store';
import { saveFile, useBench } from '../bench_store';
import type { BatchBenchReport } from '../../src/bench/batch_bench';
import { median } from '../../src/bench/report';
import { engineColor, engineLabel } from '../engines';


const FIELDS: Array<{ key: 'promptTokens' | 'newTokens' | 'runs'; label: string; min: number; max: number }> = [
  { key: 'promptTokens', label: 'Prompt tokens', min: 1, max: 1024 },
  { key: 'newTokens', label: 'New tokens', min: 2, max: 1024 },
  { key: 'runs', label: 'Runs', min: 1, max: 10 },
];

function SweepChart({ report }: { report: BatchBenchReport }) {
  const data = report.settings.batches.map((b) => {
    const row: Record<string, number> = { batch: b };
    for (const e of report.engines) {
      const r = e.results.find((x) => x.batch === b);
      if (r) row[e.engine] = Number(median(r.aggregateTokensPerSecond.values).toFixed(1));
    }
    return row;
  });
  return (
    <div className="chart" data-testid="sweep-chart">
      <ResponsiveContainer width="100%" height={240}>
        <LineChart data={data} margin={{ top: 8, right: 16, bottom: 4, left: 0 }}>
          <CartesianGrid strokeDasharray="3 3" />
          <XAxis dataKey="batch" label={{ value: 'sequences per step (batch size)', position: 'insideBottom', offset: -2, fontSize: 11 }} tick={{ fontSize: 11 }} />
          <YAxis tick={{ fontSize: 11 }} width={64} label={{ value: 'tok/s (all)', angle: -90, position: 'insideLeft', fontSize: 11 }} />
          <Tooltip formatter={(v, name) => [`${String(v)} tok/s`, engineLabel(String(name))]} labelFormatter={(l) => `batch ${String(l)}`} />
          <Legend formatter={(name) => engineLabel(String(name))} />
          {report.engines.map((e) => (
            <Line key={e.engine} type="monotone" dataKey={e.engine} stroke={engineColor(e.engine)} strokeWidth={2} isAnimationActive={false} />
          ))}
        </LineChart>
      </ResponsiveContainer>
    </div>
  );
}

function download(report: BatchBenchReport): void {
  saveFile(`batch-${report.model.name.replace(/[^A-Za-z0-9._-]+/g, '_')}-${report.date.slice(0, 19).replace(/:/g, '-')}.json`, JSON.stringify(report, null, 2), 'application/json');
}

export function BatchSweep() {
  const { form, status, log, report, error, cancelling } = useSweep();
  const { setForm, start, cancel } = useSweep.getState();
  const ready = useApp((s) => s.load.status === 'ready');
  const comparing = useApp((s) => s.run.status === 'running');
  const benchmarking = useBench((s) => s.status === 'running' || s.status === 'fetching');
  const busyElsewhere = comparing || benchmarking;
  const running = status === 'running';
  const batches = parseBatches(form.batches);
  return (
    <div className="card" data-testid="sweep">
      <div className="card-head">
        <h2>Batch sweep</h2>
      </div>
      <p className="hint">
        Decodes B sequences per step (continuous batching: each weight read once for all of them) and measures the tokens per second of all sequences together, per engine. One sequence
        is the path Compare uses; from two on, the engines are rebuilt for the sweep with a KV cache just long enough for its sequences, and rebuilt as they were afterwards.
      </p>
      <div className="bench-form">
        <div className="field">
          <label htmlFor="sweep-batches">Batch sizes</label>
          <input id="sweep-batches" data-testid="sweep-batches" type="text" inputMode="numeric" value={form.batches} disabled={running} onChange={(e) => setForm({ batches: e.target.value })} aria-invalid={batches === null} />
        </div>
        {FIELDS.map((f) => (
          <div className="field" key={f.key}>
            <label htmlFor={`sweep-${f.key}`}>{f.label}</label>
            <input
              id={`sweep-${f.key}`}
              data-testid={`sweep-${f.key}`}
              type="number"
              min={f.min}
              max={f.max}
              value={form[f.key]}
              disabled={running}
              onChange={(e) => {
                const v = Math.round(Number(e.target.value));
                if (e.target.value === '' || !Number.isFinite(v)) return;
                setForm({ [f.key]: Math.max(f.min, Math.min(f.max, v)) } as Partial<SweepForm>);
              }}
            />
          </div>
        ))}
      </div>
      {batches === null && <p className="field-error">Batch sizes: whole numbers from 1 to 64, separated by commas.</p>}
      <div className="actions">
        <p className="hint" data-testid="sweep-status">
          {running ? (log[log.length - 1] ?? 'starting…') : status === 'cancelled' ? 'Sweep cancelled.' : ''}
        </p>
        {running ? (
          <button className="btn btn-danger" data-testid="sweep-cancel" onClick={cancel} disabled={cancelling}>
            {cancelling ? 'Cancelling…' : 'Cancel'}
          </button>
        ) : (
          <button className="btn btn-primary" data-testid="sweep-run" onClick={start} disabled={!ready || busyElsewhere || batches === null}>
            Run sweep
          </button>
        )}
      </div>
      {status === 'error' && error && (
        <div className="alert alert-bad" role="alert" data-testid="sweep-error">
          <strong>The sweep failed</strong>
          <p>
            {error.name}: {error.message}
          </p>
        </div>
      )}
      {report && (
        <div data-testid="sweep-results">
          <SweepChart report={report} />
          <div className="table-scroll">
            <table className="table">
              <thead>
                <tr>
                  <th>Engine</th>
                  <th>Batch</th>
                  <th>All sequences, tok/s</th>
                  <th>Per sequence, tok/s</th>
                  <th>Step p50</th>
                  <th>Step p99</th>
                </tr>
              </thead>
              <tbody>
                {report.engines.flatMap((e) =>
                  e.results.map((r) => (
                    <tr key={`${e.engine}-${r.batch}`} data-testid={`sweep-row-${e.engine}-${r.batch}`}>
                      <td>{engineLabel(e.engine)}</td>
                      <td>{r.batch}</td>
                      <td>{median(r.aggregateTokensPerSecond.values).toFixed(1)}</td>
                      <td>{median(r.perSequenceTokensPerSecond.values).toFixed(1)}</td>
                      <td>{r.stepMs.p50.toFixed(2)} ms</td>
                      <td>{r.stepMs.p99.toFixed(2)} ms</td>
                    </tr>
                  )),
                )}
              </tbody>
            </table>
          </div>
          {report.ratios.length > 0 && (
            <p className="hint" data-testid="sweep-ratios">
              {report.ratios.map((q) => `${engineLabel(q.engine)} / ${engineLabel(q.over)} at B=${q.batch}: ${q.aggregate.toFixed(2)}×`).join(' · ')}
            </p>
          )}
          <button className="btn btn-ghost small" data-testid="sweep-json" onClick={() => download(report)}>
            Export JSON
          </button>
        </div>
      )}
    </div>
  );
}
