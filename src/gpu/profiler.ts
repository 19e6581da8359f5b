// GPU time per kernel, from `timestamp-query`, for benchmarks only. Forward.encode asks the
// profiler (when one is attached) for its compute passes; the pass it gets back starts a new real
// pass, with begin/end timestamps, whenever the pipeline's kernel changes, so each run of one
// kernel's dispatches is timed on its own. Without a profiler the forward pass records one pass
// and nothing here runs.
//
// With granularity 'pass' it times whole passes instead (named by the first word of the pass
// label: "decode", "forward", "head"), which adds two timestamps per pass and nothing between
// kernels: the GPU time of a step as it runs unprofiled.
//
// Kernels are named by the first word of their pipeline label (the PipelineCache key, e.g.
// "matmul_gemv f16 n=576 ..."), phases by the first word of the command encoder's label
// ("prefill 0+128", "decode 130"). Timestamps are read back asynchronously: a slot (query set +
// resolve buffer + readback buffer) is mapped once the encoder that used it has been submitted,
// which the profiler infers from the next encoder it sees, or `flush()` after the last submit.

/**
 * The coarsest power-of-two grid (ns, up to 2^24) all the timestamps lie on: 1 for real
 * nanosecond timestamps; 65536 when Dawn quantizes them (its `timestamp_quantization` toggle,
 * on by default), which makes a single short pass read as 0 or 65.5 us. Sums over many passes
 * stay unbiased, since pass boundaries fall at random phases of the grid.
 */
export function timestampQuantum(values: Iterable<bigint>): number {
  let zeros = 24;
  for (const v of values) {
    const low = Number(v & 0xffffffn);
    if (low !== 0) zeros = Math.min(zeros, 31 - Math.clz32(low & -low));
  }
  return 2 ** zeros;
}

/** Quanta at or above this are Dawn's deliberate quantization, not the GPU's clock (NVIDIA ticks at 32 ns). */
export const QUANTIZED_NS = 1024;

export type KernelFamily = 'matmul' | 'attention' | 'other';

export function kernelFamily(kernel: string): KernelFamily {
  if (kernel.startsWith('matmul')) return 'matmul';
  if (kernel.startsWith('attention')) return 'attention';
  return 'other';
}

/** What Forward needs: a compute pass for a command encoder. */
export interface PassProfiler {
  beginPass(enc: GPUCommandEncoder, label: string): GPUComputePassEncoder;
}

export interface KernelTime {
  /** summed GPU nanoseconds of this kernel's passes */
  ns: number;
  /** timed passes (runs of consecutive dispatches of this kernel) */
  passes: number;
}

export interface PhaseTimes {
  /** command encoders of this phase that recorded profiled passes (e.g. decode steps) */
  encoders: number;
  kernels: Record<string, KernelTime>;
}

interface Slot {
  querySet: GPUQuerySet;
  resolve: GPUBuffer;
  read: GPUBuffer;
  /** kernel name of each timed pass */
  kernels: string[];
  phase: string;
  enc: GPUCommandEncoder | null;
}

const firstWord = (s: string | undefined) => (s ?? '').trim().split(/\s+/)[0] || 'unnamed';

export class GpuProfiler implements PassProfiler {
  private readonly all: Slot[] = [];
  private readonly free: Slot[] = [];
  /** recorded, not yet known to be submitted */
  private recorded: Slot[] = [];
  private readonly inFlight = new Set<Promise<void>>();
  private readonly phases = new Map<string, PhaseTimes>();
  private readonly encodersSeen = new Map<string, WeakSet<GPUCommandEncoder>>();
  private errors: string[] = [];
  /** passes that ran untimed because a slot's queries ran out */
  untimedPasses = 0;
  /** timed passes whose timestamps were missing or went backwards (not counted) */
  invalidPasses = 0;
  /** see timestampQuantum(); 0 until a timestamp was read */
  quantumNs = 0;

  /**
   * @param maxPassesPerSlot timed passes per `beginPass` call (2 queries each; at most 2048)
   * @param granularity 'kernel': a timed pass per run of one kernel; 'pass': the caller's passes as they are
   */
  constructor(
    private readonly device: GPUDevice,
    private readonly maxPassesPerSlot = 1024,
    private readonly granularity: 'kernel' | 'pass' = 'kernel',
  ) {
    if (!device.features.has('timestamp-query')) throw new Error('GpuProfiler needs the timestamp-query feature');
  }

