// Typed content errors, so callers can tell "already there" from "broken".

export type ContentErrorCode = 'not-found' | 'already-exists' | 'unavailable' | 'failed-precondition' | 'invalid-argument';

export class ContentError extends Error {
  readonly code: ContentErrorCode;
  constructor(code: ContentErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ContentError';
    this.code = code;
  }
}

export function isContentError(e: unknown, code: ContentErrorCode): e is ContentError {
  return e instanceof ContentError && e.code === code;
}
