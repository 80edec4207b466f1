/**
 * Free variables of a function's source text: the names it uses but does not declare. Parsed with
 * acorn (loaded on first use, so workers and by-reference code never pay for it) and resolved with
 * a small scope walker; references are resolved after the walk, so hoisting needs no special case.
 */
import { createRequire } from 'node:module';

interface Node {
  type: string;
  [key: string]: unknown;
}

interface Scope {
  readonly names: Set<string>;
  readonly parent: Scope | undefined;
  /** The scope `var` and function declarations land in. */
  readonly fn: Scope;
}

type Acorn = { parse(src: string, opts: Record<string, unknown>): Node };
let acorn: Acorn | undefined;

function parse(source: string): Node {
  acorn ??= createRequire(import.meta.url)('acorn') as Acorn;
  const opts = { ecmaVersion: 'latest', sourceType: 'script', allowAwaitOutsideFunction: true };
  try {
    return acorn.parse(`(${source})`, opts);
  } catch {
    // A method written in shorthand (`name(a) { ... }`) only parses inside an object literal.
    return acorn.parse(`({${source}})`, opts);
  }
}

function newScope(parent: Scope | undefined, isFunction: boolean): Scope {
  const s = { names: new Set<string>(), parent, fn: undefined as unknown as Scope };
  (s as { fn: Scope }).fn = isFunction || !parent ? s : parent.fn;
  return s;
}

const keywords = new Set(
  (
    'break case catch class const continue debugger default delete do else export extends false finally for ' +
    'function if import in instanceof new null return super switch this throw true try typeof var void while ' +
    'with yield let static async await of get set undefined arguments'
  ).split(' '),
);

/**
 * A quick check that avoids parsing in the common case: true when every identifier in `source` is
 * a keyword, a name in `known`, or a name the source itself declares somewhere (`const x`,
 * parameters). Conservative: anything it cannot read that simply (strings with `${`, regex
 * literals, `name:` that may be a ternary) sends the source to the full parser.
 */
