// Buffer helpers. Every buffer gets a label so validation errors name what went wrong.

export function storageUsage(): number {
  return GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;
}

/** Rounds a byte size up to 4 and at least 16, as WebGPU requires for storage bindings. */
export function alignedSize(bytes: number): number {
  return Math.max(16, Math.ceil(bytes / 4) * 4);
}

export function createStorage(device: GPUDevice, label: string, bytes: number): GPUBuffer {
  return device.createBuffer({ label, size: alignedSize(bytes), usage: storageUsage() });
}

export function createUniform(device: GPUDevice, label: string, bytes: number): GPUBuffer {
  return device.createBuffer({ label, size: Math.max(16, Math.ceil(bytes / 16) * 16), usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
}

/** Creates a storage buffer holding `data` (padded to 4 bytes). */
export function uploadStorage(device: GPUDevice, label: string, data: ArrayBufferView): GPUBuffer {
  const buf = device.createBuffer({ label, size: alignedSize(data.byteLength), usage: storageUsage(), mappedAtCreation: true });
  new Uint8Array(buf.getMappedRange()).set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  buf.unmap();
  return buf;
}

/** Copies `bytes` of `src` back to the CPU (tests, CLI tools; never on the decode hot path). */
export async function readBuffer(device: GPUDevice, src: GPUBuffer, bytes = src.size, offset = 0): Promise<ArrayBuffer> {
  const size = Math.ceil(bytes / 4) * 4;
  const staging = device.createBuffer({ label: `readback of ${src.label}`, size, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  const enc = device.createCommandEncoder({ label: 'readback' });
  enc.copyBufferToBuffer(src, offset, staging, 0, size);
  device.queue.submit([enc.finish()]);
  await staging.mapAsync(GPUMapMode.READ);
  const out = staging.getMappedRange().slice(0, bytes);
  staging.unmap();
  staging.destroy();
  return out;
}

export async function readF32(device: GPUDevice, src: GPUBuffer, count: number, offsetElems = 0): Promise<Float32Array> {
  return new Float32Array(await readBuffer(device, src, count * 4, offsetElems * 4));
}
