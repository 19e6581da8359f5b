// The session kept across page reloads (IndexedDB through idb-keyval, a database of its own): the
// settings, the conversation with its last turn, and the last model loaded (offered again, from
// the cache, on the next visit). A record this version cannot read is ignored, never trusted.
import { createStore, get, set, type UseStore } from 'idb-keyval';
import { FORMATS, type Format, type ModelRef } from './protocol';
import type { Conversation, Pane, RunState, Settings } from './store';

export const SESSION_SCHEMA = 1;
const KEY = 'session';

export interface LastModel {
  /** a hub model without its access token (never stored), or a synthetic preset; a local folder cannot be reopened */
  ref: Extract<ModelRef, { kind: 'hub' | 'synthetic' }>;
  engines: Format[];
  contextLength: number;
}

export interface SavedSession {
  schema: typeof SESSION_SCHEMA;
  settings: Settings;
  conversation: Conversation;
  /** the conversation's current turn, when it is a finished chat turn */
  run: RunState | null;
  lastModel: LastModel | null;
}

let store: UseStore | null = null;
const db = () => (store ??= createStore('webgpu-int8-llm-session', 'session'));

export async function saveSession(s: SavedSession): Promise<void> {
  await set(KEY, s, db());
}

/** The stored session, or null when there is none or it is not one this version wrote. */
export async function loadSession(): Promise<SavedSession | null> {
  const v = await get<unknown>(KEY, db());
  return isSession(v) ? v : null;
}

/** What may be stored of a model: never the access token, never a local folder. */
export function storableModel(m: ModelRef | null): LastModel['ref'] | null {
  if (!m || m.kind === 'local') return null;
  return m.kind === 'hub' ? { kind: 'hub', repo: m.repo, revision: m.revision, baseUrl: m.baseUrl } : { kind: 'synthetic', preset: m.preset };
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isFormat = (v: unknown): v is Format => typeof v === 'string' && (FORMATS as readonly string[]).includes(v);
const numbers = (v: unknown) => Array.isArray(v) && v.every((x) => typeof x === 'number');

function isPane(v: unknown): v is Pane {
  return (
    isObj(v) &&
    ['waiting', 'running', 'done', 'stopped'].includes(v.status as string) &&
    typeof v.text === 'string' &&
    numbers(v.ids) &&
    numbers(v.offsets) &&
    numbers(v.times) &&
    typeof v.promptTokens === 'number' &&
    typeof v.reusedTokens === 'number' &&
    typeof v.promptText === 'string' &&
    Array.isArray(v.promptPieces)
  );
}

const isPanes = (v: unknown) => isObj(v) && Object.entries(v).every(([f, p]) => isFormat(f) && isPane(p));

function isSession(v: unknown): v is SavedSession {
  if (!isObj(v) || v.schema !== SESSION_SCHEMA || !isObj(v.settings) || !isObj(v.conversation)) return false;
  const s = v.settings;
  if (typeof s.prompt !== 'string' || typeof s.chat !== 'boolean' || typeof s.markdown !== 'boolean') return false;
  if (!['maxNewTokens', 'temperature', 'topK', 'topP', 'repetitionPenalty', 'seed'].every((k) => typeof s[k] === 'number' && Number.isFinite(s[k]))) return false;
  const c = v.conversation;
  if (typeof c.system !== 'string' || !Array.isArray(c.formats) || !c.formats.every(isFormat) || !(c.model === null || typeof c.model === 'string')) return false;
  if (!Array.isArray(c.turns) || !c.turns.every((t) => isObj(t) && typeof t.user === 'string' && isPanes(t.panes))) return false;
  if (v.run !== null && !(isObj(v.run) && typeof v.run.user === 'string' && v.run.chat === true && ['done', 'stopped'].includes(v.run.status as string) && isPanes(v.run.panes))) return false;
  const m = v.lastModel;
  if (m !== null) {
    if (!isObj(m) || !isObj(m.ref) || !Array.isArray(m.engines) || !m.engines.every(isFormat) || typeof m.contextLength !== 'number') return false;
    const r = m.ref;
    if (!(r.kind === 'hub' && typeof r.repo === 'string' && typeof r.revision === 'string' && typeof r.baseUrl === 'string') && !(r.kind === 'synthetic' && typeof r.preset === 'string')) return false;
  }
  return true;
}
