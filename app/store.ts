// The app's whole state, and the only place that talks to the engine worker. React components
// read slices of this store and call its actions; they never see the worker or the GPU.
import { create } from 'zustand';
import { DEFAULT_HUB, parseModelInput, validateRepoId, type DownloadProgress } from '../src/hub/hub';
import { WeightCache, type CacheEntryInfo, type CacheKey } from '../src/hub/cache';
import type { FinishReason } from '../src/model/engine';
import { FORMATS, modelName, toWire, type Format, type GenerateRequest, type FromWorker, type LoadedEngine, type LoadedInfo, type ModelRef, type PlanResult, type ToWorker, type WireError } from './protocol';
import { isLargeModel, PRESETS } from './presets';
import { loadSession, saveSession, storableModel, SESSION_SCHEMA, type LastModel } from './session';
import { isPreset, PRESET_NAMES } from '../src/bench/presets';
import { choose, DEFAULT_PAIR, defaultPair, pairFormats, pairParam, pairRefusals, parsePair, type EnginePair, type Role } from './engines';

/** `?model=synthetic:tiny` selects a synthetic preset */
const SYNTHETIC_PREFIX = 'synthetic:';

export class UnknownPresetError extends Error {
  override name = 'UnknownPresetError';
}

function syntheticPreset(name: string): string {
  if (!isPreset(name)) throw new UnknownPresetError(`unknown synthetic model "${name}"; the presets are ${PRESET_NAMES.join(', ')}`);
  return name;
}

export type GpuState =
  | { status: 'starting' }
  | { status: 'ready'; adapter: string; software: boolean; maxBufferBytes: number; features: string[] }
  | { status: 'unavailable'; error: WireError };

export type PlanState = { status: 'idle' } | { status: 'checking' } | { status: 'ready'; plan: PlanResult } | { status: 'error'; error: WireError };

export interface EngineLoad {
  phase: 'waiting' | 'cache' | 'convert' | 'synthetic' | 'compile' | 'warmup' | 'done';
  tensorsDone: number;
  tensorsTotal: number;
  loaded: LoadedEngine | null;
}

export interface LoadState {
  status: 'idle' | 'loading' | 'ready' | 'error';
  download: DownloadProgress | null;
  /** the engines of this load, baseline first (the pair picked when Load was pressed) */
  formats: Format[];
  engines: Record<Format, EngineLoad>;
  info: LoadedInfo | null;
  error: WireError | null;
  /** Cancel was pressed; the worker answers within a second (a compile in flight is left to finish in the background) */
  cancelling: boolean;
}

export interface Pane {
  status: 'waiting' | 'running' | 'done' | 'stopped';
  text: string;
  ids: number[];
  /** where each token's text starts in `text` (final once done) */
  offsets: number[];
  /** ms since the engine's generate() began, per token */
  times: number[];
  promptTokens: number;
  /** prompt tokens whose KV cache the engine kept from the previous turn (only the rest was prefilled) */
  reusedTokens: number;
  /** the oldest turns left out of the prompt to fit the context */
  droppedTurns: number;
  /** the prompt as the model saw it (the templated text) and its tokens one by one */
  promptText: string;
  promptPieces: string[];
  /** why the generation ended, once it has */
  finish: FinishReason | null;
}

/** A finished turn of the conversation: the message and each loaded engine's reply to it. */
export interface Turn {
  user: string;
  panes: Partial<Record<Format, Pane>>;
}

export interface Conversation {
  /** the model and engines it was held with (another model or pair starts a new conversation) */
  model: string | null;
  formats: Format[];
  /** the system prompt; blank: the template's default */
  system: string;
  /** the finished turns before the current one (the current turn is `run`) */
  turns: Turn[];
}

export interface RunState {
  status: 'idle' | 'running' | 'done' | 'stopped' | 'error';
  stopping: boolean;
  panes: Record<Format, Pane>;
  error: WireError | null;
  /** the message this run answers, and whether it is a chat turn (part of the conversation) */
  user: string;
  chat: boolean;
}