export function obviouslySelfContained(source: string, known: ReadonlySet<string>): boolean {
  if (source.includes('${') || source.includes('/*') || /[^\w$)\]\s]\s*\/[^/*=]/.test(source)) return false;
  const code = source
    .replace(/\/\/[^\n]*/g, ' ')
    .replace(/'(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*"|`(?:[^`\\]|\\.)*`/g, ' 0 ');
  const declared = new Set<string>();
  for (const m of code.matchAll(/\b(?:const|let|var|function|class)\s+([A-Za-z_$][\w$]*)/g)) declared.add(m[1]);
  // Parameter lists: `(a, b = 1) =>`, `function f(a, b) {`, `name(a, b) {` (simple names only).
  for (const m of code.matchAll(/\(([\w$\s,=.\d]*)\)\s*(?:=>|\{)/g)) {
    for (const p of m[1].split(',')) {
      const name = p.split('=')[0].trim();
      if (/^[A-Za-z_$][\w$]*$/.test(name)) declared.add(name);
    }
  }
  for (const m of code.matchAll(/(?:^|[^\w$.])([A-Za-z_$][\w$]*)\s*=>/g)) declared.add(m[1]);
  for (const m of code.matchAll(/(^|[^\w$.])([A-Za-z_$][\w$]*)(?=(\s*:)?)/g)) {
    const name = m[2];
    if (keywords.has(name) || known.has(name) || declared.has(name)) continue;
    return false;
  }
  // Object keys and labels (`name:`) are fine only if known; otherwise the parser decides.
  return (
    !/[{,]\s*[A-Za-z_$][\w$]*\s*:/.test(code) ||
    [...code.matchAll(/[{,?]\s*([A-Za-z_$][\w$]*)\s*:/g)].every(
      (m) => keywords.has(m[1]) || known.has(m[1]) || declared.has(m[1]),
    )
  );
}

/** Returns the names `source` (a function or class) uses without declaring them. */
export function freeVariablesOf(source: string): string[] {
  const root = newScope(undefined, true);
  const refs: [string, Scope][] = [];

  const declare = (pattern: Node | null | undefined, scope: Scope, walkDefaults: Scope): void => {
    if (!pattern) return;
    switch (pattern.type) {
      case 'Identifier':
        scope.names.add(pattern.name as string);
        break;
      case 'ObjectPattern':
        for (const p of pattern.properties as Node[]) {
          if (p.type === 'RestElement') declare(p.argument as Node, scope, walkDefaults);
          else {
            if (p.computed) walk(p.key as Node, walkDefaults);
            declare(p.value as Node, scope, walkDefaults);
          }
        }
        break;
      case 'ArrayPattern':
        for (const e of pattern.elements as (Node | null)[]) declare(e, scope, walkDefaults);
        break;
      case 'AssignmentPattern':
        declare(pattern.left as Node, scope, walkDefaults);
        walk(pattern.right as Node, walkDefaults);
        break;
      case 'RestElement':
        declare(pattern.argument as Node, scope, walkDefaults);
        break;
      default:
        walk(pattern, walkDefaults); // e.g. a member expression as an assignment target
    }
  };

  const fnLike = (node: Node, scope: Scope): void => {
    const inner = newScope(scope, true);
    if (node.type === 'FunctionExpression' && node.id) inner.names.add((node.id as Node).name as string);
    for (const p of node.params as Node[]) declare(p, inner, inner);
    const body = node.body as Node;
    if (body.type === 'BlockStatement') for (const st of body.body as Node[]) walk(st, inner);
    else walk(body, inner);
  };

  const walk = (node: Node | null | undefined, scope: Scope): void => {
    if (!node || typeof node.type !== 'string') return;
    switch (node.type) {
      case 'Identifier':
        refs.push([node.name as string, scope]);
        return;
      case 'VariableDeclaration':
        for (const d of node.declarations as Node[]) {
          declare(d.id as Node, node.kind === 'var' ? scope.fn : scope, scope);
          walk(d.init as Node, scope);
        }
        return;
      case 'FunctionDeclaration':
        if (node.id) scope.fn.names.add((node.id as Node).name as string);
        fnLike(node, scope);
        return;
      case 'FunctionExpression':
      case 'ArrowFunctionExpression':
        fnLike(node, scope);
        return;
      case 'ClassDeclaration':
      case 'ClassExpression': {
        if (node.type === 'ClassDeclaration' && node.id) scope.names.add((node.id as Node).name as string);
        const inner = newScope(scope, false);
        if (node.id) inner.names.add((node.id as Node).name as string);
        walk(node.superClass as Node, scope);
        walk(node.body as Node, inner);
        return;
      }
      case 'MethodDefinition':
      case 'PropertyDefinition':
      case 'Property':
        if (node.computed) walk(node.key as Node, scope);
        walk(node.value as Node, scope);
        return;
      case 'MemberExpression':
        walk(node.object as Node, scope);
        if (node.computed) walk(node.property as Node, scope);
        return;
      case 'BlockStatement':
      case 'StaticBlock': {
        const inner = newScope(scope, node.type === 'StaticBlock');
        for (const st of node.body as Node[]) walk(st, inner);
        return;
      }
      case 'ForStatement':
      case 'ForInStatement':
      case 'ForOfStatement': {
        const inner = newScope(scope, false);
        for (const key of ['init', 'left', 'test', 'update', 'right', 'body']) walk(node[key] as Node, inner);
        return;
      }
      case 'CatchClause': {
        const inner = newScope(scope, false);
        declare(node.param as Node, inner, inner);
        walk(node.body as Node, inner);
        return;
      }
      case 'LabeledStatement':
        walk(node.body as Node, scope);
        return;
      case 'BreakStatement':
      case 'ContinueStatement':
      case 'MetaProperty':
      case 'ThisExpression':
      case 'Super':
      case 'Literal':
        return;
      default:
        for (const key of Object.keys(node)) {
          if (key === 'type' || key === 'start' || key === 'end' || key === 'loc') continue;
          const child = node[key];
          if (Array.isArray(child)) for (const c of child) walk(c as Node, scope);
          else if (child && typeof child === 'object') walk(child as Node, scope);
        }
    }
  };

  walk(parse(source), root);
  const free = new Set<string>();
  for (const [name, scope] of refs) {
    let s: Scope | undefined = scope;
    while (s && !s.names.has(name)) s = s.parent;
    if (!s) free.add(name);
  }
  return [...free];
}
