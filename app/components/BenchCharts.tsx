// The benchmark's plots (recharts): throughput, memory, a latency CDF, quality by prompt length
// and cost. Animations are off: the numbers are final when they are drawn, and a screenshot or a
// test sees the finished chart.
import type { ReactNode } from 'react';
import {
  Bar, BarChart, CartesianGrid, Cell, ErrorBar, Legend, Line, LineChart, ResponsiveContainer, Scatter, ScatterChart, Tooltip, XAxis, YAxis,
} from 'recharts';
import { cdfPoints, type EngineSummary, type SuiteEval, type SuiteReport } from '../../src/bench/suite_report';
import { klBinLabels } from '../../src/bench/eval';
import { formatUsd } from '../../src/bench/cost';
import { engineColor as color, engineLabel as short } from '../engines';

const AXIS = { fontSize: 11, fill: '#667085' };
const GRID = <CartesianGrid stroke="#eaecf0" vertical={false} />;
const TIP = { contentStyle: { borderRadius: 8, border: '1px solid #e4e7ec', fontSize: 12 }, labelStyle: { fontWeight: 600 } };
const num = (v: number) => (v === 0 ? '0' : v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toPrecision(3));
/** axis ticks: at most three significant digits, no trailing zeros (120, 90, 2.8, 0.7, 0) */
const tick = (v: number) => String(+v.toPrecision(3));
/** legend entries in the chart's order, in the page's text color */
const LEGEND = { itemSorter: null, wrapperStyle: { fontSize: 12 }, formatter: (v: unknown) => <span style={{ color: '#344054' }}>{String(v)}</span> };

function ChartCard({ id, title, note, children }: { id: string; title: string; note: ReactNode; children: ReactNode }) {
  return (
    <figure className="chart-card" data-testid={`chart-${id}`}>
      <figcaption>
        <h3>{title}</h3>
        <p className="muted small">{note}</p>
      </figcaption>
      {children}
    </figure>
  );
}

function RateBars({ engines, pick, unit }: { engines: EngineSummary[]; pick: (e: EngineSummary) => { mean: number; std: number }; unit: string }) {
  const data = engines.map((e) => ({ engine: e.engine, name: short(e.engine), value: pick(e).mean, err: pick(e).std }));
  return (
    <ResponsiveContainer width="100%" height={190}>
      <BarChart data={data} margin={{ top: 8, right: 8, bottom: 0, left: 0 }}>
        {GRID}
        <XAxis dataKey="name" tick={AXIS} tickLine={false} axisLine={{ stroke: '#d0d5dd' }} />
        <YAxis tick={AXIS} tickLine={false} axisLine={false} width={44} tickFormatter={tick} />
        <Tooltip {...TIP} cursor={{ fill: '#f2f4f7' }} formatter={(v) => [`${num(Number(v))} ${unit}`, 'mean']} />
        <Bar dataKey="value" radius={[5, 5, 0, 0]} maxBarSize={56} isAnimationActive={false}>
          {data.map((d) => (
            <Cell key={d.engine} fill={color(d.engine)} />
          ))}
          <ErrorBar dataKey="err" direction="y" width={8} stroke="#344054" strokeWidth={1.2} />
        </Bar>
      </BarChart>
    </ResponsiveContainer>
  );
}

export function ThroughputChart({ r }: { r: SuiteReport }) {
  return (
    <ChartCard id="throughput" title="Throughput" note="tokens per second, mean over every measured generation; whiskers: ± one standard deviation">
      <div className="chart-pair">
        <div>
          <div className="chart-sub">Prefill</div>
          <RateBars engines={r.engines} pick={(e) => e.prefillTokensPerSecond} unit="tok/s" />
        </div>
        <div>
          <div className="chart-sub">Decode</div>
          <RateBars engines={r.engines} pick={(e) => e.decodeTokensPerSecond} unit="tok/s" />
        </div>
      </div>
    </ChartCard>
  );
}

const MB = 2 ** 20;

