// One error type for everything the runtime refuses or fails at: the CLI
// prints its message as one line (and as JSON to --log) and exits non-zero.
export class RuntimeError extends Error {
  override name = 'RuntimeError';
}

/** Thrown for a config.json that does not validate: the message names the field. */
export class ConfigError extends RuntimeError {
  override name = 'ConfigError';
}
