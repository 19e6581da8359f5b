// The session kept across reloads (app/session.ts) on fake-indexeddb: it round-trips, never holds
// an access token or a local folder, and a record it cannot read is ignored rather than trusted.
import 'fake-indexeddb/auto';
import { describe, it, expect } from 'vitest';
import { createStore, set } from 'idb-keyval';
import { loadSession, saveSession, storableModel, SESSION_SCHEMA, type SavedSession } from '../../app/session';

const pane = (text: string, ids: number[]) => ({ status: 'done' as const, text, ids, offsets: ids.map((_, i) => i), times: ids.map((_, i) => 10 * (i + 1)), promptTokens: 20, reusedTokens: 12, droppedTurns: 0, promptText: '<|im_start|>user\nhi', promptPieces: ['<|im_start|>', 'user'], finish: 'length' as const });

const session = (): SavedSession => ({
  schema: SESSION_SCHEMA,
  settings: { prompt: 'draft', chat: true, maxNewTokens: 64, temperature: 0, topK: 0, topP: 1, repetitionPenalty: 1, seed: 7, markdown: false },
  conversation: { model: 'owner/model', formats: ['f16', 'int8'], system: 'Be brief.', turns: [{ user: 'hi', panes: { f16: pane('hello', [5, 6]), int8: pane('hey', [7]) } }] },
  run: { status: 'done', stopping: false, panes: { f32: pane('', []), f16: pane('again', [1]), int8: pane('again', [1]), q4: pane('', []) }, error: null, user: 'more', chat: true },
  lastModel: { ref: { kind: 'hub', repo: 'owner/model', revision: 'main', baseUrl: 'https://huggingface.co' }, engines: ['f16', 'int8'], contextLength: 1024 },
});

// The same database and key the app uses, to write what another version (or a fault) left there.
const raw = (v: unknown) => set('session', v, createStore('webgpu-int8-llm-session', 'session'));

describe('the saved session', () => {
  it('round-trips settings, the conversation, its last turn and the last model', async () => {
    await saveSession(session());
    expect(await loadSession()).toEqual(session());
  });

  it('stores a hub model without its access token, a synthetic preset as it is, and no local folder', () => {
    expect(storableModel({ kind: 'hub', repo: 'o/m', revision: 'v1', baseUrl: 'https://hf.co', token: 'hf_secret' })).toEqual({ kind: 'hub', repo: 'o/m', revision: 'v1', baseUrl: 'https://hf.co' });
    expect(storableModel({ kind: 'synthetic', preset: 'tiny' })).toEqual({ kind: 'synthetic', preset: 'tiny' });
    expect(storableModel({ kind: 'local', name: 'folder', files: [] })).toBeNull();
    expect(storableModel(null)).toBeNull();
  });

  it.each<[string, (s: Record<string, any>) => unknown]>([
    ['another schema', (s) => ({ ...s, schema: SESSION_SCHEMA + 1 })],
    ['not an object', () => 'session'],
    ['a setting that is not a number', (s) => ({ ...s, settings: { ...s.settings, temperature: 'hot' } })],
    ['a turn whose ids are not numbers', (s) => ({ ...s, conversation: { ...s.conversation, turns: [{ user: 'hi', panes: { f16: { ...pane('x', [1]), ids: ['1'] } } }] } })],
    ['a turn for an unknown engine', (s) => ({ ...s, conversation: { ...s.conversation, turns: [{ user: 'hi', panes: { f64: pane('x', [1]) } }] } })],
    ['a run still generating', (s) => ({ ...s, run: { ...s.run, status: 'running' } })],
    ['a raw (not chat) run', (s) => ({ ...s, run: { ...s.run, chat: false } })],
    ['a local folder as the last model', (s) => ({ ...s, lastModel: { ...s.lastModel, ref: { kind: 'local', name: 'x' } } })],
  ])('ignores a record with %s', async (_, edit) => {
    await raw(edit(session() as unknown as Record<string, any>));
    expect(await loadSession()).toBeNull();
    // (a good record reads again)
    await saveSession(session());
    expect(await loadSession()).not.toBeNull();
  });
});
