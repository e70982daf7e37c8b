// Volume names as Docker's local driver accepts them, and the names of
// anonymous volumes. A name is also a directory under <root>/volumes, so the
// pattern is what keeps a name from escaping it: no '/', no leading '.'.
import { randomBytes } from 'node:crypto';
import { badRequest, type ApiError } from '../engine/api/errors.ts';

const NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;
/** Docker's names.RestrictedNameChars, quoted in its error. */
const RESTRICTED = '[a-zA-Z0-9][a-zA-Z0-9_.-]';
/** Linux NAME_MAX: the name is one path component. */
const MAX_NAME = 255;

/** Docker puts this label on volumes it creates without a name (API >= 1.42 prune keys on it). */
export const ANONYMOUS_LABEL = 'com.docker.volume.anonymous';

/** null when valid, else Docker's error (status 400) for `create <name>`. */
export function nameError(name: string): ApiError | null {
  if (name.length === 1) {
    return badRequest(`create ${name}: volume name is too short, names should be at least two alphanumeric characters`);
  }
  if (name.length > MAX_NAME) return badRequest(`create ${name.slice(0, 32)}…: volume name is longer than ${MAX_NAME} characters`);
  if (!NAME.test(name)) {
    return badRequest(`create ${name}: ${JSON.stringify(name)} includes invalid characters for a local volume name, only ${JSON.stringify(RESTRICTED)} are allowed. If you intended to pass a host directory, use absolute path`);
  }
  return null;
}

export function validateName(name: string): void {
  const err = nameError(name);
  if (err) throw err;
}

/** Whether `name` could be a volume at all (lookups of other strings are simply not found). */
export function isValidName(name: string): boolean {
  return nameError(name) === null;
}

/** 64 lowercase hex digits, as Docker's stringid.GenerateRandomID. */
export function anonymousName(): string {
  return randomBytes(32).toString('hex');
}
