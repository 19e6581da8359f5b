import type { EngineSummary, Stat, SuiteReport } from '../../src/bench/suite_report';
import type { LatencySummary } from '../../src/bench/report';
import { formatUsd } from '../../src/bench/cost';
import { isSoftwareAdapter } from '../../src/gpu/device';
import { download, useBench } from '../bench_store';
import { BenchCharts } from './BenchCharts';
import { EvalResults } from './EvalResults';
import { browserName, bytes, percent, score, when } from './format';
import { engineColor, engineLabel, engineTitle } from '../engines';

const rate = (s: Stat) => (Number.isFinite(s.mean) ? `${s.mean >= 100 ? s.mean.toFixed(0) : s.mean.toFixed(1)} ± ${s.std >= 100 ? s.std.toFixed(0) : s.std.toFixed(1)}` : '—');
const msv = (v: number) => Math.round(v).toLocaleString('en-US');
const pcts = (l: LatencySummary) => (Number.isFinite(l.p50) ? `${msv(l.p50)} / ${msv(l.p95)} / ${msv(l.p99)}` : '—');

/** `alone`: the run's only engine (no baseline, so no quality figures) */
function Row({ e, alone }: { e: EngineSummary; alone: boolean }) {
  return (
    <tr data-testid={`bench-row-${e.engine}`}>
      <td title={engineTitle(e.engine)}>
        <span className="engine-dot" style={{ background: engineColor(e.engine) }} />
        {engineLabel(e.engine)}
        {(e.baseline || alone) && <span className="badge badge-role">{alone ? 'alone' : 'baseline'}</span>}
      </td>
      <td>{rate(e.prefillTokensPerSecond)}</td>
      <td>
        <strong>{rate(e.decodeTokensPerSecond)}</strong>
      </td>
      <td>{pcts(e.timeToFirstTokenMs)}</td>
      <td>{pcts(e.endToEndLatencyMs)}</td>
      <td>{bytes(e.weightBytes)}</td>
      <td>{bytes(e.kvCacheBytes)}</td>
      <td>{bytes(e.peakBytes)}</td>
      <td>{score(e.quality.rougeL)}</td>
      <td>{percent(e.quality.exactMatch, 0)}</td>
      <td>{percent(e.quality.tokenAgreement)}</td>
      <td>{formatUsd(e.cost.usdPerMillionTokens)}</td>
    </tr>
  );
}

function Tags({ r }: { r: SuiteReport }) {
  const s = r.settings;
  const sampling = s.sampling.temperature === 0 ? 'greedy' : `temperature ${s.sampling.temperature}, top-k ${s.sampling.topK || 'off'}, top-p ${s.sampling.topP}, seed ${s.sampling.seed}`;
  return (
    <dl className="bench-tags">
      <div>
        <dt>GPU</dt>
        <dd title={r.tags.adapter.description}>{r.tags.adapter.name}</dd>
      </div>
      <div>
        <dt>Browser</dt>
        <dd title={r.tags.browser}>{browserName(r.tags.browser)}</dd>
      </div>
      <div>
        <dt>Prompts</dt>
        <dd title={s.promptSource}>
          {r.prompts.length} of {s.setSize} {s.promptSet === 'alpaca' ? 'AlpacaEval' : 'built-in'}
          {r.skipped.length > 0 && ` (${r.skipped.length} too long)`}
        </dd>
      </div>
      <div>
        <dt>Runs</dt>
        <dd>
          {s.repetitions} per prompt + {s.warmup} warm-up
        </dd>
      </div>
      <div>
        <dt>Generation</dt>
        <dd>
          ≤ {s.maxNewTokens} tokens · {sampling}
          {s.chat ? ' · chat template' : ''}
        </dd>
      </div>
      <div>
        <dt>Date</dt>
        <dd>{when(r.date)}</dd>
      </div>
    </dl>
  );
}

/** The report on screen: tags, the summary table, the plots and the exports. */
export function BenchResults() {
  const r = useBench((s) => s.report);
  if (!r) return null;
  const base = `${engineLabel(r.settings.baseline)} baseline`;
  const alone = r.engines.length === 1;
  return (
    <div className="card" data-testid="bench-results">
      <div className="card-head">
        <h2>
          {r.model.name}
          {r.model.synthetic && <span className="badge badge-speed">speed only</span>}
        </h2>
        <div className="row">
          <button className="btn btn-secondary small" data-testid="bench-export-json" onClick={() => download(r, 'json')}>
            Export JSON
          </button>
          <button className="btn btn-secondary small" data-testid="bench-export-csv" onClick={() => download(r, 'csv')}>
            Export CSV
          </button>
        </div>
      </div>
      <Tags r={r} />
      <div className="table-scroll">
        <table className="table bench-table" data-testid="bench-summary">
          <thead>
            <tr>
              <th>engine</th>
              <th>prefill tok/s</th>
              <th>decode tok/s</th>
              <th>TTFT ms p50 / p95 / p99</th>
              <th>end-to-end ms p50 / p95 / p99</th>
              <th>weights</th>
              <th>KV cache</th>
              <th>peak</th>
              <th title={`against the ${base}'s output`}>ROUGE&#8209;L</th>
              <th>exact</th>
              <th>token agr.</th>
              <th>$&nbsp;/&nbsp;1M tokens</th>
            </tr>
          </thead>
          <tbody>
            {r.engines.map((e) => (
              <Row key={e.engine} e={e} alone={alone} />
            ))}
          </tbody>
        </table>
      </div>
      <p className="hint">
        Rates are means ± standard deviation over {r.engines[0]?.generations ?? 0} generations per engine.{' '}
        {alone
          ? `${engineLabel(r.settings.baseline)} ran alone: with no baseline, quality (ROUGE-L, exact match, token agreement) is not measured.`
          : `Quality compares each output with the ${base}’s first run of the same prompt; for the ${base} itself, its later runs (a determinism check, so it reads 1.000 when runs agree${r.settings.repetitions === 1 ? '; with one run per prompt there is nothing to compare, hence “—”' : ''}).`}{' '}
        Cost: {r.engines[0]?.cost.assumption.replace(/ \(.*?\)/, '')}.
        {r.model.synthetic && ' Synthetic weights: the outputs are token ids, so quality only says whether the engines pick the same ids.'}
        {isSoftwareAdapter(r.tags.adapter) && (
          <strong data-testid="bench-software-note"> {r.tags.adapter.name} is a software adapter (WebGPU on the CPU): these speeds measure the CPU, not a GPU.</strong>
        )}
      </p>
      <BenchCharts r={r} />
      {r.eval && <EvalResults ev={r.eval} />}
    </div>
  );
}