export interface Settings {
  prompt: string;
  chat: boolean;
  maxNewTokens: number;
  temperature: number;
  topK: number;
  topP: number;
  repetitionPenalty: number;
  seed: number;
  /** chat replies rendered as Markdown (else as plain text) */
  markdown: boolean;
}

export interface CacheState {
  entries: CacheEntryInfo[];
  estimate: { usage: number; quota: number } | null;
  persisted: boolean | null;
  error: string | null;
}

export interface AppState {
  gpu: GpuState;
  deviceLost: string | null;
  hubUrl: string;
  revision: string;
  /** a Hugging Face access token for gated models: in memory only, never stored or put in the URL */
  hubToken: string;
  model: ModelRef | null;
  contextLength: number;
  /** the engines to compare, or the candidate alone (the next load builds these); the loaded ones are load.formats */
  pair: EnginePair;
  /** the pair came from the user (a pick, or `?engines=`); until then each model starts with defaultPair's (Q4 alone for a large preset) */
  pairChosen: boolean;
  plan: PlanState;
  load: LoadState;
  settings: Settings;
  run: RunState;
  conversation: Conversation;
  /** the model of the last session, offered to load again from the cache (null once loaded or dismissed) */
  resume: LastModel | null;
  /** the last model loaded (kept with the session) */
  lastModel: LastModel | null;
  cache: CacheState;
  // actions
  init(): void;
  selectHub(repo: string): void;
  selectLocal(files: File[]): void;
  setHubToken(token: string): void;
  /** a synthetic preset (src/bench/synthetic.ts): random weights, speed only */
  selectSynthetic(preset: string): void;
  setContextLength(n: number): void;
  /** picks one role's engine (the baseline may be null: the candidate alone); the other role's format swaps in (the two always differ) */
  setPair(role: Role, format: Format | null): void;
  loadModel(): void;
  cancelLoad(): void;
  setSettings(s: Partial<Settings>): void;
  compare(): void;
  stop(): void;
  /** the current chat turn again, each engine from its own conversation so far */
  regenerate(): void;
  /** puts turn `index`'s message back in the prompt box and removes it and everything after (turns.length: the current turn) */
  editTurn(index: number): void;
  clearConversation(): void;
  setSystemPrompt(text: string): void;
  /** loads the last session's model (from the cache), or forgets the offer */
  resumeModel(load: boolean): void;
  reloadEngines(): void;
  refreshCache(): Promise<void>;
  deleteCacheEntry(key: CacheKey): Promise<void>;
  requestPersist(): Promise<void>;
}

export const CONTEXT_CHOICES = [512, 1024, 2048, 4096];

/**
 * The context lengths to offer for a model that takes at most `max` tokens (unknown until its
 * config.json is read: all of them): the standard ones up to it, and the maximum itself when it
 * falls between them (GPT-2's 1024 is one; a 300-token model gets 300 alone).
 */
export function contextChoices(max: number | null): number[] {
  if (max === null) return CONTEXT_CHOICES;
  const fit = CONTEXT_CHOICES.filter((c) => c <= max);
  return fit.includes(max) || max > CONTEXT_CHOICES[CONTEXT_CHOICES.length - 1]! ? fit : [...fit, max];
}

