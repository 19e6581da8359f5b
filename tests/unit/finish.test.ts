// Why a generation ended, as the app's panes and the CLI's JSON report it.
import { describe, it, expect } from 'vitest';
import { finishReason } from '../../src/model/engine';

const at = (promptTokens: number, o: Partial<{ contextLength: number; stopIds: number[]; aborted: boolean }> = {}) => ({
  promptTokens,
  contextLength: o.contextLength ?? 16,
  stopIds: o.stopIds ?? [2],
  aborted: o.aborted ?? false,
});

describe('finishReason', () => {
  it('a stop id as the last token is the end of the text', () => {
    expect(finishReason([5, 6, 2], at(3))).toBe('eos');
    // ...even when it is also the last position the context holds
    expect(finishReason([5, 6, 2], at(13))).toBe('eos');
  });
  it('a stop id earlier in the output (not yielded as a stop: --ignore-eos) does not count', () => {
    expect(finishReason([2, 6, 7], at(3))).toBe('length');
    expect(finishReason([2, 6, 7], at(3, { stopIds: [] }))).toBe('length');
  });
  it('prompt and output filling the context is "context", one short of it is the token budget', () => {
    expect(finishReason([5, 6, 7], at(13))).toBe('context');
    expect(finishReason([5, 6], at(13))).toBe('length');
  });
  it('a cancel wins over everything else', () => {
    expect(finishReason([5, 6, 2], at(13, { aborted: true }))).toBe('stopped');
    expect(finishReason([], at(3, { aborted: true }))).toBe('stopped');
  });
  it('no output, not cancelled: the budget (a zero budget, or a prompt that already fills the context)', () => {
    expect(finishReason([], at(3))).toBe('length');
    expect(finishReason([], at(16))).toBe('context');
  });
});
