// Prompt text to token ids and generated ids back to text, for every engine the app and the suite
// run. A real model uses its tokenizer (and chat template when asked). A synthetic model has no
// tokenizer and its output means nothing, so ids stay ids: a prompt of integers ("1 403 407") is
// taken literally, any other text becomes its UTF-8 bytes (mod the vocabulary) after BOS, and the
// output is shown as space-separated ids. ROUGE-L over that text is then a token-level ROUGE-L.
import type { Engine } from '../model/engine';
import { StreamingDecoder, type TextTokenizer } from '../model/tokenizer';

export class PromptIdsError extends Error {
  override name = 'PromptIdsError';
}

export interface StreamDecoder {
  /** the text the token adds (may be '' while a multi-byte character is incomplete) */
  push(id: number): string;
  readonly text: string;
}

export interface TextCodec {
  /** 'tokenizer': real text; 'ids': a model without tokenizer, text is token ids */
  readonly kind: 'tokenizer' | 'ids';
  readonly hasChatTemplate: boolean;
  encode(prompt: string, chat: boolean): number[];
  decoder(): StreamDecoder;
  decode(ids: readonly number[]): string;
}

const LITERAL_IDS = /^\s*\d+(?:[\s,]+\d+)*\s*$/;

/** Ids for a model without tokenizer: literal ids when the prompt is a list of integers, else BOS + UTF-8 bytes. */
export function idsFromPrompt(prompt: string, vocabSize: number, bos: number | null): number[] {
  if (LITERAL_IDS.test(prompt)) {
    const ids = prompt.trim().split(/[\s,]+/).map(Number);
    const bad = ids.find((t) => t >= vocabSize);
    if (bad !== undefined) throw new PromptIdsError(`token id ${bad} is outside the vocabulary (0..${vocabSize - 1})`);
    return ids;
  }
  const bytes = [...new TextEncoder().encode(prompt)].map((b) => b % vocabSize);
  return bos === null ? bytes : [bos, ...bytes];
}

export function idsText(ids: readonly number[]): string {
  return ids.join(' ');
}

function idCodec(vocabSize: number, bos: number | null): TextCodec {
  return {
    kind: 'ids',
    hasChatTemplate: false,
    encode: (prompt) => idsFromPrompt(prompt, vocabSize, bos),
    decoder: () => {
      const ids: number[] = [];
      return {
        push: (id) => (ids.push(id) === 1 ? String(id) : ` ${id}`),
        get text() {
          return idsText(ids);
        },
      };
    },
    decode: idsText,
  };
}

function tokenizerCodec(tok: TextTokenizer): TextCodec {
  return {
    kind: 'tokenizer',
    hasChatTemplate: tok.hasChatTemplate,
    encode: (prompt, chat) => (chat && tok.hasChatTemplate ? tok.applyChatTemplate([{ role: 'user', content: prompt }]) : tok.encode(prompt)),
    decoder: () => new StreamingDecoder(tok),
    decode: (ids) => tok.decode([...ids]),
  };
}

export function codecFor(engine: Pick<Engine, 'tokenizer' | 'config'>): TextCodec {
  return engine.tokenizer ? tokenizerCodec(engine.tokenizer) : idCodec(engine.config.vocabSize, engine.config.bosTokenId);
}
