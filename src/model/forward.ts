// The forward pass of a Llama-family decoder, top to bottom. Everything it touches (kernels,
// activations, KV cache, bind groups) is created in `build`, at load; `encode` only records
// dispatches into the caller's command encoder. The f32, f16, int8 and q4 engines run this same code;
// they differ only in the weight format the matmul and embedding kernels read.
//
// Two schedules of the same layer: a pass over many rows (prefill) runs each step as its own kernel
// (RMSNorm, one GEMM for the stacked q/k/v, RoPE, KV append, attention, ...); a decode step (one
// row) fuses RMSNorm, RoPE, the KV append and SiLU into the matmuls around them, so a layer is six
// dispatches and the step is bound by reading weights rather than by launching kernels.
import type { ModelConfig } from './config';
import type { ModelWeights } from './weights';
import type { PipelineCache } from '../gpu/pipelines';
import type { PassProfiler } from '../gpu/profiler';
import { createStorage, uploadStorage } from '../gpu/buffers';
import { StepBuffer } from '../gpu/step';
import { Embedding } from '../kernels/embedding';
import { RmsNorm } from '../kernels/rmsnorm';
import { Matmul, vecGemvApplies, type MatmulBinding } from '../kernels/matmul';
import { Rope, ropeInvFreq } from '../kernels/rope';
import { KvAppend } from '../kernels/kv_append';
import { Attention, type AttentionBinding } from '../kernels/attention';
import { SiluMul } from '../kernels/silu_mul';
import { Sampler, type SamplerBinding } from '../kernels/sample';
import { QkvRope } from '../kernels/gemv_qkv';
import { GateUpSilu } from '../kernels/gemv_gate_up';

export interface ForwardShape {
  /** tokens the KV cache holds (the context length chosen at load) */
  maxCtx: number;
  /** most tokens one pass processes: longer prompts are prefilled in chunks of this size */
  maxRows: number;
  /** most rows whose logits one pass returns (1 for generation; the logits CLI asks for all) */
  maxLogitRows: number;
}

interface LayerBindings {
  attnNorm: GPUBindGroup;
  qkv: MatmulBinding; // GEMM into q, k, v
  ropeQ: GPUBindGroup;
  ropeK: GPUBindGroup;
  kvAppend: GPUBindGroup;
  attention: AttentionBinding;
  o: MatmulBinding;
  mlpNorm: GPUBindGroup;
  gateUp: MatmulBinding; // GEMM into gate, up
  siluMul: GPUBindGroup;
  down: MatmulBinding;
  /** the fused decode kernels (absent when the shapes rule them out) */
  qkvRope?: GPUBindGroup;
  gateUpSilu?: GPUBindGroup;
}

/** The decode step's fused kernels: built when every layer's shapes allow them. */
interface DecodeKernels {
  qkvRope: QkvRope;
  gateUpSilu: GateUpSilu;
  /** lm_head with the final RMSNorm fused in, reading the residual stream directly (absent when separate) */
  lmHead: Matmul | null;
  /**
   * RMSNorm as its own dispatch into h before q/k/v and gate/up, and into lastH before lm_head
   * (software adapters: a GEMV thread there would read x and the norm weight again for its rows)
   */
  separateNorm: boolean;
}

export interface ForwardOptions {
  /** see EngineOptions.decodeNorm; default 'separate' on software adapters, else 'fused' */
  decodeNorm?: 'fused' | 'separate';
}

export class Forward {
  /** Benchmarks only (src/bench): when set, `encode` gets its passes from it to time each kernel. */
  profiler: PassProfiler | null = null;

