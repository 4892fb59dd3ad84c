// Malformed documents for the randomized tests: valid documents mutated at random (deleted
// spans, inserted tokens and characters, truncation, duplicated spans), reproducibly from a seed.
import { grammarExamples, seedExamples } from './corpus.mjs';

export function mutator(seed) {
  // A small deterministic PRNG (mulberry32), so a failure can be replayed from its seed.
  let state = Number(seed) >>> 0;
  function random() {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  const pick = (list) => list[Math.floor(random() * list.length)];

  const fragments = [
    '{', '}', '(', ')', '[', ']', ':', '$', '@', '!', '=', '|', '&', '...', '..', '.', '"', '"""',
    '\\', '\\u', '\\u{', '\\u{110000}', '\\uD83D\\uDE00', '\\uD83D', '#', '\n', '\r', '\r\n', '\t',
    ',', ' ', '0', '01', '-', '-0', '1.', '1e', '1.5e+', '0x1', '1a', 'é', '😀', '\u0001',
    '\u00a0', "'", 'on', 'fragment', 'query', 'mutation', 'subscription', 'null', 'true', 'type',
    'schema', '"unterminated', '\ufeff', '\u2028', '\u007f', '\u0085',
  ];

  function mutate(doc) {
    let text = doc;
    const steps = 1 + Math.floor(random() * 3);
    for (let s = 0; s < steps; ++s) {
      const at = Math.floor(random() * (text.length + 1));
      switch (Math.floor(random() * 5)) {
        case 0: // delete a span
          text = text.slice(0, at) + text.slice(at + 1 + Math.floor(random() * 4));
          break;
        case 1: // insert a fragment
          text = text.slice(0, at) + pick(fragments) + text.slice(at);
          break;
        case 2: // truncate
          text = text.slice(0, at);
          break;
        case 3: { // duplicate a span elsewhere
          const from = Math.floor(random() * text.length);
          const span = text.slice(from, from + 1 + Math.floor(random() * 12));
          text = text.slice(0, at) + span + text.slice(at);
          break;
        }
        default: // replace one character
          text = text.slice(0, at) + pick(fragments) + text.slice(at + 1);
      }
    }
    return text;
  }

  // A malformed document: a random base, mutated, without NUL (PostgreSQL text cannot hold
  // it) and without lone surrogates (UTF-8 cannot: a client would send U+FFFD).
  return () => mutate(pick(bases)).replace(/\u0000/g, '').toWellFormed();
}

export const bases = [...Object.values(seedExamples), ...grammarExamples];
