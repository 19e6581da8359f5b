// Per-pass values (how many rows, at which position) live in one small uniform buffer that the
// runner rewrites before each submit; every bind group made at load points at it.
import { createUniform } from './buffers';

export const STEP_WGSL = /* wgsl */ `
struct Step {
  rows: u32,       // tokens processed in this pass (T)
  pos: u32,        // position of the first of them
  kv_len: u32,     // pos + rows: keys visible to the last row
  logit_rows: u32, // rows of the final hidden state that get logits
}
`;

export interface StepValues {
  rows: number;
  pos: number;
  logitRows?: number;
}

export class StepBuffer {
  readonly buffer: GPUBuffer;
  private readonly data = new Uint32Array(4);
  constructor(private readonly device: GPUDevice, label = 'step') {
    this.buffer = createUniform(device, label, 16);
  }
  write(v: StepValues): void {
    this.data[0] = v.rows;
    this.data[1] = v.pos;
    this.data[2] = v.pos + v.rows;
    this.data[3] = v.logitRows ?? 1;
    this.device.queue.writeBuffer(this.buffer, 0, this.data);
  }
}
