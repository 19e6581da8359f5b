// The teacher-forced evaluation of a benchmark run (src/bench/eval.ts): every engine read the same
// tokens; per engine its perplexity, and against the baseline the KL divergence of the next-token
// distributions, top-1 agreement and the same-top rate where the baseline is confident.
import { CONFIDENT } from '../../src/bench/eval';
import { EVAL_SOURCE_LABEL, type SuiteEval } from '../../src/bench/suite_report';
import { engineColor, engineLabel, engineTitle } from '../engines';
import { percent } from './format';
import { KlHistogram } from './BenchCharts';

/** A KL value for the table: 3 significant digits, scientific below 0.01; "—" where none. */
export function nats(v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '—';
  if (v === 0) return '0';
  return v < 0.01 ? v.toExponential(2) : v.toPrecision(3);
}

const ppl = (v: number) => (Number.isFinite(v) ? (v >= 100 ? v.toFixed(2) : v.toFixed(3)) : '—');

export function EvalResults({ ev }: { ev: SuiteEval }) {
  const base = engineLabel(ev.baseline);
  const alone = ev.engines.length === 1;
  return (
    <section className="eval-results" data-testid="eval-results" aria-labelledby="eval-title">
      <h3 id="eval-title">Teacher-forced evaluation</h3>
      <p className="hint" data-testid="eval-about">
        {EVAL_SOURCE_LABEL[ev.source][0]!.toUpperCase() + EVAL_SOURCE_LABEL[ev.source].slice(1)} (<code>{ev.text}</code>): {ev.tokens.toLocaleString('en-US')} tokens
        {ev.sequences > 1 ? ` in ${ev.sequences} sequences` : ''}, {ev.positions.toLocaleString('en-US')} next-token predictions scored, in {ev.windows} windows of up to{' '}
        {ev.contextLength} tokens with a stride of {ev.stride}.
      </p>
      <div className="table-scroll">
        <table className="table bench-table" data-testid="eval-summary">
          <thead>
            <tr>
              <th>engine</th>
              <th title="exp of the mean negative log-likelihood of the actual next token: lower predicts the text better">perplexity</th>
              <th title={`KL(${base} ‖ engine) in nats, mean over positions`}>mean KL</th>
              <th>median KL</th>
              <th>p99 KL</th>
              <th>max KL</th>
              <th title={`share of positions whose most likely token is the ${base}'s`}>top-1 agr.</th>
              <th title={`among positions where the ${base}'s top token has p ≥ ${CONFIDENT}`}>same top where {base} is confident</th>
            </tr>
          </thead>
          <tbody>
            {ev.engines.map((e) => {
              const v = e.vsBaseline;
              return (
                <tr key={e.engine} data-testid={`eval-row-${e.engine}`}>
                  <td title={engineTitle(e.engine)}>
                    <span className="engine-dot" style={{ background: engineColor(e.engine) }} />
                    {engineLabel(e.engine)}
                    {!v && <span className="badge badge-role">{alone ? 'alone' : 'baseline'}</span>}
                  </td>
                  <td data-testid={`eval-ppl-${e.engine}`}>
                    <strong>{ppl(e.perplexity)}</strong>
                  </td>
                  <td data-testid={`eval-kl-${e.engine}`}>{nats(v?.meanKl)}</td>
                  <td>{nats(v?.medianKl)}</td>
                  <td>{nats(v?.p99Kl)}</td>
                  <td>{nats(v?.maxKl)}</td>
                  <td>{v ? percent(v.top1Agreement) : '—'}</td>
                  <td>{v ? `${percent(v.confidentSameTop)} of ${v.confidentPositions.toLocaleString('en-US')}` : '—'}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
      <p className="hint">
        How to read it: perplexity is how well each engine predicts the text (lower is better; compare engines, not models). KL divergence measures how far each
        engine’s next-token distribution is from the {base} baseline’s at the same position, with the same context for both, so one near-tie cannot send the
        rest of the text elsewhere as it does in the free-running outputs above: 0 is identical, below 0.01 nats is hard to tell apart, above 0.1 the engine
        often prefers another token.
        {alone && ' With one engine there is no baseline to compare with: perplexity only.'}
      </p>
      {!alone && <KlHistogram ev={ev} />}
    </section>
  );
}