  private constructor(
    readonly config: ModelConfig,
    readonly shape: ForwardShape,
    readonly step: StepBuffer,
    /** u32 [maxRows]: input token ids of a pass; the sampler writes the next id to ids[0] */
    readonly ids: GPUBuffer,
    /** u32 [maxCtx]: every token so far (prompt and generated), read by the repetition penalty */
    readonly history: GPUBuffer,
    /** f32 [maxLogitRows, V] */
    readonly logits: GPUBuffer,
    /** all activation and KV-cache buffers, for memory accounting and disposal */
    readonly buffers: GPUBuffer[],
    private readonly k: {
      embed: Embedding;
      norm: RmsNorm;
      qkv: Matmul;
      o: Matmul;
      gateUp: Matmul;
      down: Matmul;
      lmHead: Matmul;
      ropeQ: Rope;
      ropeK: Rope;
      kvAppend: KvAppend;
      attention: Attention[]; // per layer: the sliding window may differ
      siluMul: SiluMul;
      sampler: Sampler;
      decode: DecodeKernels | null;
    },
    private readonly b: {
      embed: GPUBindGroup;
      layers: LayerBindings[];
      finalNorm: GPUBindGroup;
      lmHead: MatmulBinding;
      lmHeadDecode?: MatmulBinding;
      /** decode with a separate norm: the final RMSNorm of x into lastH */
      finalNormDecode: GPUBindGroup;
      sampler: SamplerBinding;
      x: GPUBuffer;
      lastX: GPUBuffer;
    },
  ) {}

  /** Whether decode steps run the fused kernels (false only for shapes no real model has). */
  get fusedDecode(): boolean {
    return this.k.decode !== null;
  }

  /** Whether decode steps run RMSNorm as its own dispatch (EngineOptions.decodeNorm 'separate'). */
  get separateDecodeNorm(): boolean {
    return this.k.decode?.separateNorm ?? false;
  }

  /** bytes of the KV cache */
  get kvBytes(): number {
    const c = this.config;
    return 2 * c.numLayers * this.shape.maxCtx * c.numKvHeads * c.headDim * 4;
  }

  get activationBytes(): number {
    return this.buffers.reduce((a, b) => a + b.size, 0) - this.kvBytes;
  }

  static async build(device: GPUDevice, cache: PipelineCache, c: ModelConfig, w: ModelWeights, shape: ForwardShape, opts: ForwardOptions = {}): Promise<Forward> {
    const D = c.hiddenSize;
    const Q = c.numHeads * c.headDim;
    const KV = c.numKvHeads * c.headDim;
    const I = c.intermediateSize;
    const V = c.vocabSize;
    const T = shape.maxRows; // rows of the longest pass
    const C = shape.maxCtx;
    const buffers: GPUBuffer[] = [];
    const buf = (label: string, bytes: number) => {
      const b = createStorage(device, label, bytes);
      buffers.push(b);
      return b;
    };
    // Activations, f32, sized for the longest pass.
    const x = buf('x', T * D * 4); // [T, D] residual stream
    const h = buf('h', T * D * 4); // [T, D] normed input of a block
    const q = buf('q', T * Q * 4); // [T, H*hd]
    const kk = buf('k', T * KV * 4); // [T, KV*hd]
    const v = buf('v', T * KV * 4); // [T, KV*hd]
    const att = buf('att', T * Q * 4); // [T, H*hd] attention output
    const gate = buf('gate', T * I * 4); // [T, I]
    const up = buf('up', T * I * 4); // [T, I]
    const act = buf('act', T * I * 4); // [T, I] silu(gate) * up
    const lastX = buf('lastX', shape.maxLogitRows * D * 4); // [R, D] rows that get logits
    const lastH = buf('lastH', shape.maxLogitRows * D * 4); // [R, D]
    const logits = buf('logits', shape.maxLogitRows * V * 4); // [R, V]
    const ids = buf('ids', T * 4); // u32 [T]
    const history = buf('history', C * 4); // u32 [C]
    // KV cache: f32 [maxCtx, KV*hd] per layer, allocated whole at load.
    const kCache = Array.from({ length: c.numLayers }, (_, l) => buf(`kCache.${l}`, C * KV * 4));
    const vCache = Array.from({ length: c.numLayers }, (_, l) => buf(`vCache.${l}`, C * KV * 4));
    const invFreq = uploadStorage(device, 'rope.invFreq', ropeInvFreq(c.rope, c.headDim)); // [hd/2]
    buffers.push(invFreq);
    const step = new StepBuffer(device);
    try {
      const separateNorm = (opts.decodeNorm ?? (cache.software ? 'separate' : 'fused')) === 'separate';
      return await Forward.buildKernels(device, cache, c, w, shape, { x, h, q, kk, v, att, gate, up, act, lastX, lastH, logits, ids, history, kCache, vCache, invFreq }, step, buffers, separateNorm);
    } catch (e) {
      // A kernel that fails to compile or bind must not leave the activations and KV cache behind.
      for (const b of buffers) b.destroy();
      step.buffer.destroy();
      throw e;
    }
  }

