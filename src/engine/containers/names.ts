// Container names as Docker has them: "/name", [a-zA-Z0-9][a-zA-Z0-9_.-]+,
// and generated names "adjective_surname" (a digit appended on a clash).
import { randomInt } from 'node:crypto';
import { badRequest } from '../api/errors.ts';

const VALID = /^\/?[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;

/** "/x" for a valid user-given name; Docker's 400 otherwise. */
export function normalizeName(name: string): string {
  if (!VALID.test(name)) throw badRequest(`Invalid container name (${name}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
  return name.startsWith('/') ? name : `/${name}`;
}

const ADJECTIVES = [
  'admiring', 'agitated', 'amazing', 'awesome', 'blissful', 'bold', 'brave', 'busy', 'charming', 'clever',
  'cool', 'dazzling', 'determined', 'eager', 'ecstatic', 'elegant', 'epic', 'festive', 'focused', 'friendly',
  'gallant', 'gifted', 'goofy', 'happy', 'hopeful', 'jolly', 'keen', 'kind', 'laughing', 'loving',
  'lucid', 'modest', 'nervous', 'nifty', 'optimistic', 'peaceful', 'pensive', 'quirky', 'relaxed', 'serene',
  'sharp', 'stoic', 'sweet', 'tender', 'trusting', 'upbeat', 'vibrant', 'vigilant', 'wizardly', 'zealous',
];
const SURNAMES = [
  'agnesi', 'archimedes', 'babbage', 'bohr', 'booth', 'curie', 'darwin', 'dijkstra', 'einstein', 'euler',
  'faraday', 'fermat', 'feynman', 'galileo', 'gauss', 'goodall', 'hamilton', 'hawking', 'hopper', 'hypatia',
  'kepler', 'knuth', 'lamport', 'liskov', 'lovelace', 'maxwell', 'meitner', 'mendel', 'newton', 'noether',
  'pascal', 'pasteur', 'planck', 'ramanujan', 'ritchie', 'shannon', 'tesla', 'thompson', 'turing', 'wozniak',
];

/** A fresh "/adjective_surname" that `taken` does not hold. */
export function generateName(taken: (name: string) => boolean): string {
  for (let retry = 0; retry < 100; retry++) {
    let n = `/${ADJECTIVES[randomInt(ADJECTIVES.length)]}_${SURNAMES[randomInt(SURNAMES.length)]}`;
    if (retry > 0) n += String(randomInt(10));
    if (!taken(n)) return n;
  }
  throw new Error('could not generate a unique container name');
}
