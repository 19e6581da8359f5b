// Download progress over several files, as the UI wants it: a bar that never goes backwards, a
// grand total as soon as every file's size is known, a smoothed speed and an ETA.
import type { DownloadProgress } from './download';

/**
 * Turns byte counts of several files into DownloadProgress events: bytes only grow (a restarted
 * file keeps its high-water mark until it passes it), the total is known once every file's size
 * is, and events are throttled except at each file's start and end.
 */
export class ProgressTracker {
  private readonly files = new Map<string, { bytes: number; total: number | null; done: boolean }>();
  private readonly samples: Array<[number, number]> = [];
  private lastEmit = -Infinity;

  constructor(private readonly onProgress?: (p: DownloadProgress) => void, private readonly intervalMs = 100) {}

  expect(file: string, size: number | null): void {
    const f = this.files.get(file);
    if (!f) this.files.set(file, { bytes: 0, total: size, done: false });
    else if (!f.done && size !== null) f.total = size;
  }

  /** a (re)started download of `file`: its count starts from 0 again */
  begin(file: string): void {
    const f = this.files.get(file);
    if (f) Object.assign(f, { bytes: 0, done: false });
    else this.expect(file, null);
  }

  update(file: string, bytes: number, total: number | null, done = false): void {
    this.expect(file, total);
    const f = this.files.get(file)!;
    const started = f.bytes === 0 && bytes > 0;
    f.bytes = done ? bytes : Math.max(f.bytes, bytes);
    if (done) {
      f.total = bytes;
      f.done = true;
    }
    this.emit(file, done || started);
  }

  private emit(file: string, force: boolean): void {
    if (!this.onProgress) return;
    const now = performance.now();
    if (!force && now - this.lastEmit < this.intervalMs) return;
    this.lastEmit = now;
    let bytes = 0;
    let total: number | null = 0;
    let filesDone = 0;
    for (const f of this.files.values()) {
      bytes += f.bytes;
      total = total === null || f.total === null ? null : total + f.total;
      if (f.done) filesDone++;
    }
    // Speed over the last ~3 s of emitted events: steady enough to read, quick to follow changes.
    this.samples.push([now, bytes]);
    while (this.samples.length > 2 && now - this.samples[0]![0] > 3000) this.samples.shift();
    const [t0, b0] = this.samples[0]!;
    const bytesPerSecond = now - t0 >= 50 ? ((bytes - b0) * 1000) / (now - t0) : 0;
    const f = this.files.get(file)!;
    this.onProgress({
      file,
      fileBytes: f.bytes,
      fileTotal: f.total,
      bytes,
      total,
      bytesPerSecond,
      etaSeconds: total !== null && bytesPerSecond > 0 ? Math.max(0, total - bytes) / bytesPerSecond : null,
      filesDone,
      filesTotal: this.files.size,
    });
  }
}
