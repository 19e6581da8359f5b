// Benchmark runs kept in this browser (IndexedDB through idb-keyval, a database of its own, apart
// from the weight cache), so runs on other models, devices or days can be compared later.
import { createStore, del, entries, set, type UseStore } from 'idb-keyval';
import { SUITE_SCHEMA, type SuiteReport } from '../src/bench/suite_report';

let store: UseStore | null = null;
const runs = () => (store ??= createStore('webgpu-int8-llm-bench', 'runs'));

export async function saveRun(r: SuiteReport): Promise<void> {
  await set(r.id, r, runs());
}

/** Every stored run, newest first; records of another schema (an older app) are left out. */
export async function listRuns(): Promise<SuiteReport[]> {
  const all = await entries<string, SuiteReport>(runs());
  return all
    .map(([, r]) => r)
    .filter((r) => r?.schema === SUITE_SCHEMA)
    .sort((a, b) => b.date.localeCompare(a.date));
}

export async function deleteRun(id: string): Promise<void> {
  await del(id, runs());
}
