// Replies as Markdown (app/components/Markdown.tsx), rendered to HTML in Node: the divergence mark
// lands on the right token inside any element, what follows it is shaded, and model output never
// becomes markup that runs or fetches.
import { describe, it, expect } from 'vitest';
import { createElement } from 'react';
import { renderToStaticMarkup } from 'react-dom/server';
import { MarkdownText } from '../../app/components/Markdown';

const html = (text: string, mark: [number, number] | null = null) => renderToStaticMarkup(createElement(MarkdownText, { text, mark }));
const MARK = (s: string) => `<mark class="div-first" data-testid="divergence">${s}</mark>`;
const REST = (s: string) => `<span class="div-rest">${s}</span>`;

describe('Markdown replies', () => {
  it('renders emphasis, lists and fenced code', () => {
    const out = html('Some **bold** text\n\n- one\n- two\n\n```python\nprint(1)\n```');
    expect(out).toContain('<strong>bold</strong>');
    expect(out).toContain('<li>one</li>');
    expect(out).toContain('<pre><code class="language-python">print(1)\n</code></pre>');
  });

  it('marks the diverging token inside bold text and shades the rest, across blocks', () => {
    const text = 'Hello **bold** world\n\nNext';
    const at = text.indexOf('bold');
    const out = html(text, [at, at + 4]);
    expect(out).toContain(`<strong>${MARK('bold')}</strong>${REST(' world')}`);
    expect(out).toContain(`<p>${REST('Next')}</p>`);
    expect(out).not.toMatch(/[\uE000\uE001]/);
  });

  it('marks a token inside a code block', () => {
    const text = '```\nprint(42)\n```';
    const at = text.indexOf('42');
    expect(html(text, [at, at + 2])).toContain(`<code>print(${MARK('42')}${REST(')\n')}</code>`);
  });

  it('shows HTML as text (nothing runs or loads), images as their alt text, and drops javascript: links', () => {
    const out = html('<script>alert(1)</script>\n\nUse <img src=x onerror=alert(1)> here. ![a cat](http://example.com/cat.png) [click](javascript:alert(1))');
    expect(out).not.toMatch(/<script|<img|javascript:/);
    expect(out).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(out).toContain('Use &lt;img src=x onerror=alert(1)&gt; here.');
    expect(out).toContain('[image: a cat]');
    expect(out).toContain('<a href="" target="_blank" rel="noopener noreferrer nofollow">click</a>');
  });
});
