/**
 * Errors of @ray-ts/data. All derive from core's `RayError`, so one `instanceof RayError` catches
 * every ray-ts failure.
 */
import { RayError } from '@ray-ts/core';

/** Thrown when a Data API call gets an invalid argument or option (bad batch size, unknown column...). */
export class DataInvalidArgumentError extends RayError {
  override readonly name: string = 'DataInvalidArgumentError';
}

/**
 * Thrown when reading or writing files fails: a path that matches nothing, a file that cannot be
 * parsed, a directory that cannot be written. `path` names the file.
 */
export class DatasourceError extends RayError {
  override readonly name: string = 'DatasourceError';
  /** The file or pattern at fault. */
  readonly path: string;
  constructor(message: string, path: string, options: { cause?: unknown } = {}) {
    super(message, options);
    this.path = path;
  }
}

/**
 * Thrown when a user function given to a Dataset operator (`map`, `mapBatches`, `filter`...)
 * throws. The message names the operator and the row or batch; `cause` is the user's error.
 */
export class UserFunctionError extends RayError {
  override readonly name: string = 'UserFunctionError';
  /** The operator, e.g. `mapBatches(normalize)`. */
  readonly operator: string;
  constructor(message: string, operator: string, options: { cause?: unknown } = {}) {
    super(message, options);
    this.operator = operator;
  }
}

/** Thrown when datasets do not fit together: a union of different columns, a zip of different row counts. */
export class SchemaError extends RayError {
  override readonly name: string = 'SchemaError';
}

/** A Data error rebuilt on the driver from one thrown in a worker (undefined for other errors). */
export function dataErrorFrom(name: string, message: string, operator: string, cause: unknown): RayError | undefined {
  switch (name) {
    case 'UserFunctionError': {
      // The TaskError's cause is the worker's UserFunctionError, whose cause is the user's error.
      const userError = (cause as { cause?: { cause?: unknown } }).cause?.cause;
      return new UserFunctionError(message, operator, { cause: userError ?? cause });
    }
    case 'DataInvalidArgumentError':
      return new DataInvalidArgumentError(message, { cause });
    case 'DatasourceError':
      return new DatasourceError(message, (cause as { cause?: { path?: string } }).cause?.path ?? '', { cause });
    case 'SchemaError':
      return new SchemaError(message, { cause });
  }
  return undefined;
}
