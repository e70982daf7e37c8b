// Small helpers shared by the supervisor's stores.

/** SQLite reports a broken UNIQUE/PRIMARY KEY/FOREIGN KEY as a constraint error. */
export function isConstraintError(err: unknown): boolean {
  const e = err as { code?: string; errcode?: number; message?: string };
  return e?.code === 'ERR_SQLITE_ERROR' && ((e.errcode ?? 0) & 0xff) === 19;
}

export function parseJson<T = Record<string, string>>(text: string): T {
  return JSON.parse(text) as T;
}
