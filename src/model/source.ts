// Where model files come from: a local folder (Node), files the user picked or downloaded
// (browser), or the Hugging Face hub (src/hub). The loader only needs whole small files as text
// and byte ranges of the safetensors files, so weights are read tensor by tensor.

export class MissingFileError extends Error {
  override name = 'MissingFileError';
}

export interface ModelSource {
  /** A short name for messages and cache keys, e.g. "HuggingFaceTB/SmolLM2-135M-Instruct". */
  readonly name: string;
  /** The whole file as text, or null when the model has no such file. */
  text(file: string): Promise<string | null>;
  /** Size in bytes; throws MissingFileError when absent. */
  size(file: string): Promise<number>;
  /** Bytes [begin, end) of a file. */
  range(file: string, begin: number, end: number): Promise<Uint8Array>;
}

/** A source over files held in memory (tests, the browser's folder picker after reading). */
export function memorySource(name: string, files: Map<string, Uint8Array>): ModelSource {
  const get = (file: string) => {
    const f = files.get(file);
    if (!f) throw new MissingFileError(`${name}: ${file} is missing`);
    return f;
  };
  return {
    name,
    text: async (file) => (files.has(file) ? new TextDecoder().decode(files.get(file)) : null),
    size: async (file) => get(file).byteLength,
    range: async (file, begin, end) => {
      const f = get(file);
      if (end > f.byteLength) throw new MissingFileError(`${name}: ${file} is truncated (${f.byteLength} bytes, needed ${end})`);
      return f.subarray(begin, end);
    },
  };
}

/** A local folder in Hugging Face layout (Node only; `fs` is imported lazily). */
export async function folderSource(dir: string): Promise<ModelSource> {
  const fs = await import('node:fs/promises');
  const path = await import('node:path');
  const stat = await fs.stat(dir).catch(() => null);
  if (!stat?.isDirectory()) throw new MissingFileError(`${dir} is not a folder`);
  const full = (file: string) => path.join(dir, file);
  return {
    name: path.basename(path.resolve(dir)),
    text: async (file) => fs.readFile(full(file), 'utf8').catch((e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT') return null;
      throw e;
    }),
    size: async (file) => {
      const s = await fs.stat(full(file)).catch(() => null);
      if (!s) throw new MissingFileError(`${dir}: ${file} is missing`);
      return s.size;
    },
    range: async (file, begin, end) => {
      const fh = await fs.open(full(file), 'r');
      try {
        const out = new Uint8Array(end - begin);
        const { bytesRead } = await fh.read(out, 0, out.byteLength, begin);
        if (bytesRead !== out.byteLength) throw new MissingFileError(`${dir}: ${file} is truncated (read ${bytesRead} of ${out.byteLength} bytes at ${begin})`);
        return out;
      } finally {
        await fh.close();
      }
    },
  };
}
