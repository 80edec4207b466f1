/**
 * Column expressions: a small, serializable expression tree. Used by `filter(expr)` on datasets and
 * pushed down into Parquet reads (`readParquet(path, { filter })`), where the reader skips what
 * does not match. Built with {@link col} and {@link lit}:
 *
 * @example
 * readParquet('data/', { filter: col('category').lt(10).and(col('x').gt(0.5)) })
 */

/** The serializable form of an expression (what crosses to workers). */
export type ExprNode =
  | { readonly op: 'col'; readonly name: string }
  | { readonly op: 'lit'; readonly value: number | string | boolean | null }
  | {
      readonly op: 'eq' | 'ne' | 'lt' | 'le' | 'gt' | 'ge' | 'and' | 'or' | 'add' | 'sub' | 'mul' | 'div';
      readonly args: readonly [ExprNode, ExprNode];
    }
  | { readonly op: 'not' | 'isNull' | 'isNotNull'; readonly args: readonly [ExprNode] }
  | {
      readonly op: 'isIn';
      readonly args: readonly [ExprNode];
      readonly values: readonly (number | string | boolean)[];
    };

type Operand = Expr | number | string | boolean | null;

/** A column expression. Immutable: every method returns a new expression. */
export class Expr {
  /** @internal */
  constructor(readonly node: ExprNode) {}

  private bin(
    op: 'eq' | 'ne' | 'lt' | 'le' | 'gt' | 'ge' | 'and' | 'or' | 'add' | 'sub' | 'mul' | 'div',
    other: Operand,
  ): Expr {
    return new Expr({ op, args: [this.node, toNode(other)] });
  }
  eq(other: Operand): Expr {
    return this.bin('eq', other);
  }
  ne(other: Operand): Expr {
    return this.bin('ne', other);
  }
  lt(other: Operand): Expr {
    return this.bin('lt', other);
  }
  le(other: Operand): Expr {
    return this.bin('le', other);
  }
  gt(other: Operand): Expr {
    return this.bin('gt', other);
  }
  ge(other: Operand): Expr {
    return this.bin('ge', other);
  }
  and(other: Expr): Expr {
    return this.bin('and', other);
  }
  or(other: Expr): Expr {
    return this.bin('or', other);
  }
  add(other: Operand): Expr {
    return this.bin('add', other);
  }
  sub(other: Operand): Expr {
    return this.bin('sub', other);
  }
  mul(other: Operand): Expr {
    return this.bin('mul', other);
  }
  div(other: Operand): Expr {
    return this.bin('div', other);
  }
  not(): Expr {
    return new Expr({ op: 'not', args: [this.node] });
  }
  isNull(): Expr {
    return new Expr({ op: 'isNull', args: [this.node] });
  }
  isNotNull(): Expr {
    return new Expr({ op: 'isNotNull', args: [this.node] });
  }
  isIn(values: readonly (number | string | boolean)[]): Expr {
    return new Expr({ op: 'isIn', args: [this.node], values: [...values] });
  }
  /** The columns this expression reads. */
  columns(): string[] {
    return [...columnsOf(this.node)];
  }
  toString(): string {
    return exprToString(this.node);
  }
}

/** A column of the dataset, by name. */
export function col(name: string): Expr {
  return new Expr({ op: 'col', name });
}

/** A constant. */
export function lit(value: number | string | boolean | null): Expr {
  return new Expr({ op: 'lit', value });
}

function toNode(v: Operand): ExprNode {
  return v instanceof Expr ? v.node : { op: 'lit', value: v };
}

/** The columns an expression reads. */
export function columnsOf(node: ExprNode, out = new Set<string>()): Set<string> {
  if (node.op === 'col') out.add(node.name);
  else if ('args' in node) for (const a of node.args) columnsOf(a, out);
  return out;
}

const SYMBOLS: Record<string, string> = {
  eq: '==',
  ne: '!=',
  lt: '<',
  le: '<=',
  gt: '>',
  ge: '>=',
  and: '&&',
  or: '||',
  add: '+',
  sub: '-',
  mul: '*',
  div: '/',
};

/** A readable form, for plans and errors: `(col(x) < 10)`. */
export function exprToString(node: ExprNode): string {
  switch (node.op) {
    case 'col':
      return `col(${node.name})`;
    case 'lit':
      return JSON.stringify(node.value);
    case 'not':
      return `!${exprToString(node.args[0])}`;
    case 'isNull':
    case 'isNotNull':
      return `${exprToString(node.args[0])}.${node.op}()`;
    case 'isIn':
      return `${exprToString(node.args[0])}.isIn(${JSON.stringify(node.values)})`;
    default:
      return `(${exprToString(node.args[0])} ${SYMBOLS[node.op]} ${exprToString(node.args[1])})`;
  }
}