  static supported(device: GPUDevice): boolean {
    return device.features.has('timestamp-query');
  }

  beginPass(enc: GPUCommandEncoder, label: string): GPUComputePassEncoder {
    this.mapSubmitted(enc);
    const slot = this.free.pop() ?? this.newSlot();
    slot.kernels = [];
    slot.phase = firstWord(enc.label);
    slot.enc = enc;
    this.recorded.push(slot);
    const seen = this.encodersSeen.get(slot.phase) ?? new WeakSet();
    this.encodersSeen.set(slot.phase, seen);
    if (!seen.has(enc)) {
      seen.add(enc);
      this.phase(slot.phase).encoders++;
    }
    return new ProfiledPass(enc, label, slot, this.maxPassesPerSlot, this, this.granularity === 'pass') as unknown as GPUComputePassEncoder;
  }

  /** Waits for every recorded timestamp. Call after the last profiled command buffer was submitted. */
  async flush(): Promise<void> {
    this.mapSubmitted(null);
    while (this.inFlight.size) await Promise.all([...this.inFlight]);
    if (this.errors.length) throw new Error(`profiler: ${this.errors.splice(0).join('; ')}`);
  }

  /** Per phase ("prefill", "decode", ...) and kernel, since construction or the last reset. */
  results(): Record<string, PhaseTimes> {
    return Object.fromEntries(
      [...this.phases].map(([k, v]) => [k, { encoders: v.encoders, kernels: Object.fromEntries(Object.entries(v.kernels).map(([n, t]) => [n, { ...t }])) }]),
    );
  }

  reset(): void {
    this.phases.clear();
    this.encodersSeen.clear();
    this.untimedPasses = 0;
    this.invalidPasses = 0;
    this.quantumNs = 0;
  }

  destroy(): void {
    for (const s of this.all) {
      s.querySet.destroy();
      s.resolve.destroy();
      s.read.destroy();
    }
    this.all.length = 0;
    this.free.length = 0;
    this.recorded.length = 0;
  }

  /** @internal called by ProfiledPass when a pass ran without timestamps */
  noteUntimed(): void {
    this.untimedPasses++;
  }

  private phase(name: string): PhaseTimes {
    let p = this.phases.get(name);
    if (!p) this.phases.set(name, (p = { encoders: 0, kernels: {} }));
    return p;
  }

  private newSlot(): Slot {
    const count = 2 * this.maxPassesPerSlot;
    const bytes = count * 8;
    const slot: Slot = {
      querySet: this.device.createQuerySet({ label: 'profiler', type: 'timestamp', count }),
      resolve: this.device.createBuffer({ label: 'profiler resolve', size: bytes, usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC }),
      read: this.device.createBuffer({ label: 'profiler readback', size: bytes, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST }),
      kernels: [],
      phase: '',
      enc: null,
    };
    this.all.push(slot);
    return slot;
  }

  /**
   * Maps the slots of encoders other than `current`: they were finished and submitted before the
   * caller started recording `current` (a buffer must not be mapped before its copy is submitted).
   * The slots of one encoder are read together, in recording order, so time runs on across them.
   */
  private mapSubmitted(current: GPUCommandEncoder | null): void {
    const groups = new Map<GPUCommandEncoder, Slot[]>();
    for (const slot of this.recorded) {
      if (slot.enc === current || !slot.enc) continue;
      const g = groups.get(slot.enc) ?? [];
      groups.set(slot.enc, g);
      g.push(slot);
    }
    if (!groups.size) return;
    this.recorded = this.recorded.filter((s) => s.enc === current);
    for (const slots of groups.values()) {
      for (const s of slots) s.enc = null;
      const read = (s: Slot): Promise<BigUint64Array | null> => {
        if (!s.kernels.length) return Promise.resolve(null);
        const bytes = s.kernels.length * 16;
        return s.read.mapAsync(GPUMapMode.READ, 0, bytes).then(() => {
          const t = new BigUint64Array(s.read.getMappedRange(0, bytes).slice(0));
          s.read.unmap();
          return t;
        });
      };
      const p: Promise<void> = Promise.all(slots.map(read))
        .then((stamps) => this.accumulate(slots, stamps))
        .catch((e: Error) => {
          this.errors.push(e.message);
        })
        .finally(() => {
          this.inFlight.delete(p);
          this.free.push(...slots);
        });
      this.inFlight.add(p);
    }
  }

