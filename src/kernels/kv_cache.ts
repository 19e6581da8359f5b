// The KV cache's storage format, one module: its name, its bytes, when it applies, and the WGSL that
// declares a layer's two cache bindings with the readers and writers every kernel that touches the
// cache uses (attention's kernels read, the KV append and the fused q/k/v GEMV write). Kernels never
// index the cache arrays themselves, so a format is added here and nowhere else.
//   'f32': 4 bytes a value, exact.
//   'f16': 2 bytes a value (two per u32, pack2x16float), half the memory and half the bytes every
//          decode step's attention reads; values are rounded to f16 once, on append, and math stays f32.

export type KvFormat = 'f32' | 'f16';
export const KV_FORMATS: readonly KvFormat[] = ['f32', 'f16'];

export function isKvFormat(s: string): s is KvFormat {
  return (KV_FORMATS as readonly string[]).includes(s);
}

export function parseKvFormat(s: string): KvFormat {
  if (!isKvFormat(s)) throw new Error(`KV cache format "${s}": expected one of ${KV_FORMATS.join(', ')}`);
  return s;
}

export function kvBytesPerValue(f: KvFormat): number {
  return f === 'f16' ? 2 : 4;
}

/** bytes of one layer's K (or V) cache: rows x kvDim values */
export function kvCacheBytes(f: KvFormat, rows: number, kvDim: number): number {
  return rows * kvDim * kvBytesPerValue(f);
}

/** f16 packs a head in whole 16-byte words (the vec4 readers): head_dim must be a multiple of 4. */
export function kvFormatApplies(f: KvFormat, headDim: number): boolean {
  return f === 'f32' || headDim % 4 === 0;
}

export function checkKvFormat(f: KvFormat, headDim: number): void {
  if (!kvFormatApplies(f, headDim)) throw new Error(`KV cache ${f} needs head_dim a multiple of 4 (got ${headDim}); use f32`);
}

/**
 * The default: f16 wherever the weights are not f32 (an f32 engine is the exactness reference and
 * keeps an exact cache). Chosen by measurement (README, "KV cache"): the logits move by far less
 * than the f16 weights' own rounding, and decode attention reads half the bytes.
 */
export function defaultKvFormat(weightFormat: string, headDim: number): KvFormat {
  return weightFormat !== 'f32' && kvFormatApplies('f16', headDim) ? 'f16' : 'f32';
}

/** A cache buffer too small for its shape would silently drop rows (shaders bound by MAX_CTX). */
export function checkKvBuffer(label: string, f: KvFormat, buffers: GPUBuffer[], rows: number, kvDim: number): void {
  const need = kvCacheBytes(f, rows, kvDim);
  for (const c of buffers) {
    if (c.size < need) throw new Error(`${label}: cache ${c.label} is ${c.size} bytes, needs ${need} (${rows} rows x ${kvDim} ${f} values)`);
  }
}

export interface KvWgslOptions {
  /** 'vec4': kv_k4(i) / kv_v4(i) read 4 values at vec4 index i; 'scalar': kv_k1(i) / kv_v1(i) read value i */
  view: 'vec4' | 'scalar';
  /** 'read' for attention; 'read_write' (scalar view only) adds kv_put_k(i, v) / kv_put_v(i, v) (values i and i + 1; i even for f16) and kv_put1_k / kv_put1_v (value i alone) */
  access: 'read' | 'read_write';
  /** binding numbers of k_cache and v_cache in group 0 */
  k: number;
  v: number;
}

/** Declarations of k_cache and v_cache and their accessors, for a kernel to prepend. */
export function kvCacheWgsl(f: KvFormat, o: KvWgslOptions): string {
  if (o.access === 'read_write' && o.view !== 'scalar') throw new Error('kvCacheWgsl: writers use the scalar view');
  const elem = f === 'f32' ? (o.view === 'vec4' ? 'vec4<f32>' : 'f32') : (o.view === 'vec4' ? 'vec2<u32>' : 'u32');
  const lines = [
    `// KV cache: ${f} (kv_cache.ts)`,
    `@group(0) @binding(${o.k}) var<storage, ${o.access}> k_cache: array<${elem}>;`,
    `@group(0) @binding(${o.v}) var<storage, ${o.access}> v_cache: array<${elem}>;`,
  ];
  for (const [n, arr] of [['k', 'k_cache'], ['v', 'v_cache']] as const) {
    if (o.view === 'vec4') {
      lines.push(f === 'f32'
        ? `fn kv_${n}4(i: u32) -> vec4<f32> { return ${arr}[i]; }`
        : `fn kv_${n}4(i: u32) -> vec4<f32> { let w = ${arr}[i]; return vec4<f32>(unpack2x16float(w.x), unpack2x16float(w.y)); }`);
    } else {
      lines.push(f === 'f32'
        ? `fn kv_${n}1(i: u32) -> f32 { return ${arr}[i]; }`
        : `fn kv_${n}1(i: u32) -> f32 { return unpack2x16float(${arr}[i >> 1u])[i & 1u]; }`);
    }
    if (o.access === 'read_write') {
      lines.push(f === 'f16'
        ? `fn kv_put_${n}(i: u32, v: vec2<f32>) { ${arr}[i >> 1u] = pack2x16float(v); }`
        : `fn kv_put_${n}(i: u32, v: vec2<f32>) { ${arr}[i] = v.x; ${arr}[i + 1u] = v.y; }`);
      // One value alone: the odd last value of a row, which only f32 rows have (f16 needs head_dim % 4 == 0).
      lines.push(f === 'f16'
        ? `fn kv_put1_${n}(i: u32, v: f32) { ${arr}[i >> 1u] = pack2x16float(vec2<f32>(v, 0.0)); }`
        : `fn kv_put1_${n}(i: u32, v: f32) { ${arr}[i] = v; }`);
    }
  }
  return lines.join('\n') + '\n';
}