export function MemoryChart({ r }: { r: SuiteReport }) {
  const data = r.engines.map((e) => ({
    name: short(e.engine),
    weights: e.weightBytes / MB,
    kv: e.kvCacheBytes / MB,
    other: Math.max(0, (e.peakBytes ?? e.weightBytes + e.kvCacheBytes) - e.weightBytes - e.kvCacheBytes) / MB,
  }));
  return (
    <ChartCard id="memory" title="GPU memory" note="MiB; the stack’s height is the peak of the engine’s buffers (weights, KV cache, activations and the rest)">
      <ResponsiveContainer width="100%" height={214}>
        <BarChart data={data} margin={{ top: 8, right: 8, bottom: 0, left: 0 }}>
          {GRID}
          <XAxis dataKey="name" tick={AXIS} tickLine={false} axisLine={{ stroke: '#d0d5dd' }} />
          <YAxis tick={AXIS} tickLine={false} axisLine={false} width={44} tickFormatter={tick} />
          <Tooltip {...TIP} cursor={{ fill: '#f2f4f7' }} formatter={(v, n) => [`${num(Number(v))} MiB`, n]} />
          <Legend iconType="circle" iconSize={8} {...LEGEND} />
          <Bar dataKey="weights" name="weights" stackId="m" fill="#4f46e5" maxBarSize={64} isAnimationActive={false} />
          <Bar dataKey="kv" name="KV cache" stackId="m" fill="#38bdf8" maxBarSize={64} isAnimationActive={false} />
          <Bar dataKey="other" name="activations & other" stackId="m" fill="#cbd5e1" radius={[5, 5, 0, 0]} maxBarSize={64} isAnimationActive={false} />
        </BarChart>
      </ResponsiveContainer>
    </ChartCard>
  );
}

export function LatencyCdf({ r }: { r: SuiteReport }) {
  const series = r.engines.flatMap((e) => {
    const runs = r.prompts.flatMap((p) => p.results[e.engine]?.runs ?? []);
    return [
      { key: `${e.engine}-e2e`, name: `${short(e.engine)} end-to-end`, engine: e.engine, dashed: false, data: cdfPoints(runs.map((x) => x.e2eMs)) },
      { key: `${e.engine}-ttft`, name: `${short(e.engine)} first token`, engine: e.engine, dashed: true, data: cdfPoints(runs.map((x) => x.ttftMs)) },
    ];
  });
  return (
    <ChartCard id="latency" title="Latency CDF" note="share of generations finished within x ms: solid end-to-end, dashed time to first token">
      <ResponsiveContainer width="100%" height={214}>
        <LineChart margin={{ top: 8, right: 12, bottom: 0, left: 0 }}>
          <CartesianGrid stroke="#eaecf0" />
          <XAxis type="number" dataKey="x" domain={[0, 'auto']} tick={AXIS} tickLine={false} axisLine={{ stroke: '#d0d5dd' }} tickFormatter={(v: number) => `${tick(v)} ms`} />
          <YAxis type="number" dataKey="p" domain={[0, 1]} ticks={[0, 0.25, 0.5, 0.75, 1]} tick={AXIS} tickLine={false} axisLine={false} width={44} tickFormatter={(v: number) => `${Math.round(v * 100)}%`} />
          <Tooltip {...TIP} formatter={(v) => `${Math.round(Number(v) * 100)}%`} labelFormatter={(v) => `${num(Number(v))} ms`} />
          <Legend iconType="plainline" {...LEGEND} />
          {series.map((s) => (
            <Line key={s.key} data={s.data} dataKey="p" name={s.name} type="stepAfter" stroke={color(s.engine)} strokeWidth={2} strokeDasharray={s.dashed ? '5 4' : undefined} dot={false} isAnimationActive={false} />
          ))}
        </LineChart>
      </ResponsiveContainer>
    </ChartCard>
  );
}

export function QualityByLength({ r }: { r: SuiteReport }) {
  const others = r.engines.filter((e) => !e.baseline);
  const shown = others.length ? others : r.engines;
  const base = `${short(r.settings.baseline)} baseline`;
  return (
    <ChartCard id="quality" title="Quality by prompt length" note={`ROUGE-L F1 of each prompt’s output against the ${base}’s; 1 = the same words in the same order`}>
      <ResponsiveContainer width="100%" height={214}>
        <ScatterChart margin={{ top: 8, right: 12, bottom: 0, left: 0 }}>
          <CartesianGrid stroke="#eaecf0" />
          <XAxis type="number" dataKey="tokens" name="prompt tokens" tick={AXIS} tickLine={false} axisLine={{ stroke: '#d0d5dd' }} unit=" tok" />
          <YAxis type="number" dataKey="rouge" name="ROUGE-L" domain={[0, 1]} ticks={[0, 0.25, 0.5, 0.75, 1]} tick={AXIS} tickLine={false} axisLine={false} width={44} />
          <Tooltip {...TIP} cursor={{ strokeDasharray: '3 3' }} formatter={(v, n) => [n === 'ROUGE-L' ? Number(v).toFixed(3) : v, n]} />
          <Legend iconType="circle" iconSize={8} {...LEGEND} />
          {shown.map((e) => (
            <Scatter
              key={e.engine}
              name={`${short(e.engine)} vs ${short(r.settings.baseline)}`}
              data={r.prompts.flatMap((p) => (p.results[e.engine] ? [{ tokens: p.promptTokens, rouge: p.results[e.engine]!.rougeL }] : []))}
              fill={color(e.engine)}
              fillOpacity={0.75}
              isAnimationActive={false}
            />
          ))}
        </ScatterChart>
      </ResponsiveContainer>
    </ChartCard>
  );
}

