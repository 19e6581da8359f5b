// GPU memory as the app allocates it. WebGPU has no query for a device's memory use, so the peak
// that benchmarks report is counted here: every buffer made through device.createBuffer is added
// to the live total of its owner (the engine being loaded or run at the time) until it is
// destroyed. What the driver holds besides our buffers (pipelines, its own staging) is not seen.

export interface OwnerMemory {
  /** bytes of this owner's buffers alive now */
  live: number;
  /** the most bytes this owner held at once since its last reset */
  peak: number;
}

export class BufferMemoryTracker {
  /** buffers created while this is set count for it; null: for no one but the device total */
  owner: string | null = null;
  private readonly owners = new Map<string, OwnerMemory>();
  private readonly device: OwnerMemory = { live: 0, peak: 0 };

  /** Wraps `device.createBuffer` (once per device) so that every buffer is counted. */
  static attach(device: GPUDevice): BufferMemoryTracker {
    const key = Symbol.for('int8-llm.memory-tracker');
    const held = (device as unknown as Record<symbol, BufferMemoryTracker | undefined>)[key];
    if (held) return held;
    const tracker = new BufferMemoryTracker();
    const create = device.createBuffer.bind(device);
    device.createBuffer = (desc: GPUBufferDescriptor): GPUBuffer => {
      const buffer = create(desc);
      tracker.add(buffer, desc.size);
      return buffer;
    };
    (device as unknown as Record<symbol, BufferMemoryTracker>)[key] = tracker;
    return tracker;
  }

  /** Counts `bytes` for the current owner until `buffer.destroy()` (counted once however often it is called). */
  add(buffer: Pick<GPUBuffer, 'destroy'>, bytes: number): void {
    const entries = [this.device, ...(this.owner === null ? [] : [this.entry(this.owner)])];
    for (const e of entries) {
      e.live += bytes;
      e.peak = Math.max(e.peak, e.live);
    }
    const destroy = buffer.destroy.bind(buffer);
    let alive = true;
    buffer.destroy = () => {
      if (alive) {
        alive = false;
        for (const e of entries) e.live -= bytes;
      }
      destroy();
    };
  }

  private entry(owner: string): OwnerMemory {
    let e = this.owners.get(owner);
    if (!e) this.owners.set(owner, (e = { live: 0, peak: 0 }));
    return e;
  }

  /** An owner's memory; zeros when it never allocated. */
  of(owner: string): OwnerMemory {
    return { ...(this.owners.get(owner) ?? { live: 0, peak: 0 }) };
  }

  /** All buffers together. */
  get total(): OwnerMemory {
    return { ...this.device };
  }

  /** Restarts an owner's peak from what it holds now (e.g. before loading it again). */
  resetPeak(owner: string): void {
    const e = this.entry(owner);
    e.peak = e.live;
  }
}
