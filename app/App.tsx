import { Header } from './components/Header';
import { GpuNotice, DeviceLostBanner } from './components/GpuNotice';
import { ModelPicker } from './components/ModelPicker';
import { CachePanel } from './components/CachePanel';
import { PromptPanel } from './components/PromptPanel';
import { OutputPane } from './components/OutputPane';
import { Comparison } from './components/Comparison';
import { BenchPanel } from './components/BenchPanel';
import { BenchResults } from './components/BenchResults';
import { BenchHistory } from './components/BenchHistory';
import { useShallow } from 'zustand/react/shallow';
import { useApp } from './store';
import { rolesOf, shownFormats } from './engines';
import { useBench } from './bench_store';

function Tabs() {
  const tab = useBench((s) => s.tab);
  const busy = useBench((s) => s.status === 'running' || s.status === 'fetching');
  const setTab = useBench((s) => s.setTab);
  return (
    <nav className="tabs" role="tablist" aria-label="View">
      <button role="tab" aria-selected={tab === 'compare'} className={tab === 'compare' ? 'on' : ''} data-testid="tab-compare" onClick={() => setTab('compare')}>
        Compare
      </button>
      <button role="tab" aria-selected={tab === 'bench'} className={tab === 'bench' ? 'on' : ''} data-testid="tab-bench" onClick={() => setTab('bench')}>
        Benchmark
        {busy && <span className="spinner" aria-label="running" />}
      </button>
    </nav>
  );
}

export function App() {
  const gpu = useApp((s) => s.gpu);
  const ready = useApp((s) => s.load.status === 'ready');
  const formats = useApp(useShallow(shownFormats));
  const roles = rolesOf(formats);
  const tab = useBench((s) => s.tab);
  return (
    <div className="app">
      <Header />
      <DeviceLostBanner />
      <main className="layout">
        <aside className="sidebar">
          <ModelPicker />
          <CachePanel />
        </aside>
        <section className="content">
          {gpu.status === 'unavailable' ? (
            <GpuNotice />
          ) : (
            <>
              <Tabs />
              {tab === 'compare' ? (
                <>
                  <PromptPanel />
                  <div className={`panes${ready ? '' : ' panes-idle'}${formats.length === 1 ? ' panes-one' : ''}`}>
                    {formats.map((f, i) => (
                      <OutputPane key={f} format={f} role={roles[i]!} />
                    ))}
                  </div>
                  <Comparison />
                </>
              ) : (
                <>
                  <BenchPanel />
                  <BenchResults />
                  <BenchHistory />
                </>
              )}
            </>
          )}
        </section>
      </main>
      <footer className="footer">
        Everything runs locally in this tab: weights are downloaded once from the Hugging Face hub, quantized in a worker and kept in IndexedDB.
      </footer>
    </div>
  );
}