  private accumulate(slots: Slot[], stamps: Array<BigUint64Array | null>): void {
    // A pass's begin stamp can be written before the previous pass has drained (Vulkan takes it at
    // the top of the pipe), so a pass is taken to start at the later of its begin stamp and the
    // previous pass's end: per-kernel times then partition the encoder's GPU span, not overlap.
    let prevEnd = 0n;
    slots.forEach((slot, j) => {
      const t = stamps[j];
      if (!t) return;
      const phase = this.phase(slot.phase);
      const q = timestampQuantum(t);
      this.quantumNs = this.quantumNs ? Math.min(this.quantumNs, q) : q;
      slot.kernels.forEach((kernel, i) => {
        const begin = t[2 * i]!;
        const end = t[2 * i + 1]!;
        if (begin === 0n || end < begin) {
          this.invalidPasses++;
          return;
        }
        const start = begin > prevEnd ? begin : prevEnd;
        prevEnd = end;
        const k = (phase.kernels[kernel] ??= { ns: 0, passes: 0 });
        k.ns += end > start ? Number(end - start) : 0;
        k.passes++;
      });
    });
  }
}

/**
 * Stands in for a GPUComputePassEncoder: forwards what kernels call (setPipeline, setBindGroup,
 * dispatch) to a real pass, and starts a new timed real pass when the kernel changes. Kernels set
 * the pipeline before their bind groups, so no binding state is lost across the switch.
 */
class ProfiledPass {
  private pass: GPUComputePassEncoder | null = null;
  private kernel = '';
  label: string;

  constructor(
    private readonly enc: GPUCommandEncoder,
    label: string,
    private readonly slot: Slot,
    private readonly maxPasses: number,
    private readonly owner: GpuProfiler,
    /** one timed pass for everything, named by the pass label */
    private readonly whole = false,
  ) {
    this.label = label;
    if (whole) this.begin(firstWord(label));
  }

  private begin(kernel: string): void {
    this.kernel = kernel;
    const i = this.slot.kernels.length;
    if (i < this.maxPasses) {
      this.slot.kernels.push(kernel);
      this.pass = this.enc.beginComputePass({
        label: `${this.label} / ${kernel}`,
        timestampWrites: { querySet: this.slot.querySet, beginningOfPassWriteIndex: 2 * i, endOfPassWriteIndex: 2 * i + 1 },
      });
    } else {
      this.owner.noteUntimed();
      this.pass = this.enc.beginComputePass({ label: `${this.label} / ${kernel} (untimed)` });
    }
  }

  setPipeline(p: GPUComputePipeline): void {
    const kernel = firstWord(p.label);
    if (!this.whole && (!this.pass || kernel !== this.kernel)) {
      this.pass?.end();
      this.begin(kernel);
    }
    this.need().setPipeline(p);
  }

  setBindGroup(index: number, group: GPUBindGroup | null, offsets?: Iterable<number>): void {
    this.need().setBindGroup(index, group, offsets);
  }

  dispatchWorkgroups(x: number, y?: number, z?: number): void {
    this.need().dispatchWorkgroups(x, y, z);
  }

  dispatchWorkgroupsIndirect(buffer: GPUBuffer, offset: number): void {
    this.need().dispatchWorkgroupsIndirect(buffer, offset);
  }

  pushDebugGroup(s: string): void {
    this.pass?.pushDebugGroup(s);
  }
  popDebugGroup(): void {
    this.pass?.popDebugGroup();
  }
  insertDebugMarker(s: string): void {
    this.pass?.insertDebugMarker(s);
  }

  end(): void {
    this.pass?.end();
    this.pass = null;
    const n = this.slot.kernels.length;
    if (n > 0) {
      this.enc.resolveQuerySet(this.slot.querySet, 0, 2 * n, this.slot.resolve, 0);
      this.enc.copyBufferToBuffer(this.slot.resolve, 0, this.slot.read, 0, 16 * n);
    }
  }

  private need(): GPUComputePassEncoder {
    if (!this.pass) throw new Error(`${this.label}: setPipeline must come first under the profiler`);
    return this.pass;
  }
}
