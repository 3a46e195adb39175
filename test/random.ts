/** A seeded pseudo-random generator in [0, 1): property tests see the same cases on every run. */
export function seededRandom(seed: number): () => number {
  return () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
}

/** `count` texts of up to `maxLength` pieces of `alphabet`, the same every run. */
export function randomTexts(alphabet: readonly string[], count: number, maxLength: number, seed: number): string[] {
  const random = seededRandom(seed);
  return Array.from({ length: count }, () => Array.from({ length: Math.floor(random() * maxLength) }, () => alphabet[Math.floor(random() * alphabet.length)]).join(''));
}
