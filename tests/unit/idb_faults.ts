// IndexedDB fault injection for the weight-cache tests (unit, and GPU loads through the cache).
import type { UseStore } from 'idb-keyval';

/**
 * A store whose put() fails once `allowed` puts have gone through: 'throw' throws from put() itself;
 * 'abort' lets the put land and then rejects the transaction's promise, as a browser's quota abort
 * surfaces, so the cleanup has real records to remove.
 */
export function failingStore(base: UseStore, allowed: number, error: () => Error, how: 'throw' | 'abort' = 'throw'): UseStore {
  let puts = 0;
  return (mode, callback) => {
    let failed = false;
    const run = base(mode, (s) =>
      callback(
        new Proxy(s, {
          get(target, prop) {
            if (prop === 'put') {
              return (value: unknown, k?: IDBValidKey) => {
                if (++puts > allowed) {
                  if (how === 'throw') throw error();
                  failed = true;
                }
                return target.put(value, k);
              };
            }
            const v: unknown = Reflect.get(target, prop, target);
            return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
          },
        }),
      ),
    );
    return run.then((r) => {
      if (failed) throw error();
      return r;
    });
  };
}
