// Errors of the network library carry the HTTP status Docker answers with,
// so the engine maps them without a table.
export class NetworkError extends Error {
  readonly statusCode: number;
  constructor(statusCode: number, message: string) { super(message); this.statusCode = statusCode; }
}
export class NetworkInputError extends NetworkError { constructor(m: string) { super(400, m); } }
export class NetworkNotFoundError extends NetworkError { constructor(m: string) { super(404, m); } }
export class NetworkConflictError extends NetworkError { constructor(m: string) { super(409, m); } }
export class NetworkForbiddenError extends NetworkError { constructor(m: string) { super(403, m); } }