/** One value per format (every format has a slot; only the loaded pair's are used). */
const perFormat = <T>(make: (f: Format) => T): Record<Format, T> => Object.fromEntries(FORMATS.map((f) => [f, make(f)])) as Record<Format, T>;
const emptyEngineLoad = (): EngineLoad => ({ phase: 'waiting', tensorsDone: 0, tensorsTotal: 0, loaded: null });
const emptyLoad = (formats: Format[] = []): LoadState => ({ status: 'idle', download: null, formats, engines: perFormat(emptyEngineLoad), info: null, error: null, cancelling: false });
const emptyPane = (): Pane => ({ status: 'waiting', text: '', ids: [], offsets: [], times: [], promptTokens: 0, reusedTokens: 0, droppedTurns: 0, promptText: '', promptPieces: [], finish: null });
const endPane = (p: Pane): Pane => (p.status === 'running' ? { ...p, status: 'stopped' } : p);
const endPanes = (panes: Record<Format, Pane>) => perFormat((f) => endPane(panes[f]));
const emptyRun = (): RunState => ({ status: 'idle', stopping: false, panes: perFormat(emptyPane), error: null, user: '', chat: false });
/** A chat run that ended (done, or stopped with what it produced) is a turn of the conversation. */
const isTurn = (r: RunState) => r.chat && (r.status === 'done' || r.status === 'stopped');
const turnOf = (r: RunState, formats: readonly Format[]): Turn => ({ user: r.user, panes: Object.fromEntries(formats.map((f) => [f, r.panes[f]])) });

const params = new URLSearchParams(typeof location === 'undefined' ? '' : location.search);
const urlPair = parsePair(params.get('engines'));
let worker: Worker | null = null;
/** resumeModel asked for a load before the model's plan was ready: load once it is */
let pendingLoad = false;
/** the stored session has been read (until then nothing is saved over it) */
let sessionRestored = false;
let planSeq = 0;

function send(m: ToWorker): void {
  worker?.postMessage(m);
}

