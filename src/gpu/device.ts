// Acquiring a GPUDevice: the only place where the browser and Node differ.
// Browser: navigator.gpu. Node: the `webgpu` package (Dawn); with no GPU we fall back to
// SwiftShader, the CPU Vulkan driver shipped in Debian's chromium package.

export class WebGPUUnavailableError extends Error {
  override name = 'WebGPUUnavailableError';
}

export interface GpuContext {
  device: GPUDevice;
  adapterInfo: AdapterSummary;
  features: {
    subgroups: boolean;
    shaderF16: boolean;
    timestampQuery: boolean;
    /** the 8-bit integer subgroup-matrix shape (tensor cores), where the device has one */
    subgroupMatrixI8: SubgroupMatrixShape | null;
  };
  limits: GPUSupportedLimits;
}

/** One subgroup-matrix configuration: left M x K, right K x N, result M x N. */
export interface SubgroupMatrixShape {
  m: number;
  n: number;
  k: number;
}

/** Dawn's experimental subgroup-matrix feature (Chrome: behind the unsafe-WebGPU flag; Dawn in Node: the allow_unsafe_apis toggle). */
export const SUBGROUP_MATRIX_FEATURE = 'chromium-experimental-subgroup-matrix';

interface SubgroupMatrixConfig {
  componentType: string;
  resultComponentType: string;
  M: number;
  N: number;
  K: number;
}

/** The adapter's subgroup-matrix configurations, by the device acquireDevice made from it. */
const adapterConfigs = new WeakMap<GPUDevice, readonly SubgroupMatrixConfig[]>();

/**
 * The i8 x i8 -> i32 subgroup-matrix shape a device offers (the largest M * N * K), or null. Reads
 * GPUDevice.adapterInfo (Dawn, Chrome 126+): the configurations are listed there once the device
 * has the feature.
 */
export function subgroupMatrixI8(device: GPUDevice): SubgroupMatrixShape | null {
  if (!device.features.has(SUBGROUP_MATRIX_FEATURE)) return null;
  const info = (device as GPUDevice & { adapterInfo?: { subgroupMatrixConfigs?: readonly SubgroupMatrixConfig[] } }).adapterInfo;
  // Dawn in Node lists the configurations on the adapter's info, not the device's (H100, 2026-12-06).
  const configs = info?.subgroupMatrixConfigs?.length ? info.subgroupMatrixConfigs : (adapterConfigs.get(device) ?? []);
  let best: SubgroupMatrixShape | null = null;
  for (const c of configs) {
    if (c.componentType !== 'i8' || c.resultComponentType !== 'i32') continue;
    const s = { m: Number(c.M), n: Number(c.N), k: Number(c.K) };
    if (!best || s.m * s.n * s.k > best.m * best.n * best.k) best = s;
  }
  return best;
}

export interface AdapterSummary {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  /** One line for reports: "nvidia nvidia-h200 (...)" */
  name: string;
}

export interface AcquireOptions {
  powerPreference?: GPUPowerPreference;
  /** Disable optional features, e.g. to test the subgroup fallback. */
  disableFeatures?: Array<'subgroups' | 'shader-f16' | 'timestamp-query' | typeof SUBGROUP_MATRIX_FEATURE>;
  /** Node only: Dawn toggles, e.g. "disable-dawn-features=timestamp_quantization" for benchmarks. */
  dawnFlags?: string[];
  /**
   * Node only, software adapters: lower the main thread's priority (default true). While any GPU
   * promise is pending, Dawn's Node bindings poll for events on the main thread without pause;
   * on a CPU adapter that poll competes for the cores SwiftShader's worker threads compute on
   * (measured on 2 cores: a third of the CPU time went to polling).
   */
  yieldToSoftwareAdapter?: boolean;
  /**
   * Plan for lower limits than the device has (GpuContext.limits reports these): how tests run a
   * small-binding GPU (128-256 MB per binding, as on many integrated and mobile GPUs) on any
   * adapter. A device cannot be created with limits below WebGPU's defaults, so only the plan moves.
   */
  limits?: Partial<Pick<GPUSupportedLimits, 'maxStorageBufferBindingSize' | 'maxBufferSize'>>;
}

const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';

function isNode(): boolean {
  return typeof process !== 'undefined' && !!process.versions?.node && typeof window === 'undefined';
}