  private static async buildKernels(
    device: GPUDevice,
    cache: PipelineCache,
    c: ModelConfig,
    w: ModelWeights,
    shape: ForwardShape,
    a: Record<'x' | 'h' | 'q' | 'kk' | 'v' | 'att' | 'gate' | 'up' | 'act' | 'lastX' | 'lastH' | 'logits' | 'ids' | 'history' | 'invFreq', GPUBuffer> & { kCache: GPUBuffer[]; vCache: GPUBuffer[] },
    step: StepBuffer,
    buffers: GPUBuffer[],
    separateNorm: boolean,
  ): Promise<Forward> {
    const { x, h, q, kk, v, att, gate, up, act, lastX, lastH, logits, ids, history, kCache, vCache, invFreq } = a;
    const D = c.hiddenSize;
    const Q = c.numHeads * c.headDim;
    const KV = c.numKvHeads * c.headDim;
    const I = c.intermediateSize;
    const V = c.vocabSize;
    const C = shape.maxCtx;

    // Kernels, compiled once per shape (the pipeline cache dedupes equal shapes).
    const l0 = w.layers[0]!;
    const bias = (b?: GPUBuffer) => ({ bias: !!b });
    const windows = [...new Set(c.layerWindows)];
    const qkvShape = { nHeads: c.numHeads, nKvHeads: c.numKvHeads, headDim: c.headDim, maxCtx: C, eps: c.rmsNormEps, bias: !!l0.bqkv, norm: !separateNorm };
    const fused = QkvRope.applies(l0.wqkv, qkvShape) && GateUpSilu.applies(l0.wGateUp) && vecGemvApplies(w.lmHead);
    const decodeKernels = async (): Promise<DecodeKernels | null> => {
      if (!fused) return null;
      const [qkvRope, gateUpSilu, lmHead] = await Promise.all([
        QkvRope.create(cache, l0.wqkv, qkvShape),
        GateUpSilu.create(cache, l0.wGateUp, { eps: c.rmsNormEps, bias: !!l0.bGateUp, norm: !separateNorm }),
        separateNorm ? null : Matmul.create(cache, w.lmHead, { rowsFrom: 'logit_rows', normEps: c.rmsNormEps, only: 'gemv' }),
      ]);
      return { qkvRope, gateUpSilu, lmHead, separateNorm };
    };
    const [embed, norm, mqkv, mo, mgu, mdown, lmHead, ropeQ, ropeK, kvAppend, siluMul, sampler, decode, ...attn] = await Promise.all([
      Embedding.create(cache, w.embed),
      RmsNorm.create(cache, D, c.rmsNormEps),
      Matmul.create(cache, l0.wqkv, { ...bias(l0.bqkv), split: [Q, KV, KV], only: 'gemm' }),
      // o_proj and down_proj add into the residual stream x in their epilogue (y += x W^T).
      Matmul.create(cache, l0.wo, { ...bias(l0.bo), accumulate: true }),
      Matmul.create(cache, l0.wGateUp, { ...bias(l0.bGateUp), split: [I, I], only: 'gemm' }),
      Matmul.create(cache, l0.wDown, { ...bias(l0.bDown), accumulate: true }),
      Matmul.create(cache, w.lmHead, { rowsFrom: 'logit_rows' }),
      Rope.create(cache, { nHeads: c.numHeads, headDim: c.headDim }),
      Rope.create(cache, { nHeads: c.numKvHeads, headDim: c.headDim }),
      KvAppend.create(cache, { kvDim: KV, maxCtx: C }),
      SiluMul.create(cache, { dim: I }),
      Sampler.create(cache, { vocab: V, maxCtx: C }),
      decodeKernels(),
      ...windows.map((window) =>
        Attention.create(cache, { nHeads: c.numHeads, nKvHeads: c.numKvHeads, headDim: c.headDim, maxCtx: C, window }),
      ),
    ]);
    const attention = c.layerWindows.map((win) => attn[windows.indexOf(win)] as Attention);
    const s = step.buffer;
    const invFreqUniform = decode ? QkvRope.invFreqUniform(device, ropeInvFreq(c.rope, c.headDim)) : null;
    if (invFreqUniform) buffers.push(invFreqUniform);

    // Bind groups, once.
    const layers = w.layers.map((lw, l): LayerBindings => ({
      attnNorm: norm.bind(device, `L${l}.attnNorm`, { x, weight: lw.attnNorm, out: h }),
      qkv: mqkv.bind(device, `L${l}.qkv`, { w: lw.wqkv, x: h, y: [q, kk, v], step: s, bias: lw.bqkv }),
      ropeQ: ropeQ.bind(device, `L${l}.ropeQ`, { x: q, invFreq, step: s }),
      ropeK: ropeK.bind(device, `L${l}.ropeK`, { x: kk, invFreq, step: s }),
      kvAppend: kvAppend.bind(device, `L${l}.kvAppend`, { k: kk, v, kCache: kCache[l]!, vCache: vCache[l]!, step: s }),
      attention: attention[l]!.bind(device, `L${l}.attention`, { q, kCache: kCache[l]!, vCache: vCache[l]!, out: att, step: s }),
      o: mo.bind(device, `L${l}.o`, { w: lw.wo, x: att, y: x, step: s, bias: lw.bo }),
      mlpNorm: norm.bind(device, `L${l}.mlpNorm`, { x, weight: lw.mlpNorm, out: h }),
      gateUp: mgu.bind(device, `L${l}.gateUp`, { w: lw.wGateUp, x: h, y: [gate, up], step: s, bias: lw.bGateUp }),
      siluMul: siluMul.bind(device, `L${l}.siluMul`, { gate, up, out: act }),
      down: mdown.bind(device, `L${l}.down`, { w: lw.wDown, x: act, y: x, step: s, bias: lw.bDown }),
      ...(decode
        ? {
            // With a separate norm, the fused kernels read h, which the norm dispatch before them wrote.
            qkvRope: decode.qkvRope.bind(device, `L${l}.qkvRope`, {
              w: lw.wqkv, x: separateNorm ? h : x, norm: separateNorm ? undefined : lw.attnNorm, q, kCache: kCache[l]!, vCache: vCache[l]!, invFreq: invFreqUniform!, step: s, bias: lw.bqkv,
            }),
            gateUpSilu: decode.gateUpSilu.bind(device, `L${l}.gateUpSilu`, { w: lw.wGateUp, x: separateNorm ? h : x, norm: separateNorm ? undefined : lw.mlpNorm, out: act, step: s, bias: lw.bGateUp }),
          }
        : {}),
    }));
    const bindings = {
      embed: embed.bind(device, 'embed', { w: w.embed, ids, out: x }),
      layers,
      finalNorm: norm.bind(device, 'finalNorm', { x: lastX, weight: w.finalNorm, out: lastH }),
      lmHead: lmHead.bind(device, 'lmHead', { w: w.lmHead, x: lastH, y: logits, step: s }),
      lmHeadDecode: decode?.lmHead?.bind(device, 'lmHead decode', { w: w.lmHead, x, y: logits, step: s, norm: w.finalNorm }),
      finalNormDecode: norm.bind(device, 'finalNorm decode', { x, weight: w.finalNorm, out: lastH }),
      sampler: sampler.bind(device, 'sampler', { logits, history, ids, step: s }),
      x,
      lastX,
    };
    // Scratch the kernels made while binding is the forward pass's to destroy, like its activations.
    buffers.push(...new Set(attention.flatMap((a) => a.buffers)), bindings.sampler.params, bindings.sampler.work, bindings.sampler.scratch);
    const kernels = { embed, norm, qkv: mqkv, o: mo, gateUp: mgu, down: mdown, lmHead, ropeQ, ropeK, kvAppend, attention, siluMul, sampler, decode };
    return new Forward(c, shape, step, ids, history, logits, buffers, kernels, bindings);
  }