/** Other stores (the benchmark view) send through the same worker and hear every message. */
const listeners = new Set<(m: FromWorker) => void>();
export const sendToWorker = send;
export function onWorkerMessage(fn: (m: FromWorker) => void): () => void {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

export const useApp = create<AppState>()((set, get) => {
  const patchLoad = (p: Partial<LoadState>) => set((s) => ({ load: { ...s.load, ...p } }));
  const patchEngine = (f: Format, p: Partial<EngineLoad>) => set((s) => ({ load: { ...s.load, engines: { ...s.load.engines, [f]: { ...s.load.engines[f], ...p } } } }));
  const patchPane = (f: Format, p: (pane: Pane) => Partial<Pane>) => set((s) => ({ run: { ...s.run, panes: { ...s.run.panes, [f]: { ...s.run.panes[f], ...p(s.run.panes[f]) } } } }));

  const plan = () => {
    const { model, contextLength } = get();
    if (!model || get().gpu.status !== 'ready') return;
    const requestId = ++planSeq;
    set({ plan: { status: 'checking' } });
    send({ type: 'plan', requestId, model, contextLength });
  };

  const onMessage = (m: FromWorker) => {
    switch (m.type) {
      case 'gpu':
        set({ gpu: { status: 'ready', adapter: m.adapter, software: m.software, maxBufferBytes: m.maxBufferBytes, features: m.features } });
        if (get().plan.status === 'idle') plan();
        return;
      case 'gpu-unavailable':
        set({ gpu: { status: 'unavailable', error: m.error } });
        return;
      case 'plan':
        if (m.requestId !== planSeq) return;
        set({ plan: { status: 'ready', plan: m.plan } });
        if (pendingLoad) {
          pendingLoad = false;
          get().loadModel();
        }
        return;
      case 'plan-error':
        if (m.requestId !== planSeq) return;
        pendingLoad = false;
        set({ plan: { status: 'error', error: m.error } });
        return;
      case 'download':
        patchLoad({ download: m.progress });
        return;
      case 'load-progress':
        patchEngine(m.format, { phase: m.phase, tensorsDone: m.tensorsDone, tensorsTotal: m.tensorsTotal });
        return;
      case 'engine-loaded':
        patchEngine(m.engine.format, { phase: 'done', loaded: m.engine });
        return;
      case 'loaded': {
        patchLoad({ status: 'ready', info: m.info });
        const chat = m.info.hasChatTemplate ? get().settings.chat : false;
        const formats = m.info.engines.map((e) => e.format);
        const c = get().conversation;
        // The same model and engines (a reload of the page, a rebuild after a lost device) carry on
        // with the conversation and its last turn; anything else starts a new one.
        const same = c.model === m.info.name && c.formats.join() === formats.join();
        set((s) => ({
          settings: { ...s.settings, chat },
          run: same && isTurn(s.run) ? s.run : emptyRun(),
          conversation: same ? c : { model: m.info.name, formats, system: c.system, turns: [] },
          resume: null,
        }));
        const ref = storableModel(get().model);
        set({ lastModel: ref ? { ref, engines: formats, contextLength: m.info.engines[0]!.contextLength } : null });
        void get().refreshCache();
        plan(); // the "cached" badges changed
        return;
      }
      case 'load-error':
        patchLoad({ status: 'error', error: m.error, cancelling: false });
        void get().refreshCache();
        return;
      case 'gen-start':
        patchPane(m.format, () => ({ ...emptyPane(), status: 'running', promptTokens: m.promptTokens, reusedTokens: m.reusedTokens, droppedTurns: m.droppedTurns, promptText: m.promptText, promptPieces: m.promptPieces }));
        return;
      case 'token':
        patchPane(m.format, (p) => ({ text: p.text + m.delta, ids: [...p.ids, m.id], offsets: [...p.offsets, p.text.length], times: [...p.times, m.timeMs] }));
        return;
      case 'gen-end':
        patchPane(m.format, () => ({ status: m.stopped ? 'stopped' : 'done', text: m.text, ids: m.ids, offsets: m.offsets, finish: m.finish }));
        return;
      case 'run-end':
        set((s) => ({ run: { ...s.run, status: m.stopped ? 'stopped' : 'done', stopping: false } }));
        return;
      case 'run-error':
        // A refused chat message goes back to the prompt box (it was cleared when sent): nothing is lost.
        if (get().run.chat && get().settings.prompt === '') set((s) => ({ settings: { ...s.settings, prompt: s.run.user } }));
        // A pane still marked as generating would spin forever: it stopped where the error hit.
        set((s) => ({
          run: {
            ...s.run,
            status: 'error',
            stopping: false,
            error: m.error,
            panes: endPanes(s.run.panes),
          },
        }));
        return;
      case 'device-lost':
        set((s) => ({ deviceLost: m.message, load: { ...s.load, status: s.load.status === 'idle' ? 'idle' : 'error', error: s.load.status === 'loading' ? { name: 'DeviceLost', message: 'the GPU device was lost while loading' } : s.load.error }, run: s.run.status === 'running' ? { ...s.run, status: 'error', stopping: false, error: { name: 'DeviceLostError', message: 'the GPU device was lost during generation' }, panes: endPanes(s.run.panes) } : s.run }));
        return;
    }
  };

  /** The choices worth a bookmark live in the address: the model (not a local folder) and the pair. */
  const setParam = (name: string, value: string) => {
    if (typeof history === 'undefined') return;
    const u = new URL(location.href);
    u.searchParams.set(name, value);
    history.replaceState(null, '', u);
  };

  /** The model's own default pair, unless the user has chosen one (that is not written to the address). */
  const pairFor = (model: ModelRef): Partial<AppState> => (get().pairChosen ? {} : { pair: defaultPair(isLargeModel(model)) });

  /** The request for one message: in chat, with the conversation before it (each engine's own replies). */
  const request = (prompt: string, chat: boolean): GenerateRequest => {
    const s = get().settings;
    const c = get().conversation;
    return {
      prompt,
      chat,
      maxNewTokens: s.maxNewTokens,
      sampling: { temperature: s.temperature, topK: s.topK, topP: s.topP, repetitionPenalty: s.repetitionPenalty, seed: s.seed },
      // (a template that takes no system message gets none, whatever the box held for another model)
      ...(chat ? { conversation: { system: c.system.trim() === '' || get().load.info?.systemPrompt.supported === false ? null : c.system, turns: c.turns.map((t) => ({ user: t.user, replies: Object.fromEntries(Object.entries(t.panes).map(([f, p]) => [f, p!.text])) })) } } : {}),
    };
  };

  /**
   * The last session back: settings, the conversation and its last turn, and the offer to load the
   * last model again (selected now unless the address names another one). Saving starts after
   * this, so a fresh page never overwrites what it has not read yet.
   */
  const restoreSession = async () => {
    try {
      const saved = typeof indexedDB === 'undefined' ? null : await loadSession();
      if (saved) {
        set((st) => ({
          settings: { ...saved.settings, prompt: st.settings.prompt || saved.settings.prompt },
          conversation: saved.conversation,
          run: st.run.status === 'idle' && saved.run ? { ...saved.run, stopping: false, error: null } : st.run,
          lastModel: saved.lastModel,
        }));
        const last = saved.lastModel;
        const urlModel = params.get('model');
        if (last && get().load.status === 'idle' && (urlModel === null || urlModel === modelName(last.ref))) {
          set({ resume: last });
          if (urlModel === null) setModel(last.ref);
        }
      }
    } catch (e) {
      console.warn('the saved session could not be read:', e);
    }
    sessionRestored = true;
  };

  const setModel = (model: ModelRef) => {
    if (get().load.status === 'loading') return;
    set({ model, plan: { status: 'idle' }, ...pairFor(model) });
    if (model.kind !== 'local') setParam('model', model.kind === 'hub' ? model.repo : `${SYNTHETIC_PREFIX}${model.preset}`);
    plan();
  };

  return {
    gpu: { status: 'starting' },
    deviceLost: null,
    hubUrl: params.get('hub') ?? DEFAULT_HUB,
    revision: params.get('revision') ?? 'main',
    hubToken: '',
    model: null,
    contextLength: 2048,
    // An address without `engines` (or with a bad one) gets the model's default (init sets it).
    pair: urlPair ?? DEFAULT_PAIR,
    pairChosen: urlPair !== null,
    plan: { status: 'idle' },
    load: emptyLoad(),
    settings: { prompt: '', chat: true, maxNewTokens: 128, temperature: 0, topK: 0, topP: 1, repetitionPenalty: 1, seed: 0, markdown: true },
    run: emptyRun(),
    conversation: { model: null, formats: [], system: '', turns: [] },
    resume: null,
    lastModel: null,
    cache: { entries: [], estimate: null, persisted: null, error: null },

    init() {
      if (worker) return;
      void get().refreshCache();
      const initial = params.get('model') ?? PRESETS[0]!.repo;
      try {
        const model: ModelRef = initial.startsWith(SYNTHETIC_PREFIX)
          ? { kind: 'synthetic', preset: syntheticPreset(initial.slice(SYNTHETIC_PREFIX.length)) }
          : { kind: 'hub', repo: validateRepoId(initial), revision: get().revision, baseUrl: get().hubUrl };
        set({ model, ...pairFor(model) });
      } catch (e) {
        set({ plan: { status: 'error', error: toWire(e) } });
      }
      if (!('gpu' in navigator)) {
        set({ gpu: { status: 'unavailable', error: { name: 'WebGPUUnavailableError', message: 'This browser does not expose WebGPU (navigator.gpu is missing).' } } });
        return;
      }
      worker = new Worker(new URL('./worker.ts', import.meta.url), { type: 'module' });
      worker.onmessage = (ev: MessageEvent<FromWorker>) => {
        onMessage(ev.data);
        for (const l of listeners) l(ev.data);
      };
      worker.onerror = (ev) => set({ gpu: { status: 'unavailable', error: { name: 'WorkerError', message: `the engine worker failed to start: ${ev.message || 'unknown error'}` } } });
      send({ type: 'init' });
      void restoreSession();
      if (params.has('debug')) (globalThis as Record<string, unknown>).__int8llm = { loseDevice: () => send({ type: 'lose-device' }), store: useApp };
    },

    selectHub(input) {
      const { hubUrl, revision, hubToken } = get();
      // An id, or a pasted hub address (which may name a revision).
      const ref = parseModelInput(input);
      setModel({ kind: 'hub', repo: ref.repo, revision: ref.revision ?? revision, baseUrl: hubUrl, ...(hubToken ? { token: hubToken } : {}) });
    },

    setHubToken(token) {
      const t = token.trim();
      set({ hubToken: t });
      // Ask again with the token (a gated model's plan failed without one).
      const m = get().model;
      if (m?.kind === 'hub') setModel({ kind: 'hub', repo: m.repo, revision: m.revision, baseUrl: m.baseUrl, ...(t ? { token: t } : {}) });
    },

    selectLocal(files) {
      if (files.length === 0) return;
      const name = (files[0]!.webkitRelativePath || files[0]!.name).split('/')[0] || 'local model';
      setModel({ kind: 'local', name, files });
    },

    selectSynthetic(preset) {
      setModel({ kind: 'synthetic', preset: syntheticPreset(preset) });
    },

    setContextLength(n) {
      set({ contextLength: n });
      plan();
    },

    setPair(role, format) {
      if (get().load.status === 'loading') return;
      const pair = choose(get().pair, role, format);
      set({ pair, pairChosen: true });
      setParam('engines', pairParam(pair));
    },

    loadModel() {
      const { model, contextLength, plan: p, run, pair } = get();
      if (!model || p.status !== 'ready' || pairRefusals(p.plan.engines, pair).length) return;
      // Mid-generation the worker stops the run first: it stays on screen, ending as "stopped",
      // until the new model is loaded.
      const running = run.status === 'running';
      const engines = pairFormats(pair);
      // A finished chat turn stays on screen: the same model carries on with its conversation.
      set({ load: { ...emptyLoad(engines), status: 'loading' }, run: running ? { ...run, stopping: true } : isTurn(run) ? run : emptyRun(), deviceLost: null, resume: null });
      send({ type: 'load', model, contextLength, engines });
    },

    cancelLoad() {
      if (get().load.status !== 'loading') return;
      patchLoad({ cancelling: true });
      send({ type: 'cancel-load' });
    },

    setSettings(s) {
      set((st) => ({ settings: { ...st.settings, ...s } }));
    },

    compare() {
      const { settings: s, load, run } = get();
      // A blank prompt is no question (Compare is disabled; Ctrl+Enter lands here too).
      if (load.status !== 'ready' || run.status === 'running' || s.prompt.trim() === '') return;
      const chat = s.chat && (load.info?.hasChatTemplate ?? false);
      if (!chat) {
        set({ run: { ...emptyRun(), status: 'running', user: s.prompt } });
        send({ type: 'generate', request: request(s.prompt, false) });
        return;
      }
      // The turn on screen joins the conversation; the message leaves the prompt box.
      const c = get().conversation;
      const turns = isTurn(run) ? [...c.turns, turnOf(run, load.formats)] : c.turns;
      set({ conversation: { ...c, turns }, run: { ...emptyRun(), status: 'running', user: s.prompt, chat: true }, settings: { ...s, prompt: '' } });
      send({ type: 'generate', request: request(s.prompt, true) });
    },

    regenerate() {
      const { run, load } = get();
      if (load.status !== 'ready' || !isTurn(run)) return;
      set({ run: { ...emptyRun(), status: 'running', user: run.user, chat: true } });
      send({ type: 'generate', request: request(run.user, true) });
    },

    editTurn(index) {
      const { run, conversation: c } = get();
      if (run.status === 'running' || index < 0 || index > c.turns.length) return;
      const user = index === c.turns.length ? run.user : c.turns[index]!.user;
      set((st) => ({ conversation: { ...c, turns: c.turns.slice(0, index) }, run: emptyRun(), settings: { ...st.settings, prompt: user } }));
    },

    clearConversation() {
      if (get().run.status === 'running') return;
      set((st) => ({ conversation: { ...st.conversation, turns: [] }, run: emptyRun() }));
    },

    setSystemPrompt(text) {
      set((st) => ({ conversation: { ...st.conversation, system: text } }));
    },

    resumeModel(load) {
      const last = get().resume;
      set({ resume: null });
      if (!load || !last) return;
      const [baseline, candidate] = last.engines.length === 1 ? [null, last.engines[0]!] : [last.engines[0]!, last.engines[1]!];
      set({ pair: { baseline, candidate }, pairChosen: true, contextLength: last.contextLength });
      if (get().model === null || modelName(get().model!) !== modelName(last.ref)) setModel(last.ref);
      else plan();
      pendingLoad = true;
      if (get().plan.status === 'ready') {
        pendingLoad = false;
        get().loadModel();
      }
    },

    stop() {
      if (get().run.status !== 'running') return;
      set((s) => ({ run: { ...s.run, stopping: true } }));
      send({ type: 'stop' });
    },

    reloadEngines() {
      set({ deviceLost: null });
      plan();
      const { model, contextLength, load, pair } = get();
      if (!model) return;
      // The engines that were lost, rebuilt as they were.
      const engines = load.formats.length ? load.formats : pairFormats(pair);
      set((s) => ({ load: { ...emptyLoad(engines), status: 'loading' }, run: isTurn(s.run) ? s.run : emptyRun() }));
      send({ type: 'load', model, contextLength, engines });
    },

    async refreshCache() {
      try {
        const cache = new WeightCache();
        const [entries, estimate, persisted] = await Promise.all([cache.list(), WeightCache.estimate(), navigator.storage?.persisted?.() ?? Promise.resolve(null)]);
        set({ cache: { entries, estimate, persisted, error: null } });
      } catch (e) {
        set((s) => ({ cache: { ...s.cache, error: toWire(e).message } }));
      }
    },

    async deleteCacheEntry(key) {
      await new WeightCache().delete(key);
      await get().refreshCache();
      plan();
    },

    async requestPersist() {
      const ok = await WeightCache.persist();
      set((s) => ({ cache: { ...s.cache, persisted: ok } }));
    },
  };
});

// The session is saved half a second after what it holds last changed (never mid-generation: the
// finished turn is saved once it ends).
let saveTimer: ReturnType<typeof setTimeout> | null = null;
useApp.subscribe((st, prev) => {
  if (!sessionRestored || typeof indexedDB === 'undefined' || st.run.status === 'running') return;
  if (st.settings === prev.settings && st.conversation === prev.conversation && st.run === prev.run && st.lastModel === prev.lastModel) return;
  if (saveTimer) clearTimeout(saveTimer);
  saveTimer = setTimeout(() => {
    const s = useApp.getState();
    saveSession({ schema: SESSION_SCHEMA, settings: s.settings, conversation: s.conversation, run: isTurn(s.run) ? s.run : null, lastModel: s.lastModel }).catch((e: unknown) => console.warn('the session could not be saved:', e));
  }, 500);
});

/** Derived numbers for one pane: live while streaming, final once done. */
export function paneStats(p: Pane): { tokens: number; ttftMs: number | null; tokensPerSecond: number | null } {
  const n = p.times.length;
  const ttftMs = n > 0 ? p.times[0]! : null;
  // Decode speed excludes the first token, whose time is the prefill.
  const tokensPerSecond = n > 1 ? ((n - 1) * 1000) / (p.times[n - 1]! - p.times[0]!) : null;
  return { tokens: n, ttftMs, tokensPerSecond };
}

export { FORMATS };