async function nodeGpu(flags: string[] = []): Promise<{ gpu: GPU; adapter: GPUAdapter | null }> {
  // Dynamic import with a non-literal specifier so browser bundlers never see `webgpu`.
  const spec = 'webgpu';
  const mod = (await import(/* @vite-ignore */ spec)) as {
    create: (flags: string[]) => GPU;
    globals: Record<string, unknown>;
  };
  Object.assign(globalThis, mod.globals);
  keepNodeAliveWhilePending(mod.globals);
  // The Vulkan loader prints to stdout when this is unset, which would corrupt `--json` output.
  process.env.XDG_RUNTIME_DIR ??= '/tmp';
  let gpu = mod.create(flags);
  let adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter && !process.env.VK_ICD_FILENAMES) {
    const fs = await import('node:fs');
    if (fs.existsSync(SWIFTSHADER_ICD)) {
      process.env.VK_ICD_FILENAMES = SWIFTSHADER_ICD;
      gpu = mod.create(flags);
      adapter = await gpu.requestAdapter();
    }
  }
  // The GPU object owns Dawn's instance. If it is garbage-collected while a device lives, Dawn's
  // event pump runs on a freed instance and the process crashes at random (futex/mutex aborts,
  // segfaults). Keep it reachable for the life of the process.
  nodeInstances.push(gpu);
  return { gpu, adapter };
}

const nodeInstances: GPU[] = [];

/**
 * Linux gives each thread its own nice value, and setpriority on the process id changes only the
 * main thread's: the GPU's worker threads keep theirs, so they win the cores whenever they have
 * work, and the main thread (encoding, polling) runs in their gaps.
 */
async function lowerMainThreadPriority(): Promise<void> {
  const os = await import('node:os');
  try {
    os.setPriority(process.pid, Math.max(os.getPriority(process.pid), 10));
  } catch {
    // Not permitted (or not Linux): only speed is lost.
  }
}

/**
 * Dawn's Node bindings deliver promise results from a timer-driven event pump but hold no
 * reference on the event loop, so `await queue.onSubmittedWorkDone()` in a script with nothing
 * else scheduled lets Node exit mid-await. Each promise-returning GPU method is wrapped so that
 * a referenced timer runs while any such promise is pending.
 */
function keepNodeAliveWhilePending(globals: Record<string, unknown>): void {
  const marker = Symbol.for('int8-llm.keepalive');
  let pending = 0;
  let timer: ReturnType<typeof setInterval> | undefined;
  const track = <T>(p: Promise<T>): Promise<T> => {
    if (pending++ === 0) timer = setInterval(() => {}, 1);
    return p.finally(() => {
      if (--pending === 0) clearInterval(timer);
    });
  };
  const wrap = (cls: unknown, methods: string[]) => {
    const proto = (cls as { prototype?: Record<string | symbol, unknown> } | undefined)?.prototype;
    if (!proto || proto[marker]) return;
    proto[marker] = true;
    for (const m of methods) {
      const orig = proto[m] as ((...a: unknown[]) => Promise<unknown>) | undefined;
      if (typeof orig !== 'function') continue;
      proto[m] = function (this: unknown, ...args: unknown[]) {
        return track(orig.apply(this, args));
      };
    }
  };
  wrap(globals.GPUQueue, ['onSubmittedWorkDone']);
  wrap(globals.GPUBuffer, ['mapAsync']);
  wrap(globals.GPUDevice, ['popErrorScope', 'createComputePipelineAsync', 'createRenderPipelineAsync']);
  wrap(globals.GPUShaderModule, ['getCompilationInfo']);
  wrap(globals.GPUAdapter, ['requestDevice']);
}

/**
 * A CPU implementation of WebGPU (SwiftShader, as in CI and Chrome without a usable GPU; Mesa's
 * llvmpipe/lavapipe): kernels then pick schedules made for CPU SIMD lanes rather than GPU warps.
 */
export function isSoftwareAdapter(info: Partial<Pick<GPUAdapterInfo, 'vendor' | 'architecture' | 'device' | 'description'>> | undefined): boolean {
  if (!info) return false;
  return /swiftshader|llvmpipe|lavapipe|software rasterizer/i.test(`${info.vendor} ${info.architecture} ${info.device} ${info.description}`);
}

/** Whether a device runs on a software adapter (GPUDevice.adapterInfo: Dawn, Chrome 126+). */
export function isSoftwareDevice(device: GPUDevice): boolean {
  return isSoftwareAdapter((device as GPUDevice & { adapterInfo?: GPUAdapterInfo }).adapterInfo);
}

export function summarizeAdapter(info: GPUAdapterInfo | undefined): AdapterSummary {
  const vendor = info?.vendor ?? '';
  const architecture = info?.architecture ?? '';
  const device = info?.device ?? '';
  const description = info?.description ?? '';
  const name = [vendor, architecture, device].filter(Boolean).join(' ') + (description ? ` (${description})` : '');
  return { vendor, architecture, device, description, name: name || 'unknown adapter' };
}

