// A cheap 32-bit checksum for cache chunks: MurmurHash3-style mixing over little-endian 32-bit
// words (bytes after the last whole word folded in one by one), seeded per chunk so a chunk stored
// under the wrong index does not verify. It only has to catch storage corruption and truncation,
// not adversaries, and hashes a 16 MiB chunk in a few milliseconds (crypto.subtle SHA-256 would be
// async and needs a secure context).

export function checksum32(bytes: Uint8Array, seed = 0): number {
  const words = bytes.byteLength >>> 2;
  const w =
    (bytes.byteOffset & 3) === 0
      ? new Uint32Array(bytes.buffer, bytes.byteOffset, words)
      : new Uint32Array(bytes.slice(0, words * 4).buffer);
  let h = seed >>> 0;
  for (let i = 0; i < words; i++) {
    let k = Math.imul(w[i]!, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, 0x1b873593);
    h ^= k;
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  for (let i = words * 4; i < bytes.byteLength; i++) {
    h ^= Math.imul(bytes[i]!, 0xcc9e2d51);
    h = Math.imul((h << 15) | (h >>> 17), 0x1b873593);
  }
  h ^= bytes.byteLength;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
