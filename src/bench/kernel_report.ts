// Kernel-lab report (src/bench/kernel_lab.ts): the JSON shape and its text tables.
import { QUANTIZED_NS } from '../gpu/profiler';
import { fmtBytes, formatTable, fx, sig, type AdapterReport, type DeviceFeatures } from './report';

export const KERNEL_SCHEMA = 'webgpu-int8-llm/bench-kernels@1';

export interface BandwidthResult {
  kernel: 'read' | 'copy';
  /** bytes moved per dispatch (read: buffer size; copy: read + written) */
  bytes: number;
  ms: number;
  gbPerSecond: number;
}

export interface GemvResult {
  variant: string;
  format: string;
  /** "NxK" (out x in, as in the HF weight) */
  shape: string;
  n: number;
  k: number;
  weightBytes: number;
  /** distinct weight copies cycled through, so the weights are not served from cache */
  copies: number;
  /** dispatches per timed pass */
  iters: number;
  msMedian: number;
  msMin: number;
  gbPerSecond: number;
  /** of the measured read bandwidth (a 1 GiB buffer) */
  rooflinePercent: number;
  /**
   * of a streaming read of this matrix's bytes in one dispatch, launch and drain included: what
   * the GPU and the API allow a kernel of this size at all
   */
  sameSizeReadPercent?: number;
  /** max |y - y_reference| / max |y_reference| on the same weights (0 for the reference) */
  maxRelErrorVsReference: number;
  /**
   * The same dispatches with a separate output per weight copy: no write hazard between them, so
   * no barrier, and they may overlap. The kernel's own streaming rate, without the per-dispatch
   * drain-and-launch cost that a chain of dependent kernels (a decode step) pays. Engine only.
   */
  overlapped?: { msMedian: number; gbPerSecond: number; rooflinePercent: number };
}

export interface GemmResult {
  variant: string;
  format: string;
  shape: string;
  n: number;
  k: number;
  rows: number;
  iters: number;
  msMedian: number;
  msMin: number;
  tflops: number;
  maxRelErrorVsReference: number;
}

export interface KernelLabReport {
  schema: typeof KERNEL_SCHEMA;
  date: string;
  adapter: AdapterReport;
  features: DeviceFeatures;
  settings: {
    shapes: string[];
    formats: string[];
    /** least dispatches per timed pass (raised until a pass lasts minPassMs) */
    iters: number;
    trials: number;
    minPassMs: number;
    bandwidthBytes: number;
    rotateBytes: number;
    gemmRows: number;
    timing: 'timestamp-query' | 'wall';
    /** 1, or the quantization of the timestamps in ns (see gpu/profiler.ts) */
    timestampQuantumNs: number;
  };
  bandwidth: BandwidthResult[];
  gemv: GemvResult[];
  gemm: GemmResult[];
}

export function renderKernelReport(r: KernelLabReport): string {
  const lines = [`kernel lab on ${r.adapter.name} | ${r.date} | timing: ${r.settings.timing}${r.settings.timestampQuantumNs >= QUANTIZED_NS ? ` (quantized to ${r.settings.timestampQuantumNs} ns)` : ''}, median of ${r.settings.trials} passes of >= ${r.settings.minPassMs} ms`, ''];
  lines.push(formatTable(['bandwidth', 'bytes', 'ms', 'GB/s'], r.bandwidth.map((b) => [b.kernel, fmtBytes(b.bytes), sig(b.ms), sig(b.gbPerSecond)])));
  lines.push('', formatTable(
    ['GEMV', 'variant', 'format', 'weights', 'copies', 'us median', 'us min', 'GB/s', '% of read BW', '% same-size read', 'overlapped %', 'rel err'],
    r.gemv.map((g) => [g.shape, g.variant, g.format, fmtBytes(g.weightBytes), g.copies, sig(g.msMedian * 1000), sig(g.msMin * 1000), sig(g.gbPerSecond), fx(g.rooflinePercent, 1), g.sameSizeReadPercent === undefined ? '-' : fx(g.sameSizeReadPercent, 1), g.overlapped ? fx(g.overlapped.rooflinePercent, 1) : '-', g.maxRelErrorVsReference.toExponential(1)]),
    ['left', 'left', 'left'],
  ));
  lines.push('', formatTable(
    ['GEMM', 'variant', 'format', 'rows', 'ms median', 'TFLOP/s', 'rel err'],
    r.gemm.map((g) => [g.shape, g.variant, g.format, g.rows, sig(g.msMedian), sig(g.tflops), g.maxRelErrorVsReference.toExponential(1)]),
    ['left', 'left', 'left'],
  ));
  return lines.join('\n') + '\n';
}
