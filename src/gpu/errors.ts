// GPU errors as named classes. WebGPU reports validation and out-of-memory errors asynchronously
// (error scopes or the device's `uncapturederror` event) with a message that names the objects
// involved by label: `[Buffer "model.layers.0.self_attn.q_proj.weight"]`,
// `[BindGroupDescriptor ""L3.attention""]`, `[CommandEncoder "decode 17"]`. Every buffer, bind
// group, pipeline and encoder of the engine has a label, so pulling them out of the message says
// which kernel or weight went wrong.

/** A WebGPU validation error, naming the labelled objects (kernel, bind group, buffer) it involves. */
export class GpuValidationError extends Error {
  override name = 'GpuValidationError';
  constructor(
    message: string,
    /** labels quoted in the driver's message, most specific first */
    readonly labels: string[],
    /** what the engine was doing: "loading stories260K (int8)", "decode step 17" */
    readonly during: string,
  ) {
    super(message);
  }
}

/** The device could not allocate a buffer (the adapter's memory is exhausted). */
export class GpuOutOfMemoryError extends Error {
  override name = 'GpuOutOfMemoryError';
}

/** The GPU device is gone (driver reset, GPU process crash, another tab's misbehaviour). */
export class DeviceLostError extends Error {
  override name = 'DeviceLostError';
}

/** Labels quoted in a Dawn/Chromium error message, in order of appearance, without duplicates. */
export function labelsIn(message: string): string[] {
  const out: string[] = [];
  // [Kind "label"] or, for descriptors, [KindDescriptor ""label""]; (unlabeled) objects carry none.
  for (const m of message.matchAll(/\[(\w+) "+([^"\]]+)"+\]/g)) {
    const label = m[2]!;
    if (!out.includes(label)) out.push(label);
  }
  return out;
}

/** The named error for a GPUError popped from a scope or delivered as `uncapturederror`. */
export function namedGpuError(error: GPUError, during: string): Error {
  const message = error.message.trim();
  if (typeof GPUOutOfMemoryError !== 'undefined' && error instanceof GPUOutOfMemoryError) {
    return new GpuOutOfMemoryError(`GPU out of memory while ${during}: ${message}. Try a smaller model, a narrower engine (int8, q4) or a shorter context.`);
  }
  const labels = labelsIn(message);
  const where = labels.length ? ` in ${labels.map((l) => `"${l}"`).join(', ')}` : '';
  return new GpuValidationError(`WebGPU validation error${where} while ${during}: ${message.split('\n')[0]}`, labels, during);
}

/**
 * Runs `fn` inside a validation and an out-of-memory error scope and throws the first error
 * either caught as a named error. Scopes are per device, so callers must not interleave two
 * scoped sections on one device (the engine runs one load or one generation step at a time).
 */
export async function withGpuErrors<T>(device: GPUDevice, during: string, fn: () => Promise<T> | T): Promise<T> {
  device.pushErrorScope('out-of-memory');
  device.pushErrorScope('validation');
  let result: T;
  try {
    result = await fn();
  } catch (e) {
    // Pop both scopes so the stack stays balanced; the error `fn` threw is the one to report.
    await device.popErrorScope().catch(() => null);
    await device.popErrorScope().catch(() => null);
    throw e;
  }
  const validation = await device.popErrorScope();
  const oom = await device.popErrorScope();
  const err = oom ?? validation;
  if (err) throw namedGpuError(err, during);
  return result;
}
