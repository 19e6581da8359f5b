import { readFileSync } from 'node:fs';
import { Engine } from './src/model/engine';
import { readPackedTensors } from './src/model/weights';
import { memorySource } from './src/model/source';
import { mutateModel, rngFrom, CHATML } from './tests/unit/mutate';
const DIR = '../shared/fixtures/models/stories260K';
const ORIGINAL = new Map(['config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json'].map((f) => [f, new Uint8Array(readFileSync(DIR + '/' + f))]));
const LIMITS = { maxStorageBufferBindingSize: 2 ** 30, maxBufferSize: 2 ** 30 };
const kindMs = new Map<string, number>();
const t00 = performance.now();
for (let seed = 1; seed <= 600; seed++) {
  const m = mutateModel(ORIGINAL, rngFrom(seed), CHATML);
  const t0 = performance.now();
  let err = '';
  try {
    const source = memorySource('x', m.files);
    const { config, tokenizer } = await Engine.prepare(source, { format: 'f16' }, LIMITS);
    if (tokenizer) { tokenizer.decode(tokenizer.encode('Once upon a time')); if (tokenizer.hasChatTemplate) tokenizer.applyChatTemplate([{ role: 'user', content: 'hi' }]); }
    for await (const _ of readPackedTensors(source, config, 'f16')) {}
  } catch (e) { err = (e as Error).name + ': ' + (e as Error).message.slice(0, 100); }
  const dt = performance.now() - t0;
  kindMs.set(m.kind, (kindMs.get(m.kind) ?? 0) + dt);
  if (dt > 200) console.log('SLOW', seed, m.kind, m.detail.slice(0, 150), dt.toFixed(0), err);
}
console.log('total', (performance.now() - t00).toFixed(0), JSON.stringify(Object.fromEntries([...kindMs].map(([k, v]) => [k, Math.round(v)]))));
