// Messages between the UI (store.ts) and the engine worker (worker.ts). Every message is a member
// of one of two discriminated unions, so both sides switch on `type` with exhaustive checking.
import type { KvFormat } from '../src/kernels/kv_cache';
import type { SamplingParams } from '../src/model/sampling';
import type { FinishReason } from '../src/model/engine';
import type { DownloadProgress } from '../src/hub/hub';
import type { SuiteProgress } from '../src/bench/suite';
import type { SuiteReport, SuiteSettings } from '../src/bench/suite_report';
import type { BatchBenchReport } from '../src/bench/batch_bench';
import { FORMAT_NAMES, type WeightFormat } from '../src/kernels/formats';

/** An engine is named by its weight format (the registry's: f32, f16, int8, q4). */
export type Format = WeightFormat;
/** Every format the app can build, in the registry's order (widest first). */
export const FORMATS: readonly Format[] = FORMAT_NAMES;

export type ModelRef =
  /** token: a Hugging Face access token for gated or private repos (kept in memory only) */
  | { kind: 'hub'; repo: string; revision: string; baseUrl: string; token?: string }
  /** a folder the user picked; File objects are structured-cloneable, so they cross as they are */
  | { kind: 'local'; name: string; files: File[] }
  /** a preset of src/bench/synthetic.ts: a real model's shapes, random weights made on the GPU (speed only) */
  | { kind: 'synthetic'; preset: string };

/** An error as it crosses the worker boundary (Error objects lose their class there). */
export interface WireError {
  name: string;
  message: string;
}

export interface EnginePlan {
  format: Format;
  weightBytes: number;
  kvBytes: number;
  /** the KV cache's storage this engine is built with (f16 but for f32 weights) */
  kvCache: KvFormat;
  activationBytes: number;
  totalBytes: number;
  /** the cache already holds this engine's weights */
  cached: boolean;
  /** why this adapter cannot hold this engine (a buffer too large, too many bindings), or null */
  refusal: string | null;
}

/** How the app names a model: its hub id, its folder's name, or "synthetic:<preset>" (the worker's plan and load use it too). */
export function modelName(model: ModelRef): string {
  return model.kind === 'hub' ? model.repo : model.kind === 'local' ? model.name : `synthetic:${model.preset}`;
}

export interface PlanResult {
  name: string;
  modelType: string;
  params: number;
  layers: number;
  /** the context the engines will be built with (the request, capped by the model) */
  contextLength: number;
  /** the longest context the model takes (config.json's max_position_embeddings) */
  maxContextLength: number;
  /** every format's plan, in the registry's order; each says whether this adapter accepts it */
  engines: EnginePlan[];
  /** largest single buffer of any format's plan, and what this adapter allows per buffer */
  largestBuffer: { label: string; bytes: number };
  maxBufferBytes: number;
  /** random weights: nothing to download, output meaningless */
  synthetic: boolean;
}

export interface LoadedEngine {
  format: Format;
  weightBytes: number;
  kvBytes: number;
  kvCache: KvFormat;
  contextLength: number;
  fromCache: boolean;
  loadMs: number;
  /** the short generation run right after the load, so that no timed run is the first */
  warmupMs: number;
}

export interface LoadedInfo {
  name: string;
  /** in load and run order: the baseline first, then the candidate (or the one engine loaded alone) */
  engines: LoadedEngine[];
  hasChatTemplate: boolean;
  /** whether the chat template takes a system message, and the one it writes when given none */
  systemPrompt: { supported: boolean; defaultPrompt: string | null };
  /** random weights and no tokenizer: prompts and outputs are token ids, the text means nothing */
  synthetic: boolean;
  /** why the weights were not cached (e.g. storage quota), or null */
  cacheWarning: string | null;
}

/** A finished turn of a conversation: the user's message and each engine's own reply. */
export interface ConversationTurn {
  user: string;
  replies: Partial<Record<Format, string>>;
}

