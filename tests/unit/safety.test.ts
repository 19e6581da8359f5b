// What the app shows or runs that came from a model repo: chat templates go through the sandboxed
// @huggingface/jinja interpreter only (a hostile template can fail but cannot run code), and no
// source file has a way to turn model text into markup or code. The rendering itself is checked in
// the browser by tests/e2e/app.test.ts (a model whose name and output are HTML).
import { describe, it, expect } from 'vitest';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { TextTokenizer, TokenizerError } from '../../src/model/tokenizer';
import { modelDir } from './fixtures';

const ROOT = path.resolve(__dirname, '../..');
const TOKENIZER = readFileSync(path.join(modelDir('stories260K'), 'tokenizer.json'), 'utf8');

function withTemplate(template: string): TextTokenizer {
  return new TextTokenizer(TOKENIZER, JSON.stringify({ bos_token: '<s>', eos_token: '</s>', chat_template: template }));
}

const g = globalThis as { __pwned?: unknown };

describe('chat templates run in the jinja sandbox', () => {
  // Classic template-injection payloads: reach Function through constructors, globals, prototypes.
  const hostile = [
    "{{ ''.constructor.constructor('globalThis.__pwned = 1')() }}",
    "{{ messages.constructor.constructor('globalThis.__pwned = 2')() }}",
    "{% for m in messages %}{{ m.content.constructor.constructor('globalThis.__pwned = 3')() }}{% endfor %}",
    "{{ messages[0].__proto__.constructor.constructor('globalThis.__pwned = 4')() }}",
    '{{ process }}{{ globalThis }}{{ require }}{{ self }}{{ window }}{{ cycler.__init__.__globals__ }}',
    "{% set x = messages.push({'role': 'user', 'content': 'x'}) %}{{ x }}",
    "{{ raise_exception('template says no') }}",
  ];
  it.each(hostile)('%s: renders nothing executable or fails with TokenizerError; no code runs', (template) => {
    delete g.__pwned;
    const tok = withTemplate(template);
    let ids: number[] | null = null;
    try {
      ids = tok.applyChatTemplate([{ role: 'user', content: 'hi' }]);
    } catch (e) {
      expect(e).toBeInstanceOf(TokenizerError);
      expect((e as Error).message).toMatch(/chat template failed to render/);
    }
    if (ids) expect(ids.every((id) => Number.isInteger(id) && id >= 0 && id < tok.idLimit)).toBe(true);
    expect(g.__pwned).toBeUndefined();
  });

  it('message content is data, never template code', () => {
    const tok = withTemplate('{% for m in messages %}[{{ m.role }}]{{ m.content }}{% endfor %}');
    const content = "{{ ''.constructor.constructor('globalThis.__pwned = 5')() }}";
    const ids = tok.applyChatTemplate([{ role: 'user', content }]);
    expect(tok.decode(ids)).toBe(`[user]${content}`);
    expect(g.__pwned).toBeUndefined();
  });

  it('a template that does not parse is a TokenizerError at load', () => {
    expect(() => withTemplate('{% for m in messages %}')).toThrow(TokenizerError);
  });
});

describe('no path from model text to markup or code in src/ and app/', () => {
  const files = (dir: string): string[] =>
    readdirSync(dir).flatMap((f) => {
      const p = path.join(dir, f);
      return statSync(p).isDirectory() ? files(p) : /\.(ts|tsx)$/.test(f) ? [p] : [];
    });
  const sources = [...files(path.join(ROOT, 'src')), ...files(path.join(ROOT, 'app'))].map((f) => ({ f: path.relative(ROOT, f), text: readFileSync(f, 'utf8') }));

  it('scans a real tree', () => {
    expect(sources.length).toBeGreaterThan(40);
    expect(sources.some((s) => s.f === path.join('app', 'components', 'OutputPane.tsx'))).toBe(true);
  });

  it('no innerHTML, dangerouslySetInnerHTML, insertAdjacentHTML, document.write, eval or new Function', () => {
    const banned = /dangerouslySetInnerHTML|\.innerHTML\s*=|\.outerHTML\s*=|insertAdjacentHTML|document\.write|\beval\s*\(|new\s+Function\s*\(|setTimeout\(\s*['"`]/;
    const hits = sources.filter((s) => banned.test(s.text)).map((s) => `${s.f}: ${banned.exec(s.text)![0]}`);
    expect(hits).toEqual([]);
  });

  it('templates are rendered only by @huggingface/jinja, only in src/model/tokenizer.ts', () => {
    const users = sources.filter((s) => /from '@huggingface\/jinja'|\.render\(\{/.test(s.text)).map((s) => s.f);
    expect(users).toEqual([path.join('src', 'model', 'tokenizer.ts')]);
  });
});
