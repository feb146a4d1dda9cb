/**
 * Seeded pseudo-random numbers (mulberry32). Implemented here rather than borrowed from polars so that samples and
 * splits depend only on the seed, not on a library version or the number of threads.
 */
export function createRng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Shuffles `values` in place (Fisher–Yates) with the given generator. */
export function shuffleInPlace(values: Uint32Array, rng: () => number): Uint32Array {
  for (let i = values.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    const tmp = values[i]!;
    values[i] = values[j]!;
    values[j] = tmp;
  }
  return values;
}

/** A seeded choice of `n` distinct row indices out of `total`, as a 0/1 mask in row order. */
export function sampleMask(total: number, n: number, seed: number): Uint8Array {
  const mask = new Uint8Array(total);
  if (n >= total) return mask.fill(1);
  const idx = new Uint32Array(total);
  for (let i = 0; i < total; i++) idx[i] = i;
  const rng = createRng(seed);
  // Partial Fisher–Yates: the first n slots end up holding a uniform sample.
  for (let i = 0; i < n; i++) {
    const j = i + Math.floor(rng() * (total - i));
    const tmp = idx[i]!;
    idx[i] = idx[j]!;
    idx[j] = tmp;
    mask[idx[i]!] = 1;
  }
  return mask;
}
