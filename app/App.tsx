import { useEffect, type KeyboardEvent } from 'react';
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
import { BatchSweep } from './components/BatchSweep';
import { useShallow } from 'zustand/react/shallow';
import { useApp } from './store';
import { rolesOf, shownFormats } from './engines';
import { useBench } from './bench_store';

const TABS = ['compare', 'bench'] as const;

function Tabs() {
  const tab = useBench((s) => s.tab);
  const busy = useBench((s) => s.status === 'running' || s.status === 'fetching');
  const setTab = useBench((s) => s.setTab);
  // The WAI-ARIA tabs pattern: one tab in the Tab order, arrow keys (and Home, End) move between them.
  const onKeyDown = (e: KeyboardEvent<HTMLElement>) => {
    const i = TABS.indexOf(tab);
    const next = { ArrowRight: (i + 1) % TABS.length, ArrowLeft: (i + TABS.length - 1) % TABS.length, Home: 0, End: TABS.length - 1 }[e.key];
    if (next === undefined) return;
    e.preventDefault();
    setTab(TABS[next]!);
    document.querySelector<HTMLElement>(`[data-testid=tab-${TABS[next]}]`)?.focus();
  };
  return (
    <nav className="tabs" role="tablist" aria-label="View" onKeyDown={onKeyDown}>
      <button role="tab" aria-selected={tab === 'compare'} tabIndex={tab === 'compare' ? 0 : -1} className={tab === 'compare' ? 'on' : ''} data-testid="tab-compare" onClick={() => setTab('compare')}>
        Compare
      </button>
      <button role="tab" aria-selected={tab === 'bench'} tabIndex={tab === 'bench' ? 0 : -1} className={tab === 'bench' ? 'on' : ''} data-testid="tab-bench" onClick={() => setTab('bench')}>
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
  // One column (a phone): the Load button is far down the model card, and the prompt moves to the
  // top once the model is ready; bring the page there.
  useEffect(() => {
    if (ready && window.matchMedia('(max-width: 1000px)').matches) window.scrollTo({ top: 0 });
  }, [ready]);
  return (
    <div className="app">
      <a
        className="skip-link"
        href="#main-content"
        data-testid="skip-link"
        onClick={(e) => {
          // Past the model list and the cache panel, into the prompt box (on the Compare tab).
          e.preventDefault();
          useBench.getState().setTab('compare');
          setTimeout(() => document.querySelector<HTMLElement>('[data-testid=prompt]')?.focus());
        }}
      >
        Skip to the prompt
      </a>
      <Header />
      <DeviceLostBanner />
      <main className={`layout${ready ? ' layout-loaded' : ''}`}>
        <aside className="sidebar">
          <ModelPicker />
          <CachePanel />
        </aside>
        <section className="content" id="main-content" tabIndex={-1}>
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
                  <BatchSweep />
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
