// Registry errors: the distribution spec's JSON error body
// ({"errors":[{"code":"MANIFEST_UNKNOWN","message":"...","detail":...}]})
// turned into one clear message.

export interface RegistryErrorDetail {
  code: string;
  message: string;
  detail?: unknown;
}

export class RegistryError extends Error {
  readonly status: number;
  readonly errors: RegistryErrorDetail[];
  /** Retrying may help (5xx, 429, connection trouble). */
  readonly retryable: boolean;
  constructor(message: string, status = 0, errors: RegistryErrorDetail[] = [], retryable = false) {
    super(message);
    this.name = 'RegistryError';
    this.status = status;
    this.errors = errors;
    this.retryable = retryable;
  }
  get code(): string | undefined {
    return this.errors[0]?.code;
  }
}

const STATUS_CODES: Record<number, string> = { 401: 'UNAUTHORIZED', 403: 'DENIED', 404: 'NOT_FOUND', 429: 'TOOMANYREQUESTS' };

/** Parses an error body; never throws (a broken body still yields a message). */
export function parseErrorBody(body: string): RegistryErrorDetail[] {
  try {
    const obj = JSON.parse(body) as { errors?: unknown; details?: unknown };
    if (Array.isArray(obj.errors)) {
      return obj.errors
        .filter((e): e is Record<string, unknown> => typeof e === 'object' && e !== null)
        .map((e) => ({ code: String(e['code'] ?? 'UNKNOWN'), message: String(e['message'] ?? ''), ...(e['detail'] !== undefined ? { detail: e['detail'] } : {}) }));
    }
  } catch {
    /* not JSON */
  }
  return [];
}

/** "manifest unknown: manifest unknown" as Docker prints a registry error. */
export function formatErrors(errors: RegistryErrorDetail[]): string {
  return errors.map((e) => `${e.code.toLowerCase().replace(/_/g, ' ')}: ${e.message || e.code.toLowerCase()}`).join('; ');
}

export function errorFromResponse(context: string, status: number, body: string): RegistryError {
  let errors = parseErrorBody(body);
  if (errors.length === 0 && STATUS_CODES[status]) errors = [{ code: STATUS_CODES[status]!, message: '' }];
  const text = errors.length > 0 ? formatErrors(errors) : `unexpected status ${status}${body ? `: ${body.slice(0, 200).trim()}` : ''}`;
  return new RegistryError(`${context}: ${text}`, status, errors, status >= 500 || status === 429 || status === 408);
}