  setSampling(device: GPUDevice, p: Parameters<Sampler['setParams']>[2]): void {
    this.k.sampler.setParams(device, this.b.sampler, p);
  }

  /**
   * Records one pass over `rows` tokens at positions pos..pos+rows-1 (the caller has written the
   * step buffer with the same values and, for a prefill, the ids): logits for the last
   * `logitRows` rows, then, if `sample`, the next token into ids[0] and history[pos+rows].
   */
  encode(enc: GPUCommandEncoder, p: { rows: number; pos: number; logitRows: number; sample: boolean }): void {
    if (p.rows === 1 && this.k.decode) this.encodeDecode(enc, p.pos, p.sample);
    else this.encodeRows(enc, p.rows, p.pos, p.logitRows, p.sample);
  }

  /** A pass over many rows (prefill): every step of a layer is its own kernel. */
  private encodeRows(enc: GPUCommandEncoder, rows: number, pos: number, logitRows: number, sample: boolean): void {
    const { k, b } = this;
    const pass = this.beginPass(enc, `forward rows=${rows}`);
    k.embed.encode(pass, b.embed, rows);
    b.layers.forEach((lb, l) => {
      // Attention block: x += o_proj(attention(rope(q), rope(k), v)) over the normed input.
      k.norm.encode(pass, lb.attnNorm, rows);
      k.qkv.encode(pass, lb.qkv, rows); // q, k, v from one GEMM over the stacked weight
      k.ropeQ.encode(pass, lb.ropeQ, rows);
      k.ropeK.encode(pass, lb.ropeK, rows);
      k.kvAppend.encode(pass, lb.kvAppend, rows);
      k.attention[l]!.encode(pass, lb.attention, rows, pos);
      k.o.encode(pass, lb.o, rows); // x += o_proj(att)
      // MLP block: x += down(silu(gate(h)) * up(h)).
      k.norm.encode(pass, lb.mlpNorm, rows);
      k.gateUp.encode(pass, lb.gateUp, rows); // gate, up from one GEMM
      k.siluMul.encode(pass, lb.siluMul, rows);
      k.down.encode(pass, lb.down, rows); // x += down(act)
    });
    pass.end();
    // Only the last rows get logits: copy them out so the head runs on [logitRows, D].
    const rowBytes = this.config.hiddenSize * 4;
    enc.copyBufferToBuffer(b.x, (rows - logitRows) * rowBytes, b.lastX, 0, logitRows * rowBytes);
    const head = this.beginPass(enc, 'head');
    k.norm.encode(head, b.finalNorm, logitRows);
    k.lmHead.encode(head, b.lmHead, logitRows);
    if (sample) k.sampler.encode(head, b.sampler);
    head.end();
  }

