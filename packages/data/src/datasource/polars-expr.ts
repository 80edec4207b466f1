/**
 * Column expressions ({@link ExprNode}) evaluated by Polars: the translation to `pl.Expr`, used to
 * push filters down into file scans, and {@link filterIpc} to filter a block.
 */
import pl from 'nodejs-polars';
import { DataInvalidArgumentError } from '../errors.js';
import { columnsOf, exprToString, type ExprNode } from '../expr.js';
import { blockToDataFrame, dataFrameToBlocks } from './blocks.js';

/**
 * Translates an expression tree to a Polars expression.
 *
 * Integer literals (safe integers) become Int64 literals so that comparisons against integer
 * columns stay exact and do not cast the column (which would also defeat Parquet statistics);
 * other numbers are Float64. `div` is true division, as in JS (its result is a Float64, even for
 * two integers; Polars alone would divide integers to an integer).
 *
 * @throws DataInvalidArgumentError on a malformed node (unknown op, mixed-type `isIn` list).
 */
export function toPolarsExpr(node: ExprNode): pl.Expr {
  switch (node.op) {
    case 'col':
      return pl.col(node.name);
    case 'lit':
      return literal(node.value);
    case 'eq':
      return toPolarsExpr(node.args[0]).eq(toPolarsExpr(node.args[1]));
    case 'ne':
      return toPolarsExpr(node.args[0]).neq(toPolarsExpr(node.args[1]));
    case 'lt':
      return toPolarsExpr(node.args[0]).lt(toPolarsExpr(node.args[1]));
    case 'le':
      return toPolarsExpr(node.args[0]).ltEq(toPolarsExpr(node.args[1]));
    case 'gt':
      return toPolarsExpr(node.args[0]).gt(toPolarsExpr(node.args[1]));
    case 'ge':
      return toPolarsExpr(node.args[0]).gtEq(toPolarsExpr(node.args[1]));
    case 'and':
      return toPolarsExpr(node.args[0]).and(toPolarsExpr(node.args[1]));
    case 'or':
      return toPolarsExpr(node.args[0]).or(toPolarsExpr(node.args[1]));
    case 'add':
      return toPolarsExpr(node.args[0]).plus(toPolarsExpr(node.args[1]));
    case 'sub':
      return toPolarsExpr(node.args[0]).minus(toPolarsExpr(node.args[1]));
    case 'mul':
      return toPolarsExpr(node.args[0]).multiplyBy(toPolarsExpr(node.args[1]));
    case 'div':
      // Polars' `div` on two integer columns is integer division; JS `/` is true division.
      return toPolarsExpr(node.args[0]).cast(pl.Float64).divideBy(toPolarsExpr(node.args[1]));
    case 'not':
      return toPolarsExpr(node.args[0]).not();
    case 'isNull':
      return toPolarsExpr(node.args[0]).isNull();
    case 'isNotNull':
      return toPolarsExpr(node.args[0]).isNotNull();
    case 'isIn': {
      const kinds = new Set(node.values.map((v) => typeof v));
      if (kinds.size > 1) {
        throw new DataInvalidArgumentError(
          `isIn(${JSON.stringify(node.values)}) mixes ${[...kinds].join(' and ')} values; pass values of one type.`,
        );
      }
      return toPolarsExpr(node.args[0]).isIn([...node.values]);
    }
    default:
      throw new DataInvalidArgumentError(
        `Unknown expression op ${JSON.stringify((node as { op: unknown }).op)}: build expressions with col() and lit().`,
      );
  }
}

function literal(value: number | string | boolean | null): pl.Expr {
  if (typeof value === 'number' && Number.isSafeInteger(value)) return pl.lit(value).cast(pl.Int64);
  return pl.lit(value);
}

/**
 * Checks that every column an expression reads is one of `available`.
 *
 * @param where what is being filtered, for the message (e.g. `the block`, `file /data/a.csv`).
 * @returns the first missing column, or undefined when all are there.
 */
export function missingColumn(node: ExprNode, available: readonly string[]): string | undefined {
  const have = new Set(available);
  return [...columnsOf(node)].find((c) => !have.has(c));
}

/**
 * Filters a block (Arrow IPC file bytes) with Polars, keeping the rows where the expression is
 * true (null counts as false), and returns the new block. The empty block (zero bytes) is
 * returned as is.
 *
 * @throws DataInvalidArgumentError when the expression reads a column the block lacks (the
 *   message lists the block's columns) or cannot be evaluated on it (e.g. not a boolean).
 */
export function filterIpc(bytes: Uint8Array, node: ExprNode): Uint8Array {
  if (bytes.byteLength === 0) return bytes; // the empty block: nothing to filter
  const df = blockToDataFrame(bytes);
  const missing = missingColumn(node, df.columns);
  if (missing !== undefined) {
    throw new DataInvalidArgumentError(
      `filter(${exprToString(node)}): unknown column ${JSON.stringify(missing)}. Available columns: ${formatColumns(df.columns)}.`,
    );
  }
  let filtered: pl.DataFrame;
  try {
    filtered = df.lazy().filter(toPolarsExpr(node)).collectSync();
  } catch (cause) {
    if (cause instanceof DataInvalidArgumentError) throw cause;
    throw new DataInvalidArgumentError(
      `filter(${exprToString(node)}) cannot be evaluated: ${firstLine(cause)}. The expression must be a boolean condition on columns ${formatColumns(df.columns)}.`,
      { cause },
    );
  }
  return dataFrameToBlocks(filtered)[0];
}

/** `["a", "b"]`, or `(none)`. */
export function formatColumns(columns: readonly string[]): string {
  return columns.length === 0 ? '(none)' : columns.map((c) => JSON.stringify(c)).join(', ');
}

/** The first line of an error's message (Polars appends the whole query plan). */
export function firstLine(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return message.split('\n')[0].trim();
}
