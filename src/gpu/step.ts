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

/** Rows a batched pass may describe one by one (the row table of STEP_ROWS_WGSL). */
export const MAX_TABLE_ROWS = 256;

/**
 * The Step struct with its row table, for the kernels that place rows in the KV cache (RoPE, the
 * KV append, attention, learned positions, the sampler). With BATCHED false a row r of the pass is
 * position step.pos + r of the one sequence at the start of the cache, as before; with BATCHED
 * true it is position table[r].y of the sequence whose cache region starts at row table[r].x, so
 * one pass can hold rows of many sequences (batched decode) or a prompt of any sequence.
 */
export const STEP_ROWS_WGSL = /* wgsl */ `
struct Step {
  rows: u32,
  pos: u32,
  kv_len: u32,
  logit_rows: u32,
  table: array<vec4<u32>, ${MAX_TABLE_ROWS}>, // (cache row of the sequence's position 0, position, -, -)
}
override BATCHED: bool = false;
fn row_pos(r: u32) -> u32 {
  if (BATCHED) { return step.table[r].y; }
  return step.pos + r;
}
fn row_kv(r: u32) -> u32 {
  if (BATCHED) { return step.table[r].x; }
  return 0u;
}
`;

/** One row of a batched pass: the cache row where its sequence starts, and its position. */
export interface TableRow {
  kvBase: number;
  pos: number;
}

export interface StepValues {
  rows: number;
  pos: number;
  logitRows?: number;
}

export class StepBuffer {
  readonly buffer: GPUBuffer;
  private readonly data = new Uint32Array(4);
  private readonly table = new Uint32Array(4 + 4 * MAX_TABLE_ROWS);
  constructor(private readonly device: GPUDevice, label = 'step') {
    this.buffer = createUniform(device, label, 16 + 16 * MAX_TABLE_ROWS);
  }
  write(v: StepValues): void {
    this.data[0] = v.rows;
    this.data[1] = v.pos;
    this.data[2] = v.pos + v.rows;
    this.data[3] = v.logitRows ?? 1;
    this.device.queue.writeBuffer(this.buffer, 0, this.data);
  }
  /** A batched pass: row r is position rows[r].pos of the sequence whose cache starts at rows[r].kvBase. */
  writeRows(rows: readonly TableRow[], logitRows: number): void {
    if (rows.length < 1 || rows.length > MAX_TABLE_ROWS) throw new Error(`a batched pass holds 1..${MAX_TABLE_ROWS} rows, not ${rows.length}`);
    const t = this.table;
    t[0] = rows.length;
    t[1] = 0;
    t[2] = 0;
    t[3] = logitRows;
    rows.forEach((r, i) => {
      t[4 + 4 * i] = r.kvBase;
      t[5 + 4 * i] = r.pos;
    });
    this.device.queue.writeBuffer(this.buffer, 0, t, 0, 4 + 4 * rows.length);
  }
}