  /**
   * One decode row: six dispatches per layer, with RMSNorm, RoPE, KV append and SiLU fused in (or
   * eight, with RMSNorm on its own, on software adapters).
   */
  private encodeDecode(enc: GPUCommandEncoder, pos: number, sample: boolean): void {
    const { k, b } = this;
    const d = k.decode!;
    const pass = this.beginPass(enc, 'decode');
    k.embed.encode(pass, b.embed, 1);
    b.layers.forEach((lb, l) => {
      if (d.separateNorm) k.norm.encode(pass, lb.attnNorm, 1); // h = norm(x), else fused below
      d.qkvRope.encode(pass, lb.qkvRope!); // q = rope(q(norm(x))); k, v into the cache at pos
      k.attention[l]!.encode(pass, lb.attention, 1, pos);
      k.o.encode(pass, lb.o, 1); // x += o_proj(att)
      if (d.separateNorm) k.norm.encode(pass, lb.mlpNorm, 1);
      d.gateUpSilu.encode(pass, lb.gateUpSilu!); // act = silu(gate(norm(x))) * up(norm(x))
      k.down.encode(pass, lb.down, 1); // x += down(act)
    });
    if (d.lmHead) {
      d.lmHead.encode(pass, b.lmHeadDecode!, 1); // logits = lm_head(norm(x))
    } else {
      k.norm.encode(pass, b.finalNormDecode, 1);
      k.lmHead.encode(pass, b.lmHead, 1);
    }
    if (sample) k.sampler.encode(pass, b.sampler);
    pass.end();
  }

  private beginPass(enc: GPUCommandEncoder, label: string): GPUComputePassEncoder {
    return this.profiler ? this.profiler.beginPass(enc, label) : enc.beginComputePass({ label });
  }

  destroy(): void {
    for (const b of this.buffers) b.destroy();
    this.step.buffer.destroy();
  }
}
