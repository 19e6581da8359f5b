import { useApp } from '../store';
import { FORMATS } from '../protocol';
import { engineLabel } from '../engines';

export function Header() {
  const gpu = useApp((s) => s.gpu);
  const lost = useApp((s) => s.deviceLost !== null);
  let pill: { cls: string; text: string; title?: string };
  if (lost) pill = { cls: 'pill-bad', text: 'GPU device lost' };
  else if (gpu.status === 'ready') pill = { cls: 'pill-ok', text: gpu.adapter === 'unknown adapter' ? 'WebGPU ready' : gpu.adapter, title: `features: ${gpu.features.join(', ') || 'none'}` };
  else if (gpu.status === 'starting') pill = { cls: 'pill-wait', text: 'Starting WebGPU…' };
  else pill = { cls: 'pill-bad', text: 'WebGPU unavailable' };
  return (
    <header className="header">
      <div className="brand">
        <div className="logo" aria-hidden="true">8</div>
        <div>
          <h1>Quantized LLM engines, side by side in your browser</h1>
          <p className="tagline">A Llama-family model on WebGPU with hand-written WGSL kernels: any two of its engines ({FORMATS.map(engineLabel).join(', ')}), a baseline and a candidate, side by side, or one alone when two do not fit.</p>
        </div>
      </div>
      <div className={`pill ${pill.cls}`} title={pill.title} data-testid="gpu-status">
        <span className="dot" aria-hidden="true" />
        {pill.text}
      </div>
    </header>
  );
}
