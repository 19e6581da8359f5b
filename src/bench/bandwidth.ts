// Timing of dispatches (timestamp queries, else wall clock) and the device's streaming-read
// bandwidth: the kernel lab's roofline, and the model bench's yardstick for a decode step's fixed
// cost (its GPU time minus its weight bytes at this bandwidth).
import bandwidthCode from './bandwidth.wgsl';
import { isSoftwareAdapter, type GpuContext } from '../gpu/device';
import { timestampQuantum } from '../gpu/profiler';
import { createStorage } from '../gpu/buffers';
import type { PipelineCache } from '../gpu/pipelines';
import { FillRandom } from '../kernels/fill_random';
import { median } from './report';
import type { BandwidthResult } from './kernel_report';

const GB = 1e9;
const MAX_ITERS = 20000;

/**
 * Times dispatches recorded in one compute pass per trial: timestamp queries when available, else
 * the wall time of the submit. A calibration pass first raises the dispatch count until a pass
 * lasts `minPassMs`, which amortizes the submit (wall) and the timestamp quantum (Dawn rounds to
 * 65.5 us unless told otherwise) to under a percent.
 */
export class DispatchTimer {
  private readonly querySet: GPUQuerySet | null;
  private readonly resolve: GPUBuffer | null;
  private readonly read: GPUBuffer | null;
  private readonly stamps: bigint[] = [];

  constructor(
    private readonly device: GPUDevice,
    private readonly minPassMs: number,
  ) {
    const ts = device.features.has('timestamp-query');
    this.querySet = ts ? device.createQuerySet({ label: 'lab timer', type: 'timestamp', count: 2 }) : null;
    this.resolve = ts ? device.createBuffer({ label: 'lab resolve', size: 16, usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC }) : null;
    this.read = ts ? device.createBuffer({ label: 'lab readback', size: 16, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST }) : null;
  }

  get source(): 'timestamp-query' | 'wall' {
    return this.querySet ? 'timestamp-query' : 'wall';
  }

  get quantumNs(): number {
    return this.stamps.length ? timestampQuantum(this.stamps) : 1;
  }

  /** ms of one pass of `iters` dispatches */
  private async pass(label: string, iters: number, body: (pass: GPUComputePassEncoder, i: number) => void): Promise<number> {
    const enc = this.device.createCommandEncoder({ label });
    const pass = enc.beginComputePass({
      label,
      ...(this.querySet ? { timestampWrites: { querySet: this.querySet, beginningOfPassWriteIndex: 0, endOfPassWriteIndex: 1 } } : {}),
    });
    for (let i = 0; i < iters; i++) body(pass, i);
    pass.end();
    if (this.querySet) {
      enc.resolveQuerySet(this.querySet, 0, 2, this.resolve!, 0);
      enc.copyBufferToBuffer(this.resolve!, 0, this.read!, 0, 16);
    }
    const cmd = enc.finish();
    await this.device.queue.onSubmittedWorkDone();
    const t0 = performance.now();
    this.device.queue.submit([cmd]);
    await this.device.queue.onSubmittedWorkDone();
    const wallMs = performance.now() - t0;
    if (!this.read) return wallMs;
    await this.read.mapAsync(GPUMapMode.READ);
    const [b, e] = new BigUint64Array(this.read.getMappedRange().slice(0));
    this.read.unmap();
    if (!(b! > 0n && e! >= b!)) return wallMs;
    this.stamps.push(b!, e!);
    return Number(e! - b!) / 1e6;
  }

  /** ms per dispatch, one value per trial, after a calibration pass that also warms up. */
  async time(label: string, minIters: number, trials: number, body: (pass: GPUComputePassEncoder, i: number) => void): Promise<{ iters: number; ms: number[] }> {
    const calib = await this.pass(label, minIters, body);
    const iters = calib >= this.minPassMs ? minIters : Math.min(MAX_ITERS, Math.ceil((minIters * this.minPassMs) / Math.max(calib, 1e-3)));
    const ms: number[] = [];
    for (let t = 0; t < trials; t++) ms.push((await this.pass(label, iters, body)) / iters);
    return { iters, ms };
  }

  destroy(): void {
    this.querySet?.destroy();
    this.resolve?.destroy();
    this.read?.destroy();
  }
}

/**
 * The device's streaming bandwidth: one dispatch reading a buffer of about `requested` bytes
 * (capped by the limits), and one copying half of it; median of `trials` timed passes each.
 */
export async function measureBandwidth(gpu: GpuContext, cache: PipelineCache, fill: FillRandom, timer: DispatchTimer, requested: number, trials: number): Promise<BandwidthResult[]> {
  const { device } = gpu;
  const unit = 256 * 16;
  const limit = Math.min(gpu.limits.maxStorageBufferBindingSize, gpu.limits.maxBufferSize);
  const bytes = Math.max(unit, Math.floor(Math.min(requested, limit) / unit) * unit);
  const half = Math.max(unit, Math.floor(bytes / 2 / unit) * unit);
  const src = createStorage(device, 'bandwidth src', bytes);
  const dst = createStorage(device, 'bandwidth dst', half);
  try {
    // Random contents, so no zero-page or compression shortcut can flatter the numbers.
    fill.fill(device, src, { mode: 'int8', seed: 7, words: bytes / 4, rowWords: bytes / 4, cols: bytes });
    const [readP, copyP] = await Promise.all([
      cache.get('lab_read', bandwidthCode, { WG: 256 }, 'read_main'),
      cache.get('lab_copy', bandwidthCode, { WG: 256 }, 'copy_main'),
    ]);
    const bind = (p: GPUComputePipeline, srcSize: number) =>
      device.createBindGroup({ layout: p.getBindGroupLayout(0), entries: [{ binding: 0, resource: { buffer: src, size: srcSize } }, { binding: 1, resource: { buffer: dst } }] });
    const groups = (vec4s: number) => Math.min(65535, Math.max(1, Math.ceil(vec4s / 256 / 8)));
    const out: BandwidthResult[] = [];
    for (const [kernel, p, srcSize, moved] of [['read', readP, bytes, bytes], ['copy', copyP, half, 2 * half]] as const) {
      const bg = bind(p, srcSize);
      const g = groups(srcSize / 16);
      const { ms: times } = await timer.time(`bandwidth ${kernel}`, 1, trials, (pass) => {
        pass.setPipeline(p);
        pass.setBindGroup(0, bg);
        pass.dispatchWorkgroups(g);
      });
      const ms = median(times);
      out.push({ kernel, bytes: moved, ms, gbPerSecond: moved / (ms / 1000) / GB });
    }
    return out;
  } finally {
    src.destroy();
    dst.destroy();
  }
}

/** The read probe's default size: 1 GiB on GPUs (smaller reads do not reach the rate), 32 MiB on CPU adapters. */
export function defaultBandwidthBytes(gpu: GpuContext): number {
  return isSoftwareAdapter(gpu.adapterInfo) ? 32 << 20 : 1 << 30;
}

/** The streaming read alone (median of `trials` passes), with its own timer and fill kernel. */
export async function streamingRead(gpu: GpuContext, cache: PipelineCache, o: { bytes?: number; trials?: number; minPassMs?: number } = {}): Promise<BandwidthResult> {
  const fill = await FillRandom.create(cache);
  const timer = new DispatchTimer(gpu.device, o.minPassMs ?? 20);
  try {
    const r = await measureBandwidth(gpu, cache, fill, timer, o.bytes ?? defaultBandwidthBytes(gpu), o.trials ?? 5);
    return r.find((b) => b.kernel === 'read')!;
  } finally {
    timer.destroy();
  }
}
