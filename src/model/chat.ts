// A conversation as a model sees it: the chat template over the system prompt, the earlier turns
// and the new message, and the policy when that no longer fits the context.
//
// Context policy: the prompt must leave room for the reply (its token budget, at most half the
// context). When it does not, the oldest turns are dropped one at a time (never the system prompt
// or the new message) and the rest is prefilled again; when the new message alone does not fit,
// the turn is refused with the numbers.
import { ContextOverflowError } from './engine';
import { TokenizerError, type ChatMessage, type ChatTemplateOptions, type TextTokenizer } from './tokenizer';

export interface ChatTurn {
  user: string;
  /** this engine's reply to it */
  assistant: string;
}

export interface ConversationPrompt {
  ids: number[];
  /** the templated text the ids encode */
  text: string;
  /** how many of the oldest turns were left out to fit the context */
  droppedTurns: number;
}

/** The messages of a conversation: the system prompt (blank: the template's default), the turns, the new message. */
export function chatMessages(system: string | null, turns: readonly ChatTurn[], user: string): ChatMessage[] {
  const out: ChatMessage[] = [];
  if (system !== null && system.trim() !== '') out.push({ role: 'system', content: system });
  for (const t of turns) out.push({ role: 'user', content: t.user }, { role: 'assistant', content: t.assistant });
  out.push({ role: 'user', content: user });
  return out;
}

/** Tokens the reply keeps free: its budget, but at most half the context (and at least one token). */
export function replyReserve(maxNewTokens: number, contextLength: number): number {
  return Math.max(1, Math.min(maxNewTokens, Math.floor(contextLength / 2)));
}

/**
 * The ids of the conversation's next prompt, dropping the oldest turns until the reply's reserve
 * fits (see the policy above).
 */
export function conversationPrompt(
  tok: TextTokenizer,
  c: { system: string | null; turns: readonly ChatTurn[]; user: string },
  limits: { contextLength: number; maxNewTokens: number },
  opts: ChatTemplateOptions = {},
): ConversationPrompt {
  const room = limits.contextLength - replyReserve(limits.maxNewTokens, limits.contextLength);
  for (let dropped = 0; dropped <= c.turns.length; dropped++) {
    const text = tok.renderChatTemplate(chatMessages(c.system, c.turns.slice(dropped), c.user), opts);
    const ids = tok.encode(text, false);
    if (ids.length <= room) return { ids, text, droppedTurns: dropped };
    if (dropped === c.turns.length) {
      throw new ContextOverflowError(
        `the message needs ${ids.length} tokens with the template${c.turns.length ? ' even without the earlier turns' : ''}, but the context of ${limits.contextLength} keeps ${limits.contextLength - room} for the reply; shorten it by at least ${ids.length - room} tokens or lower the reply's token budget`,
      );
    }
  }
  throw new Error('unreachable');
}

/**
 * The system prompt the template writes when the conversation has none (SmolLM2's "You are a
 * helpful AI assistant named SmolLM…", Qwen2.5's "You are Qwen…"), or null when it writes none.
 * Found by rendering with a marker system prompt and without one, and reading what the template
 * put where the marker was. `supported` is false when the template refuses a system message.
 */
export function templateSystemPrompt(tok: TextTokenizer, opts: ChatTemplateOptions = {}): { supported: boolean; defaultPrompt: string | null } {
  const MARK = 'SYSTEM-PROMPT-MARKER-7f3a';
  const USER = 'USER-MESSAGE-MARKER-9c1e';
  let withMark: string;
  try {
    withMark = tok.renderChatTemplate(chatMessages(MARK, [], USER), opts);
  } catch (e) {
    if (e instanceof TokenizerError) return { supported: false, defaultPrompt: null };
    throw e;
  }
  const plain = tok.renderChatTemplate(chatMessages(null, [], USER), opts);
  const at = withMark.indexOf(MARK);
  if (at < 0) return { supported: false, defaultPrompt: null };
  const before = withMark.slice(0, at);
  const after = withMark.slice(at + MARK.length, withMark.indexOf(USER));
  // The same frame around the default text, or no system block at all.
  if (!plain.startsWith(before)) return { supported: true, defaultPrompt: null };
  const end = plain.indexOf(after, before.length);
  if (end < 0 || end >= plain.indexOf(USER)) return { supported: true, defaultPrompt: null };
  const text = plain.slice(before.length, end);
  return { supported: true, defaultPrompt: text.trim() === '' ? null : text };
}