export interface GenerateRequest {
  prompt: string;
  chat: boolean;
  sampling: SamplingParams;
  maxNewTokens: number;
  /**
   * Chat only: the system prompt (null or blank: the template's default) and the earlier turns;
   * each engine continues its own conversation (its own replies) and keeps its KV cache of it.
   */
  conversation?: { system: string | null; turns: ConversationTurn[] };
}

export interface BenchRequest {
  settings: SuiteSettings;
  /** the evaluation text of settings.eval { text: 'custom' } (pasted or read from a file) */
  evalText?: string;
  /** where the Alpaca set is fetched from (the app's hub: huggingface.co, a mirror, the tests' server) */
  hubUrl: string;
}

/** A batch-size sweep over the loaded engines (bench --batch in the app). */
export interface SweepRequest {
  batches: number[];
  promptTokens: number;
  newTokens: number;
  runs: number;
}

export type ToWorker =
  | { type: 'init' }
  | { type: 'plan'; requestId: number; model: ModelRef; contextLength: number }
  /** engines: the formats to build, baseline first (any other engine loaded before is destroyed) */
  | { type: 'load'; model: ModelRef; contextLength: number; engines: Format[] }
  | { type: 'cancel-load' }
  | { type: 'generate'; request: GenerateRequest }
  | { type: 'stop' }
  | { type: 'bench-start'; request: BenchRequest }
  | { type: 'bench-cancel' }
  | { type: 'sweep-start'; request: SweepRequest }
  /** development aid (?debug): destroys the device to exercise the device-lost path */
  | { type: 'lose-device' };

export type FromWorker =
  /** software: a CPU implementation of WebGPU (SwiftShader, llvmpipe): its speeds are not a GPU's */
  | { type: 'gpu'; adapter: string; software: boolean; maxBufferBytes: number; features: string[] }
  | { type: 'gpu-unavailable'; error: WireError }
  | { type: 'plan'; requestId: number; plan: PlanResult }
  | { type: 'plan-error'; requestId: number; error: WireError }
  | { type: 'download'; progress: DownloadProgress }
  | { type: 'load-progress'; format: Format; phase: 'cache' | 'convert' | 'synthetic' | 'compile' | 'warmup'; tensorsDone: number; tensorsTotal: number }
  | { type: 'engine-loaded'; engine: LoadedEngine }
  | { type: 'loaded'; info: LoadedInfo }
  | { type: 'load-error'; error: WireError }
  /**
   * promptTokens: the whole prompt; reusedTokens: those whose KV cache was kept from the previous
   * turn (the rest is prefilled); droppedTurns: the oldest turns left out to fit the context;
   * promptText: the prompt as the model sees it (the templated text), promptPieces: its tokens
   * one by one (each id decoded alone, special tokens kept).
   */
  | { type: 'gen-start'; format: Format; promptTokens: number; reusedTokens: number; droppedTurns: number; promptText: string; promptPieces: string[] }
  | { type: 'token'; format: Format; index: number; id: number; delta: string; timeMs: number }
  /**
   * offsets[i] is where token i's text starts in `text` (for highlighting a divergence);
   * stopped: cancelled by the user rather than finished; finish: why it ended (end of text, the
   * token budget, a full context, the user).
   */
  | { type: 'gen-end'; format: Format; ids: number[]; text: string; offsets: number[]; stopped: boolean; finish: FinishReason }
  | { type: 'run-end'; stopped: boolean }
  | { type: 'run-error'; error: WireError }
  | { type: 'device-lost'; message: string }
  /** the prompt set is being fetched (Alpaca from the hub) */
  | { type: 'bench-fetching'; source: string }
  | { type: 'bench-progress'; progress: SuiteProgress }
  | { type: 'bench-done'; report: SuiteReport }
  | { type: 'bench-error'; error: WireError; cancelled: boolean }
  | { type: 'sweep-progress'; line: string }
  | { type: 'sweep-done'; report: BatchBenchReport }
  | { type: 'sweep-error'; error: WireError; cancelled: boolean };

export function toWire(e: unknown): WireError {
  if (e instanceof Error) return { name: e.name, message: e.message };
  return { name: 'Error', message: String(e) };
}
