import { useApp, type EngineLoad } from '../store';
import { bytes, rate, seconds, ms } from './format';
import { engineLabel, engineTitle, rolesOf } from '../engines';

function Bar({ value, label }: { value: number | null; label: string }) {
  const pct = value === null ? null : Math.max(0, Math.min(1, value)) * 100;
  return (
    <div className={`bar${pct === null ? ' bar-indeterminate' : ''}`} role="progressbar" aria-label={label} aria-valuenow={pct === null ? undefined : Math.round(pct)} aria-valuemin={0} aria-valuemax={100}>
      <div className="bar-fill" style={{ width: pct === null ? undefined : `${pct}%` }} />
    </div>
  );
}

function engineLine(e: EngineLoad, failed: boolean): string {
  if (failed) return 'not loaded';
  if (e.phase === 'done' && e.loaded) return `ready in ${ms(e.loaded.loadMs)}${e.loaded.fromCache ? ' · from cache' : ''} · warmed up`;
  if (e.phase === 'compile') return `compiling GPU kernels${e.tensorsTotal ? ` · ${e.tensorsDone} of ${e.tensorsTotal} asked for so far` : ''}`;
  if (e.phase === 'warmup') return 'warming up: one short generation, so no timed run is the first';
  if (e.phase === 'cache') return `reading cache · ${e.tensorsDone}${e.tensorsTotal ? ` / ${e.tensorsTotal}` : ''} tensors`;
  if (e.phase === 'synthetic') return 'generating random weights on the GPU';
  if (e.phase === 'convert') return `converting & uploading · ${e.tensorsDone} / ${e.tensorsTotal} tensors`;
  return 'waiting';
}

export function LoadProgressView() {
  const load = useApp((s) => s.load);
  const cancel = useApp((s) => s.cancelLoad);
  if (load.status === 'idle') return null;
  const d = load.download;
  const roles = rolesOf(load.formats);
  return (
    <div className="load" data-testid="load-status" data-status={load.status}>
      {d && load.status === 'loading' && d.filesDone < d.filesTotal && (
        <div className="load-block">
          <div className="load-row">
            <span>
              Downloading <code>{d.file}</code>
            </span>
            <span className="muted">
              file {Math.min(d.filesDone + 1, d.filesTotal)} of {d.filesTotal}
            </span>
          </div>
          <Bar value={d.total ? d.bytes / d.total : null} label="download" />
          <div className="load-row muted small">
            <span>
              {bytes(d.bytes)} of {bytes(d.total)}
            </span>
            <span>
              {rate(d.bytesPerSecond / 2 ** 20, 'MB/s')} · {d.etaSeconds === null ? 'estimating…' : `${seconds(d.etaSeconds)} left`}
            </span>
          </div>
          {d.filesTotal > 1 && <Bar value={d.fileTotal ? d.fileBytes / d.fileTotal : null} label="current file" />}
        </div>
      )}
      {load.formats.map((f, i) => {
        const e = load.engines[f];
        return (
          <div className="load-block" key={f}>
            <div className="load-row">
              <span title={engineTitle(f)}>
                {engineLabel(f)} <span className="muted small">{roles[i]}</span>
              </span>
              <span className="muted small" data-testid={`load-${f}`}>
                {engineLine(e, load.status === 'error')}
              </span>
            </div>
            {load.status === 'loading' && e.phase !== 'done' && <Bar value={e.tensorsTotal ? e.tensorsDone / e.tensorsTotal : e.phase === 'waiting' ? 0 : null} label={`${f} engine`} />}
          </div>
        );
      })}
      {load.status === 'loading' && (
        <button className="btn btn-ghost btn-wide" data-testid="load-cancel" onClick={cancel} disabled={load.cancelling}>
          {load.cancelling ? 'Cancelling…' : 'Cancel'}
        </button>
      )}
      {load.status === 'error' && load.error && (
        <div className="alert alert-bad" role="alert" data-testid="load-error">
          <strong>{load.error.name === 'AbortError' ? 'Loading cancelled' : 'Loading failed'}</strong>
          <p>{load.error.message}</p>
        </div>
      )}
      {load.status === 'ready' && load.info?.cacheWarning && (
        <div className="alert alert-warn" role="status" data-testid="cache-warning">
          <strong>Weight cache</strong>
          <p>{load.info.cacheWarning}</p>
        </div>
      )}
    </div>
  );
}
