import { useApp } from '../store';
import { bytes } from './format';
import { engineColor, engineLabel, engineTitle } from '../engines';

/** Entries from another hub are keyed by its URL too; the list shows the repo (the key is the tooltip). */
function displayName(repo: string): string {
  return /^https?:\/\/.*\/([^/]+\/[^/]+)$/.exec(repo)?.[1] ?? repo;
}

export function CachePanel() {
  const cache = useApp((s) => s.cache);
  const loading = useApp((s) => s.load.status === 'loading');
  const { deleteCacheEntry, requestPersist, refreshCache } = useApp.getState();
  const est = cache.estimate;
  const used = cache.entries.reduce((a, e) => a + e.bytes, 0);
  return (
    <div className="card" data-testid="cache-panel">
      <div className="card-head">
        <h2>Weight cache</h2>
        <button className="btn btn-ghost small" onClick={() => void refreshCache()}>
          Refresh
        </button>
      </div>
      <p className="hint">Converted weights are kept in this browser (IndexedDB), so a model downloads once and later loads without the network.</p>
      {cache.entries.length === 0 ? (
        <p className="empty" data-testid="cache-empty">
          Nothing cached yet.
        </p>
      ) : (
        <ul className="cache-list">
          {cache.entries.map((e) => {
            const name = displayName(e.key.repo);
            return (
              <li key={`${e.key.repo}|${e.key.revision}|${e.key.format}`} data-testid="cache-entry" data-repo={e.key.repo}>
                <div className="cache-main">
                  <span className="cache-repo" title={e.key.repo}>
                    {name}
                  </span>
                  <span className="muted small">
                    <span className="badge badge-role" style={{ color: engineColor(e.key.format) }} title={engineTitle(e.key.format)}>
                      {engineLabel(e.key.format)}
                    </span> {bytes(e.bytes)} · {e.tensors} tensors · {e.key.revision}
                    {e.stale && ' · old format'}
                  </span>
                </div>
                <button className="btn btn-ghost small" disabled={loading} aria-label={`Delete ${e.key.repo} ${e.key.format}`} onClick={() => void deleteCacheEntry(e.key)}>
                  Delete
                </button>
              </li>
            );
          })}
        </ul>
      )}
      <div className="storage">
        <div className="storage-row">
          <span>Cached weights</span>
          <strong>{bytes(used)}</strong>
        </div>
        {est && est.quota > 0 && (
          <div className="bar">
            <div className="bar-fill" style={{ width: `${Math.min(100, (100 * est.usage) / est.quota)}%` }} />
          </div>
        )}
        <div className="muted" data-testid="storage-estimate">
          {est ? `This site uses ${bytes(est.usage)} of the ${bytes(est.quota)} the browser allows it.` : 'The browser gives no storage estimate.'}
        </div>
        <div className="storage-row">
          <span className="muted">{cache.persisted ? 'Persistent: the browser will not evict it under storage pressure.' : 'Best-effort: the browser may evict it when space runs low.'}</span>
          {!cache.persisted && (
            <button className="btn btn-secondary small" onClick={() => void requestPersist()}>
              Make persistent
            </button>
          )}
        </div>
      </div>
      {cache.error && <p className="field-error">{cache.error}</p>}
    </div>
  );
}
