import { Header } from './components/Header';
import { GpuNotice, DeviceLostBanner } from './components/GpuNotice';
import { ModelPicker } from './components/ModelPicker';
import { CachePanel } from './components/CachePanel';
import { PromptPanel } from './components/PromptPanel';
import { OutputPane } from './components/OutputPane';
import { Comparison } from './components/Comparison';
import { useApp } from './store';

export function App() {
  const gpu = useApp((s) => s.gpu);
  const ready = useApp((s) => s.load.status === 'ready');
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
              <PromptPanel />
              <div className={`panes${ready ? '' : ' panes-idle'}`}>
                <OutputPane format="f16" />
                <OutputPane format="int8" />
              </div>
              <Comparison />
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
