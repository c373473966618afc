/** The one error shape of every REST operation, and of MCP tool errors: {statusCode, error, code, message}. */
export class ErrorResponse {
  /** HTTP status code, repeated in the body. */
  statusCode: number;
  /** HTTP reason phrase, e.g. "Not Found". */
  error: string;
  /** Stable machine-readable code, e.g. HOST_NOT_FOUND. */
  code: string;
  /** One sentence saying what went wrong and what to do. */
  message: string;
}