/** A plain copy of `limits` with some lowered (never raised). */
function lowered(limits: GPUSupportedLimits, to: Partial<Record<string, number>>): GPUSupportedLimits {
  const out: Record<string, number> = {};
  // WebIDL attributes are enumerable getters on the prototype: for-in reaches them.
  for (const k in limits) out[k] = (limits as unknown as Record<string, number>)[k]!;
  for (const [k, v] of Object.entries(to)) if (v !== undefined) out[k] = Math.min(out[k] ?? v, v);
  return out as unknown as GPUSupportedLimits;
}

/** Requests a device with the adapter's own large limits and whichever optional features exist. */
export async function acquireDevice(opts: AcquireOptions = {}): Promise<GpuContext> {
  let adapter: GPUAdapter | null = null;
  if (typeof navigator !== 'undefined' && (navigator as Navigator & { gpu?: GPU }).gpu) {
    adapter = await navigator.gpu.requestAdapter({ powerPreference: opts.powerPreference ?? 'high-performance' });
  } else if (isNode()) {
    // Dawn lists its experimental subgroup matrices only with the allow_unsafe_apis toggle.
    const unsafe = opts.disableFeatures?.includes(SUBGROUP_MATRIX_FEATURE) ? [] : ['enable-dawn-features=allow_unsafe_apis'];
    adapter = (await nodeGpu([...(opts.dawnFlags ?? []), ...unsafe])).adapter;
  } else {
    throw new WebGPUUnavailableError(
      'WebGPU is not available in this browser. Use a recent Chrome or Edge; on Linux enable chrome://flags/#enable-unsafe-webgpu and chrome://flags/#enable-vulkan.',
    );
  }
  if (!adapter) {
    throw new WebGPUUnavailableError(
      isNode()
        ? `No WebGPU adapter found. Install a Vulkan driver, or Debian's chromium package for SwiftShader (${SWIFTSHADER_ICD}), or set VK_ICD_FILENAMES.`
        : 'The browser exposes WebGPU but gave no adapter (GPU blocklisted or disabled). Check chrome://gpu.',
    );
  }
  const disabled = new Set(opts.disableFeatures ?? []);
  const wanted: GPUFeatureName[] = [];
  for (const f of ['subgroups', 'shader-f16', 'timestamp-query'] as const) {
    if (adapter.features.has(f) && !disabled.has(f)) wanted.push(f as GPUFeatureName);
  }
  // Subgroup matrices build on subgroups.
  if (adapter.features.has(SUBGROUP_MATRIX_FEATURE) && wanted.includes('subgroups' as GPUFeatureName) && !disabled.has(SUBGROUP_MATRIX_FEATURE)) {
    wanted.push(SUBGROUP_MATRIX_FEATURE as GPUFeatureName);
  }
  const l = adapter.limits;
  const requiredLimits: Record<string, number> = {
    maxStorageBufferBindingSize: l.maxStorageBufferBindingSize,
    maxBufferSize: l.maxBufferSize,
    maxComputeWorkgroupStorageSize: l.maxComputeWorkgroupStorageSize,
    maxComputeInvocationsPerWorkgroup: l.maxComputeInvocationsPerWorkgroup,
    maxComputeWorkgroupSizeX: l.maxComputeWorkgroupSizeX,
    maxComputeWorkgroupsPerDimension: l.maxComputeWorkgroupsPerDimension,
    maxStorageBuffersPerShaderStage: l.maxStorageBuffersPerShaderStage,
  };
  const device = await adapter.requestDevice({ requiredFeatures: wanted, requiredLimits });
  const listed = (adapter.info as GPUAdapterInfo & { subgroupMatrixConfigs?: readonly SubgroupMatrixConfig[] }).subgroupMatrixConfigs;
  if (listed) adapterConfigs.set(device, [...listed]);
  if (isNode() && (opts.yieldToSoftwareAdapter ?? true) && isSoftwareAdapter(adapter.info)) await lowerMainThreadPriority();
  const has = (f: string) => device.features.has(f);
  return {
    device,
    adapterInfo: summarizeAdapter(adapter.info),
    features: { subgroups: has('subgroups'), shaderF16: has('shader-f16'), timestampQuery: has('timestamp-query'), subgroupMatrixI8: subgroupMatrixI8(device) },
    limits: opts.limits ? lowered(device.limits, opts.limits) : device.limits,
  };
}
