// Errors as Docker's API reports them: an HTTP status and {"message": "..."}.
export class ApiError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

export const badRequest = (msg: string): ApiError => new ApiError(400, msg);
export const forbidden = (msg: string): ApiError => new ApiError(403, msg);
export const notFound = (msg: string): ApiError => new ApiError(404, msg);
export const conflict = (msg: string): ApiError => new ApiError(409, msg);
export const notImplemented = (msg: string): ApiError => new ApiError(501, msg);
export const serverError = (msg: string): ApiError => new ApiError(500, msg);
