// Conversations through the presets' real chat templates: the messages, the template's default
// system prompt, and the context policy (drop the oldest turns, never the system prompt or the
// new message; refuse when the new message alone does not fit).
import { describe, it, expect } from 'vitest';
import path from 'node:path';
import { readFileSync } from 'node:fs';
import { chatMessages, conversationPrompt, replyReserve, templateSystemPrompt, type ChatTurn } from '../../src/model/chat';
import { ContextOverflowError } from '../../src/model/engine';
import { TextTokenizer } from '../../src/model/tokenizer';
import { modelDir, presetTokenizer } from './fixtures';

const DATE = { dateString: '01 Dec 2026' };
const turns: ChatTurn[] = [
  { user: 'What is a list?', assistant: 'An ordered, mutable sequence.' },
  { user: 'And a tuple?', assistant: 'An ordered, immutable sequence.' },
];

describe('chat messages', () => {
  it('puts the system prompt first (a blank one is left to the template), then the turns, then the new message', () => {
    expect(chatMessages('Be brief.', turns, 'A set?').map((m) => `${m.role}:${m.content}`)).toEqual([
      'system:Be brief.',
      'user:What is a list?',
      'assistant:An ordered, mutable sequence.',
      'user:And a tuple?',
      'assistant:An ordered, immutable sequence.',
      'user:A set?',
    ]);
    expect(chatMessages('  ', [], 'hi')).toEqual([{ role: 'user', content: 'hi' }]);
    expect(chatMessages(null, [], 'hi')).toEqual([{ role: 'user', content: 'hi' }]);
  });

  it('reserves the reply budget, at most half the context and at least one token', () => {
    expect(replyReserve(64, 2048)).toBe(64);
    expect(replyReserve(4000, 2048)).toBe(1024);
    expect(replyReserve(0, 2048)).toBe(1);
  });
});

describe("the template's default system prompt", () => {
  it.each([
    ['SmolLM2-135M-Instruct', 'You are a helpful AI assistant named SmolLM, trained by Hugging Face'],
    ['Qwen2.5-0.5B-Instruct', 'You are Qwen, created by Alibaba Cloud. You are a helpful assistant.'],
    ['TinyLlama-1.1B-Chat-v1.0', null],
    ['Llama-3.2-1B-Instruct', null],
  ])('%s: %s', (name, want) => {
    const tok = presetTokenizer(name);
    const got = templateSystemPrompt(tok, DATE);
    expect(got).toEqual({ supported: true, defaultPrompt: want });
    // What it found is what the template writes: a conversation with it as its system prompt renders the same text.
    if (want) expect(tok.renderChatTemplate(chatMessages(want, [], 'x'), DATE)).toBe(tok.renderChatTemplate(chatMessages(null, [], 'x'), DATE));
  });

  it('pycode-20M (the SmolLM2 tokenizer with its own template)', () => {
    const dir = modelDir('pycode-20M');
    const tok = new TextTokenizer(readFileSync(path.join(dir, 'tokenizer.json'), 'utf8'), readFileSync(path.join(dir, 'tokenizer_config.json'), 'utf8'));
    expect(templateSystemPrompt(tok).defaultPrompt).toBe('You are a helpful Python assistant.');
  });

  it('a template that refuses a system message says so', () => {
    const tok = presetTokenizer('SmolLM2-135M-Instruct', (cfg) => {
      cfg.chat_template = "{% for m in messages %}{% if m['role'] == 'system' %}{{ raise_exception('System role not supported') }}{% endif %}{{ m['content'] }}{% endfor %}";
    });
    expect(templateSystemPrompt(tok)).toEqual({ supported: false, defaultPrompt: null });
  });
});

describe('conversation prompt and the context policy', () => {
  const tok = presetTokenizer('SmolLM2-135M-Instruct');
  const c = { system: 'Be brief.', turns, user: 'A set?' };

  it('renders every turn when it fits, and the ids are the templated text tokenized without extra specials', () => {
    const p = conversationPrompt(tok, c, { contextLength: 2048, maxNewTokens: 64 });
    expect(p.droppedTurns).toBe(0);
    expect(p.text).toBe(tok.renderChatTemplate(chatMessages('Be brief.', turns, 'A set?')));
    expect(p.ids).toEqual(tok.encode(p.text, false));
    // The previous turn's prompt and reply are a prefix of the next one's (what the KV cache reuses).
    const before = conversationPrompt(tok, { system: 'Be brief.', turns: turns.slice(0, 1), user: 'And a tuple?' }, { contextLength: 2048, maxNewTokens: 64 });
    const reply = tok.encode(turns[1]!.assistant, false);
    expect(p.ids.slice(0, before.ids.length + reply.length)).toEqual([...before.ids, ...reply]);
  });

  it('drops the oldest turns (keeping the system prompt and the new message) when the reply would not fit', () => {
    const all = conversationPrompt(tok, c, { contextLength: 2048, maxNewTokens: 64 }).ids.length;
    const withoutFirst = conversationPrompt(tok, { ...c, turns: turns.slice(1) }, { contextLength: 2048, maxNewTokens: 64 }).ids.length;
    // A context where everything but the reserve is one token short: the first turn goes.
    const p = conversationPrompt(tok, c, { contextLength: all + 15, maxNewTokens: 16 });
    expect(p.droppedTurns).toBe(1);
    expect(p.ids.length).toBe(withoutFirst);
    expect(p.text).toContain('Be brief.');
    expect(p.text).toContain('A set?');
    expect(p.text).not.toContain('What is a list?');
    expect(conversationPrompt(tok, c, { contextLength: all + 16, maxNewTokens: 16 }).droppedTurns).toBe(0);
  });

  it('refuses a message that does not fit even alone, with the numbers', () => {
    const alone = conversationPrompt(tok, { ...c, turns: [] }, { contextLength: 2048, maxNewTokens: 8 }).ids.length;
    expect(() => conversationPrompt(tok, c, { contextLength: alone + 7, maxNewTokens: 8 })).toThrow(ContextOverflowError);
    expect(() => conversationPrompt(tok, c, { contextLength: alone + 7, maxNewTokens: 8 })).toThrow(new RegExp(`needs ${alone} tokens .* even without the earlier turns.* at least 1 tokens`));
  });
});