export function CostChart({ r }: { r: SuiteReport }) {
  const data = r.engines.map((e) => ({ engine: e.engine, name: short(e.engine), usd: e.cost.usdPerMillionTokens ?? 0 }));
  return (
    <ChartCard id="cost" title="Cost per million generated tokens" note={`at $${r.settings.pricePerHour}/hour for the GPU, at each engine’s measured decode throughput, one stream, no batching`}>
      <ResponsiveContainer width="100%" height={190}>
        <BarChart data={data} layout="vertical" margin={{ top: 8, right: 56, bottom: 0, left: 0 }}>
          <CartesianGrid stroke="#eaecf0" horizontal={false} />
          <XAxis type="number" tick={AXIS} tickLine={false} axisLine={{ stroke: '#d0d5dd' }} tickFormatter={(v: number) => formatUsd(v)} />
          <YAxis type="category" dataKey="name" tick={AXIS} tickLine={false} axisLine={false} width={44} />
          <Tooltip {...TIP} cursor={{ fill: '#f2f4f7' }} formatter={(v) => [formatUsd(Number(v)), '$ / 1M tokens']} />
          <Bar dataKey="usd" radius={[0, 5, 5, 0]} maxBarSize={34} isAnimationActive={false} label={{ position: 'right', fontSize: 12, fill: '#344054', formatter: (v: unknown) => formatUsd(Number(v)) }}>
            {data.map((d) => (
              <Cell key={d.engine} fill={color(d.engine)} />
            ))}
          </Bar>
        </BarChart>
      </ResponsiveContainer>
    </ChartCard>
  );
}

/**
 * The teacher-forced evaluation's per-position KL divergence against the baseline, as the share of
 * positions in each decade (the statistics are streamed, so the report keeps the histogram, not
 * every position).
 */
export function KlHistogram({ ev }: { ev: SuiteEval }) {
  const labels = klBinLabels();
  const others = ev.engines.filter((e) => e.vsBaseline);
  const data = labels.map((label, i) => Object.fromEntries([['bin', label], ...others.map((e) => [e.engine, (100 * e.vsBaseline!.klHistogram[i]!) / ev.positions])]));
  return (
    <ChartCard
      id="kl"
      title="KL divergence per position"
      note={`share of the ${ev.positions.toLocaleString('en-US')} scored positions whose next-token distribution is within each range of KL (nats) of the ${short(ev.baseline)} baseline’s; further left is closer`}
    >
      <ResponsiveContainer width="100%" height={214}>
        <BarChart data={data} margin={{ top: 8, right: 8, bottom: 0, left: 0 }}>
          {GRID}
          <XAxis dataKey="bin" tick={AXIS} tickLine={false} axisLine={{ stroke: '#d0d5dd' }} interval={0} />
          <YAxis tick={AXIS} tickLine={false} axisLine={false} width={44} tickFormatter={(v: number) => `${tick(v)}%`} />
          <Tooltip {...TIP} cursor={{ fill: '#f2f4f7' }} formatter={(v, n) => [`${num(Number(v))}% of positions`, n]} labelFormatter={(v) => `KL ${String(v)} nats`} />
          <Legend iconType="circle" iconSize={8} {...LEGEND} />
          {others.map((e) => (
            <Bar key={e.engine} dataKey={e.engine} name={`${short(e.engine)} vs ${short(ev.baseline)}`} fill={color(e.engine)} radius={[4, 4, 0, 0]} maxBarSize={40} isAnimationActive={false} />
          ))}
        </BarChart>
      </ResponsiveContainer>
    </ChartCard>
  );
}

export function BenchCharts({ r }: { r: SuiteReport }) {
  return (
    <div className="chart-grid" data-testid="bench-charts">
      <ThroughputChart r={r} />
      <MemoryChart r={r} />
      <LatencyCdf r={r} />
      {/* one engine: no baseline, no quality to plot */}
      {r.engines.length > 1 && <QualityByLength r={r} />}
      <CostChart r={r} />
    </div>
  );
}
