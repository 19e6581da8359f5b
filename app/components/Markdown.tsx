// A reply rendered as Markdown (react-markdown: a syntax tree to React elements, never raw HTML),
// with the first diverging token marked and what follows it shaded, as in the plain view.
import Markdown, { type Components } from 'react-markdown';
import remarkGfm from 'remark-gfm';
import type { Element, ElementContent, Root, RootContent, Text } from 'hast';

/** Private-use characters put into the text where the divergence starts and ends; never shown. */
const START = '\uE000';
const END = '\uE001';

type State = { phase: 'before' | 'mark' | 'after' };

/** Text nodes split at the sentinels, in document order: before, the marked token, the rest. */
function splitText(node: Text, st: State): ElementContent[] {
  const out: ElementContent[] = [];
  let buf = '';
  const flush = () => {
    if (buf === '') return;
    const text: Text = { type: 'text', value: buf };
    if (st.phase === 'before') out.push(text);
    else if (st.phase === 'mark') out.push({ type: 'element', tagName: 'mark', properties: { className: ['div-first'], dataTestid: 'divergence' }, children: [text] });
    else out.push({ type: 'element', tagName: 'span', properties: { className: ['div-rest'] }, children: [text] });
    buf = '';
  };
  for (const ch of node.value) {
    if (ch === START || ch === END) {
      flush();
      st.phase = ch === START ? 'mark' : 'after';
    } else buf += ch;
  }
  flush();
  return out;
}

function walk(parent: Root | Element, st: State): void {
  const children: RootContent[] = [];
  for (const child of parent.children) {
    if (child.type === 'text') children.push(...splitText(child, st));
    else {
      if (child.type === 'element') walk(child, st);
      children.push(child);
    }
  }
  parent.children = children as typeof parent.children;
}

/** The rehype step that turns the sentinels into the divergence marks. */
const rehypeDivergence = () => (tree: Root) => walk(tree, { phase: 'before' });

// Images would fetch from wherever the text points (the app makes no request it was not asked
// to): their alt text is shown instead. Links open in a new tab and pass nothing on.
const components: Components = {
  img: ({ alt }) => <span className="md-img">[image: {alt ?? ''}]</span>,
  a: ({ href, children }) => (
    <a href={href} target="_blank" rel="noopener noreferrer nofollow">
      {children}
    </a>
  ),
};

/** `text` as Markdown; `mark` is the [start, end) of the first diverging token, if any. */
export function MarkdownText({ text, mark }: { text: string; mark: [number, number] | null }) {
  const src = mark ? text.slice(0, mark[0]) + START + text.slice(mark[0], mark[1]) + END + text.slice(mark[1]) : text;
  return (
    <div className="markdown">
      <Markdown remarkPlugins={[remarkGfm]} rehypePlugins={mark ? [rehypeDivergence] : []} components={components}>
        {src}
      </Markdown>
    </div>
  );
}
