// Pipelines are compiled once per shape, at load, and cached under readable keys such as
// "matmul_gemv int8 n=2048 k=8192 g=128 wg=256". The counters let tests prove that a decode step
// compiles nothing.

import { isSoftwareDevice } from './device';

export class ShaderCompileError extends Error {
  override name = 'ShaderCompileError';
}

export type Constants = Record<string, number | boolean>;

/**
 * What int8 matmuls of several rows do (kernels/matmul_w8a8.ts): 'auto' quantizes the activations
 * to 8 bits on GPUs, multiplying passes of 2-16 rows in the few-rows dot4I8Packed GEMM and longer
 * ones on subgroup matrices (tensor cores) where the device has i8 ones (elsewhere those keep f32
 * activations; software adapters keep them throughout); 'sgmat' uses the subgroup matrices for
 * every pass (for comparison); 'dp4a' runs the same arithmetic with dot4I8Packed on any device
 * (the few-rows GEMM, and the reference beyond); 'off' keeps f32 activations.
 */
export type W8a8Setting = 'auto' | 'sgmat' | 'dp4a' | 'off';

export class PipelineCache {
  private readonly pipelines = new Map<string, Promise<GPUComputePipeline>>();
  /** Number of pipelines actually compiled (cache misses). */
  compiled = 0;
  /** Of those, how many have finished compiling (or failed): compiled - settled are in flight. */
  settled = 0;
  /**
   * Whether kernels take their software-adapter variants (barrier-free, made for CPU SIMD lanes):
   * by default when the adapter is one (SwiftShader, llvmpipe); tests force either on any adapter.
   */
  readonly software: boolean;
  /** What int8 matmuls of several rows do by default: see W8a8Setting. */
  readonly w8a8: W8a8Setting;

  constructor(
    readonly device: GPUDevice,
    opts: { software?: boolean; w8a8?: W8a8Setting } = {},
  ) {
    this.software = opts.software ?? isSoftwareDevice(device);
    // 'auto' since the subgroup-matrix kernel passed scripts/check-w8a8.ts on an H100 and measured
    // faster there (2026-12-06: batched decode 1.7x, prefill 1.24x; README, W8A8).
    this.w8a8 = opts.w8a8 ?? 'auto';
  }

  private async compile(desc: GPUComputePipelineDescriptor): Promise<GPUComputePipeline> {
    try {
      return await this.device.createComputePipelineAsync(desc);
    } catch (e) {
      // The pipeline error only says the module is invalid; the WGSL compiler's messages say why.
      const info = await desc.compute.module.getCompilationInfo().catch(() => null);
      const errors = (info?.messages ?? []).filter((m) => m.type === 'error').map((m) => `line ${m.lineNum}:${m.linePos} ${m.message}`);
      throw new ShaderCompileError(`${desc.label}: ${errors.length ? errors.slice(0, 3).join('; ') : (e as Error).message}`);
    }
  }

  /** A readable key: kernel name plus its shape constants. */
  static key(name: string, constants: Constants = {}): string {
    const parts = Object.entries(constants).map(([k, v]) => `${k.toLowerCase()}=${typeof v === 'boolean' ? Number(v) : v}`);
    return [name, ...parts].join(' ');
  }

  get(name: string, code: string, constants: Constants = {}, entryPoint = 'main'): Promise<GPUComputePipeline> {
    const key = PipelineCache.key(name, constants) + (entryPoint === 'main' ? '' : ` @${entryPoint}`);
    let p = this.pipelines.get(key);
    if (!p) {
      this.compiled++;
      const module = this.device.createShaderModule({ label: key, code });
      const numeric: Record<string, number> = {};
      for (const [k, v] of Object.entries(constants)) numeric[k] = typeof v === 'boolean' ? Number(v) : v;
      const desc: GPUComputePipelineDescriptor = { label: key, layout: 'auto', compute: { module, entryPoint, constants: numeric } };
      p = this.compile(desc);
      this.pipelines.set(key, p);
      void p.then(
        () => this.settled++,
        () => this.settled++,
      );
      // A failed compile is not kept: a cache shared by many loads would otherwise fail them all.
      const mine = p;
      p.catch(() => {
        if (this.pipelines.get(key) === mine) this.pipelines.delete(key);
      });
    }
    return p;
  }

  keys(): string[] {
    return [...this.pipelines.keys()];
  }
}
