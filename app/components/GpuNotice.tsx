import { useApp } from '../store';

/** Shown instead of the compare view when the browser gives no WebGPU adapter. */
export function GpuNotice() {
  const gpu = useApp((s) => s.gpu);
  if (gpu.status !== 'unavailable') return null;
  return (
    <div className="card notice" role="alert" data-testid="no-webgpu">
      <h2>WebGPU is not available</h2>
      <p className="muted">{gpu.error.message}</p>
      <p>This demo runs the model on your GPU through WebGPU. To enable it:</p>
      <ul>
        <li>Use a recent <strong>Chrome or Edge</strong> (version 113 or newer) on Windows, macOS or ChromeOS; WebGPU is on by default there.</li>
        <li>
          On <strong>Linux</strong>, open <code>chrome://flags</code>, enable <code>#enable-unsafe-webgpu</code> and <code>#enable-vulkan</code>, then restart Chrome.
        </li>
        <li>
          If it is still missing, check <code>chrome://gpu</code>: “WebGPU: Hardware accelerated” should be listed. A blocklisted GPU can be allowed with{' '}
          <code>#ignore-gpu-blocklist</code>.
        </li>
        <li>Firefox and Safari ship WebGPU in recent versions only; Chrome gives the most consistent results here.</li>
      </ul>
    </div>
  );
}

/** The device can be lost at any time (driver reset, GPU process crash); the engines must be rebuilt. */
export function DeviceLostBanner() {
  const lost = useApp((s) => s.deviceLost);
  const model = useApp((s) => s.model);
  const reload = useApp((s) => s.reloadEngines);
  if (lost === null) return null;
  return (
    <div className="banner banner-bad" role="alert" data-testid="device-lost">
      <div>
        <strong>The GPU device was lost.</strong> The engines and their memory are gone ({lost}). Cached weights are still on disk, so reloading is quick.
      </div>
      {model && (
        <button className="btn btn-light" onClick={reload}>
          Reload engines
        </button>
      )}
    </div>
  );
}
