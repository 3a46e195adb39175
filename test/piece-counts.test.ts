import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MAX_PIECE, PieceCounts, pieceHash } from '../src/chat/piece-counts.js';
import { randomTexts } from './random.js';

const unitsOf = (text: string) => Uint16Array.from({ length: text.length }, (_, i) => text.charCodeAt(i));

describe('PieceCounts (the token counter\'s piece cache)', () => {
  it('answers as a Map<string, number> does, for pieces looked up inside longer texts', () => {
    const counts = new PieceCounts();
    const reference = new Map<string, number>();
    const texts = randomTexts([...'abcdé你🙂 .,\n', 'the', 'ing', ' of'], 3000, 30, 5);
    for (const text of texts) {
      const units = unitsOf(text);
      // Every range of the text up to MAX_PIECE units, looked up where it is.
      for (let start = 0; start < text.length; start++) {
        for (let end = start + 1; end <= Math.min(text.length, start + MAX_PIECE); end++) {
          const piece = text.slice(start, end);
          const hash = pieceHash(units, start, end);
          const known = counts.get(units, start, end, hash);
          assert.equal(known, reference.get(piece) ?? -1, JSON.stringify(piece));
          if (known < 0 && reference.size < 20_000) {
            const tokens = (piece.length * 7) % 200;
            counts.set(units, start, end, hash, tokens);
            reference.set(piece, tokens);
          }
        }
      }
    }
    assert.equal(counts.size, reference.size);
  });

  it('forgets everything when full, and never answers a count it was not given', () => {
    const counts = new PieceCounts();
    const seen = new Map<string, number>();
    for (let i = 0; i < 300_000; i++) {
      const piece = `w${i.toString(36)}`;
      const units = unitsOf(piece);
      counts.set(units, 0, piece.length, pieceHash(units, 0, piece.length), i % 256);
      seen.set(piece, i % 256);
    }
    assert.ok(counts.size < 300_000, 'the cache is bounded');
    for (const [piece, tokens] of seen) {
      const units = unitsOf(piece);
      const known = counts.get(units, 0, piece.length, pieceHash(units, 0, piece.length));
      assert.ok(known === -1 || known === tokens, piece);
    }
    // Pieces longer than MAX_PIECE are not kept.
    const long = unitsOf('x'.repeat(MAX_PIECE + 1));
    counts.set(long, 0, long.length, pieceHash(long, 0, long.length), 3);
    assert.equal(counts.get(long, 0, long.length, pieceHash(long, 0, long.length)), -1);
  });
});
