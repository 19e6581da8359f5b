// A decode step's attention output projection (Llama's o_proj, GPT-2's attn.c_proj) reading
// attention's split results itself (gemv_input_attn.wgsl) instead of after attention's `combine`:
// one dispatch fewer per layer. Shared by the architectures' blocks.
import type { Op } from './program';
import type { GpuWeight } from '../../kernels/weights';
import type { KvFormat } from '../../kernels/kv_cache';
import type { PipelineCache } from '../../gpu/pipelines';
import { Attention, type AttentionBinding } from '../../kernels/attention';
import { Matmul, vecGemvApplies, type MatmulBinding } from '../../kernels/matmul';
import { gemvAttnUnsupported } from '../../kernels/gemv';

/**
 * The most live attention splits (of 64 keys) at which a decode step's output projection merges
 * them itself: every lane re-merges the part of x it reads, which grows with the splits, while the
 * dispatch it saves costs the same at any context. 4 splits: contexts of up to 256 keys (or a
 * window of them).
 */
export const O_MERGE_MAX_SPLITS = 4;

/**
 * The projection's merging GEMV (y += x W^T (+ b) with x merged from the splits), where decode
 * attention runs the splits (GPUs), every layer has one window (`windows`) and the heads are whole
 * vec4s side by side in K; else null (the step keeps the combine).
 */
export async function mergingProjection(
  cache: PipelineCache,
  s: { nHeads: number; nKvHeads: number; headDim: number; maxCtx: number; kv: KvFormat; windows: number[] },
  wo: GpuWeight,
  bias: boolean,
): Promise<Matmul | null> {
  if (s.windows.length !== 1) return null;
  const parts = Attention.partsOf(cache, { ...s, window: s.windows[0]! }, false);
  if (!parts || !vecGemvApplies(wo) || gemvAttnUnsupported(wo, parts)) return null;
  return Matmul.create(cache, wo, { bias, accumulate: true, only: 'gemv', attnInput: parts });
}

/**
 * A decode step's two ops, attention then the projection: the merging GEMV (`merging`, bound over
 * attention's splits) while the step has at most O_MERGE_MAX_SPLITS live splits, else attention
 * with its combine and the plain projection (`plain`, bound over attention's output).
 */
export function attentionThenProjection(
  device: GPUDevice,
  label: string,
  attn: { kernel: Attention; binding: AttentionBinding },
  plain: { mm: Matmul; binding: MatmulBinding },
  merging: Matmul | null,
  b: { w: GpuWeight; y: GPUBuffer; step: GPUBuffer; bias?: GPUBuffer },
): Op[] {
  const parts = attn.kernel.partsBuffer;
  const mb = merging && parts ? merging.bind(device, `${label} (attention merged in)`, { ...b, x: parts }) : null;
  const mergeAt = (pos: number) => !!mb && attn.kernel.splitDecodes(1) && attn.kernel.liveSplits(pos) <= O_MERGE_MAX_SPLITS;
  return [
    (p, _rows, pos) => attn.kernel.encode(p, attn.binding, 1, pos, !mergeAt(pos)), // att = attention(q, K, V)
    (p, _rows, pos) => (mergeAt(pos) ? merging!.encode(p, mb!, 1) : plain.mm.encode(p, plain.binding, 1)), // y += att W^T
  ];
}
