// What an architecture's block builder gets and gives back (types only). The forward pass
// (src/model/forward.ts) allocates the activations and the KV cache, asks the architecture for its
// program, and records it: embed, every layer, the head, then the sampler.
import type { ModelConfig } from './common';
import type { ModelWeights } from '../weights';
import type { PipelineCache } from '../../gpu/pipelines';
import type { KvFormat } from '../../kernels/kv_cache';

/** One kernel dispatch (or a few), recorded into a pass over `rows` tokens at positions pos.. . */
export type Op = (pass: GPUComputePassEncoder, rows: number, pos: number) => void;

export interface BlockContext {
  device: GPUDevice;
  cache: PipelineCache;
  c: ModelConfig;
  w: ModelWeights;
  maxCtx: number;
  /** the step uniform (rows, pos, kv_len, logit_rows) every bind group reads */
  step: GPUBuffer;
  /**
   * f32 activations: the architecture's per-row buffers (its `activations`), plus lastX and lastH
   * [logit rows, D], logits [logit rows, V] and ids (u32 [rows])
   */
  a: Record<string, GPUBuffer>;
  kCache: GPUBuffer[];
  vCache: GPUBuffer[];
  /** the caches' storage, which every kernel touching them is built for */
  kv: KvFormat;
  /** decode steps run the norm as its own dispatch (software adapters) rather than fused into the GEMVs */
  separateNorm: boolean;
  /**
   * also build the batched schedule: a pass whose rows belong to several sequences (or one
   * sequence at the start of its own cache region), placed by the step's row table
   */
  batched: boolean;
  /** sequences a batched decode step holds (its attention runs the split decode path up to this many rows) */
  maxBatch: number;
  /** hands a buffer the block made (tables, kernels' scratch) to the forward pass, which destroys it (also when the build fails) */
  keep: (b: GPUBuffer) => void;
}

export interface BlockProgram {
  /** ids -> x */
  embed: Op[];
  /**
   * each layer as a pass over many rows (prefill), as one decode row (may fuse kernels), and (when
   * built batched) as a pass whose rows are placed by the step's row table
   */
  layers: Array<{ rows: Op[]; decode: Op[]; batch?: Op[] }>;
  /** ids -> x in a batched pass (learned positions per row) */
  embedBatch?: Op[];
  /** lastX (the rows that get logits) -> logits */
  head: Op[];
  /** a decode step's x -> logits */
  headDecode: Op[];
  /** decode runs fused kernels (Llama: RoPE and the KV append inside q/k/v, SiLU inside gate/up) */
  fusedDecode: boolean;
  /** decode runs the norm as its own dispatch */
  separateDecodeNorm: boolean;
}

export type BlockBuilder = (ctx: BlockContext) => Promise<BlockProgram>;
