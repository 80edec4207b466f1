/**
 * How a worker finds the code of a remote function or class.
 *
 * By reference: `remote(fn)` records the URL of the module that called it and the ordinal of the
 * call within that module. A worker imports the module, whose top-level `remote()` calls register
 * the same functions under the same keys, and looks the function up (like a normal import).
 *
 * By value: code defined in the driver's entry script (importing it would re-run the program), in
 * a test file, or in `eval`ed code travels as its source text. Such code must be self-contained:
 * free variables are found when `remote()` is called and reported with a clear error, except
 * globals and the names of `@ray-ts/core`'s exports (and `ray`, the whole namespace), which the
 * worker provides.
 */
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { hostname } from 'node:os';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { freeVariablesOf, obviouslySelfContained } from './free-variables.js';
import { RemoteCodeError } from '../errors.js';
import { ensurePackage, packageOf } from './code-packages.js';
import { threadState } from './thread-state.js';

export type { FunctionRegistry } from './thread-state.js';

import type { FnDescriptor, FnRef } from '../protocol/values.js';
export type { FnDescriptor, FnRef } from '../protocol/values.js';

type AnyFunction = (...args: never[]) => unknown;

/** Core's compiled tree (dist/, holding dist/bundle/), or src/ when run from sources. */
const coreDir = path.dirname(fileURLToPath(new URL('.', import.meta.url)));
/** Library modules whose frames are skipped when looking for the user's call site. */
const libraryModules = new Set<string>();

/**
 * For libraries built on core: marks a library module (give its `import.meta.url`) as a wrapper
 * of user code, so `remote()` called in it on a user's class (Serve's `deployment()`, say)
 * registers the class at the user's call site, as if the user had called `remote()` there.
 * Only that module is skipped: the library's own `remote()` calls elsewhere are unaffected.
 */
export function markLibraryModule(moduleUrl: string): void {
  libraryModules.add(real(moduleUrl.startsWith('file://') ? fileURLToPath(moduleUrl) : moduleUrl));
}
let coreNamespace: Record<string, unknown> | undefined;

/** Called once by the package index so by-value code can use core's exports by name. */
export function setCoreNamespace(ns: Record<string, unknown>): void {
  coreNamespace = ns;
}

interface CallSite {
  file: string | undefined;
  line: number | undefined;
}

function callSite(): CallSite {
  const saved = Error.prepareStackTrace;
  const savedLimit = Error.stackTraceLimit;
  let frames: CallSite[] = [];
  try {
    Error.stackTraceLimit = 30;
    Error.prepareStackTrace = (_e, fs) =>
      fs.map((f) => ({ file: f.getFileName() ?? undefined, line: f.getLineNumber() ?? undefined }));
    const holder: { stack?: unknown } = {};
    Error.captureStackTrace(holder, callSite);
    frames = holder.stack as CallSite[];
  } finally {
    Error.prepareStackTrace = saved;
    Error.stackTraceLimit = savedLimit;
  }
  for (const f of frames) {
    if (f.file === undefined) return { file: undefined, line: undefined };
    const p = f.file.startsWith('file://') ? fileURLToPath(f.file) : f.file;
    if (p.startsWith('node:')) continue;
    if (path.isAbsolute(p) && (p.startsWith(coreDir + path.sep) || libraryModules.has(p))) continue;
    return { file: p, line: f.line };
  }
  return { file: undefined, line: undefined };
}

const sourceLines = new Map<string, string[] | undefined>();
/** `const square = remote((x) => ...)` names the task 'square', as Ray names tasks after functions. */
function nameFromSource(site: CallSite): string | undefined {
  if (!site.file || !site.line || !path.isAbsolute(site.file)) return undefined;
  let lines = sourceLines.get(site.file);
  if (!sourceLines.has(site.file)) {
    try {
      lines = readFileSync(site.file, 'utf8').split('\n');
    } catch {
      lines = undefined;
    }
    sourceLines.set(site.file, lines);
  }
  const text = lines?.[site.line - 1];
  const m = text && /([A-Za-z_$][\w$]*)\s*=\s*(?:[\w$.]+\.)?remote\s*[(<]/.exec(text);
  return m ? m[1] : undefined;
}

let entryScript: string | undefined | null = null;
function entry(): string | undefined {
  if (entryScript === null) {
    const a = process.argv[1];
    try {
      entryScript = a ? realpathSync(path.resolve(a)) : undefined;
    } catch {
      entryScript = a ? path.resolve(a) : undefined;
    }
  }
  return entryScript;
}

function real(p: string): string {
  try {
    return realpathSync(p);
  } catch {
    return p;
  }
}

const testFile = /\.(test|spec)\.[cm]?[jt]sx?$/;

/** True for `class X {}` (not for plain constructor functions). */
export function isClass(fn: unknown): boolean {
  return typeof fn === 'function' && /^class[\s{]/.test(Function.prototype.toString.call(fn));
}

/** A 64-bit FNV-1a hash of the descriptor (no crypto import: it costs start-up time in every worker). */
function hashOf(desc: FnDescriptor): string {
  const text = JSON.stringify(desc);
  let h1 = 0x811c9dc5;
  let h2 = 0xcbf29ce4;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 0x01000193) >>> 0;
    h2 = Math.imul(h2 ^ c, 0x01000193 ^ 0x5bd1e995) >>> 0;
  }
  return `fn_${h1.toString(16).padStart(8, '0')}${h2.toString(16).padStart(8, '0')}${text.length.toString(36)}`;
}

/**
 * Describes `fn` for workers and registers it in this thread. Throws {@link RemoteCodeError} when
 * `fn` must travel by value but refers to variables outside itself.
 */
export function describeFunction(fn: AnyFunction, cls: boolean): FnRef {
  const st = threadState();
  const site = callSite();
  const file = site.file;
  const name = fn.name || nameFromSource(site) || '<anonymous>';
  if (file && path.isAbsolute(file)) {
    // Register by position in every case: a worker importing this module finds it the same way.
    const realFile = real(file);
    const url = pathToFileURL(realFile).href;
    const n = st.registry.moduleCounters.get(url) ?? 0;
    st.registry.moduleCounters.set(url, n + 1);
    const key = `${url}#${n}`;
    st.registry.byKey.set(key, fn);
    const byValue = testFile.test(file) || (!st.isWorker && realFile === entry());
    if (!byValue) {
      const desc: FnDescriptor = { kind: 'module', url, key, name, isClass: cls };
      const pkg = packageOf(realFile);
      return pkg ? inPackage(desc, pkg) : { id: hashOf(desc), desc };
    }
  }
  const source = Function.prototype.toString.call(fn);
  const origin = file ?? '<eval>';
  if (!st.isWorker) checkSelfContained(source, name, origin, cls);
  const desc: FnDescriptor = { kind: 'source', source, name, isClass: cls, origin };
  return { id: hashOf(desc), desc };
}

/** `desc` as a module of a shipped package: its id does not depend on where the package lies on this host. */
function inPackage(desc: Extract<FnDescriptor, { kind: 'module' }>, pkg: { uri: string; path: string }): FnRef {
  const ordinal = desc.key.slice(desc.key.lastIndexOf('#') + 1);
  return {
    id: hashOf({ kind: 'module', url: '', key: `#${ordinal}`, name: desc.name, isClass: desc.isClass, pkg }),
    desc: { ...desc, pkg },
  };
}

const shippedRefs = new WeakMap<FnRef, FnRef>();

/**
 * The form of `ref` to send to workers: a function described before `init()` shipped its module's
 * folder (a driver's `remote()` calls at the top of its modules run before `init()`) is sent as a
 * module of that package, so every node loads it from its unpacked copy.
 */
export function shipRef(ref: FnRef): FnRef {
  const d = ref.desc;
  if (!d || d.kind !== 'module' || d.pkg || threadState().packageRoots.size === 0) return ref;
  let shipped = shippedRefs.get(ref);
  if (!shipped) {
    const pkg = d.url.startsWith('file:') ? packageOf(fileURLToPath(d.url)) : undefined;
    shipped = pkg ? inPackage(d, pkg) : ref;
    shippedRefs.set(ref, shipped);
  }
  return shipped;
}

/**
 * Describes a function given to a library (`given`: e.g. "map()") to travel by value, whatever
 * module defined it: a library cannot register it at a module position the way remote() does.
 */
export function describeByValue(fn: AnyFunction, cls: boolean, given: string): FnRef {
  const source = Function.prototype.toString.call(fn);
  const name = fn.name || '<anonymous>';
  if (!threadState().isWorker) checkSelfContained(source, name, given, cls, given);
  const desc: FnDescriptor = { kind: 'source', source, name, isClass: cls, origin: given };
  return { id: hashOf(desc), desc };
}

/** Names by-value code may use without defining them. */
let provided: Set<string> | undefined;
function providedNames(): Set<string> {
  if (provided && coreNamespace) return provided;
  const names = new Set<string>(Object.getOwnPropertyNames(globalThis));
  for (const n of ['arguments', 'undefined', 'NaN', 'Infinity', 'globalThis', 'require', '__name', 'ray']) names.add(n);
  if (coreNamespace) for (const k of Object.keys(coreNamespace)) names.add(k);
  provided = names;
  return names;
}

/** Free variables of a function's source that the worker will not provide. */
export function freeVariables(source: string): string[] {
  const provided = providedNames();
  if (obviouslySelfContained(source, provided)) return [];
  return freeVariablesOf(source).filter((n) => !provided.has(n));
}

function checkSelfContained(source: string, name: string, origin: string, cls: boolean, given?: string): void {
  if (/\{\s*\[native code\]\s*\}\s*$/.test(source)) {
    throw new RemoteCodeError(`Cannot send native function '${name}' to workers; wrap it in a function of your own.`);
  }
  let free: string[];
  try {
    free = freeVariables(source);
  } catch (err) {
    throw new RemoteCodeError(
      `Cannot send ${cls ? 'class' : 'function'} '${name}' to workers by value: its source could not be parsed ` +
        `(${(err as Error).message}). Define it in a module of its own and import it.`,
      { cause: err },
    );
  }
  if (free.length) {
    const list = free.map((f) => `'${f}'`).join(', ');
    if (given) {
      throw new RemoteCodeError(
        `The ${cls ? 'class' : 'function'} '${name}' given to ${given} runs in workers, where it arrives as its source text. ` +
          `It refers to ${list}, defined outside it, which a worker would not have. Move ${free.length > 1 ? 'them' : 'it'} inside, ` +
          `use await import() inside, or wrap it with remote() at the top level of a module and pass that (then it is loaded by reference).`,
      );
    }
    throw new RemoteCodeError(
      `${cls ? 'Class' : 'Function'} '${name}' is defined in ${path.basename(origin)}, which workers cannot import ` +
        `(it is the entry script, a test file or eval'd code), so it is sent by value, as its source text. ` +
        `It refers to ${list}, defined outside it, which a worker would not have. ` +
        `Move ${free.length > 1 ? 'them' : 'it'} inside the ${cls ? 'class' : 'function'}, pass ${free.length > 1 ? 'them' : 'it'} as arguments ` +
        `(remote functions and actor handles can be passed too), use await import() inside, ` +
        `or define the ${cls ? 'class' : 'function'} in a module of its own and import it (then it is loaded by reference).`,
    );
  }
}

let tsxRegistered: Promise<void> | undefined;
function ensureLoaderFor(url: string): Promise<void> {
  if (!/\.[cm]?tsx?$/.test(url)) return Promise.resolve();
  tsxRegistered ??= (async () => {
    try {
      const esm = (await import('tsx/esm/api')) as { register: () => unknown };
      esm.register();
      const cjs = (await import('tsx/cjs/api')) as { register: () => unknown };
      cjs.register();
    } catch (err) {
      throw new RemoteCodeError(
        `A worker needs tsx to load TypeScript module ${url}, and could not load it: ${(err as Error).message}. ` +
          `Install tsx (npm i -D tsx) or compile your code to JavaScript.`,
        { cause: err },
      );
    }
  })();
  return tsxRegistered;
}

function evaluateSource(desc: Extract<FnDescriptor, { kind: 'source' }>): AnyFunction {
  const ns = coreNamespace ?? {};
  const names = Object.keys(ns).filter((k) => /^[A-Za-z_$][\w$]*$/.test(k) && k !== 'default');
  const nameHelper = (target: unknown, value: string) =>
    Object.defineProperty(target as object, 'name', { value, configurable: true });
  const req = createRequire(path.isAbsolute(desc.origin) ? desc.origin : path.join(process.cwd(), 'by-value.js'));
  let body = `return (${desc.source});`;
  try {
    new Function(body);
  } catch {
    // Shorthand method source: wrap it in an object and take the method out.
    body = `const o = ({${desc.source}}); return o[Object.keys(o)[0]];`;
  }
  const factory = new Function(...names, 'ray', '__name', 'require', body) as (...a: unknown[]) => AnyFunction;
  return factory(...names.map((n) => ns[n]), ns, nameHelper, req);
}

let runtimeEnvReady: Promise<void> = Promise.resolve();

/** For a worker's start: code loads only once its runtime environment (shipped folders, working directory) is set up. */
export function setRuntimeEnvReady(ready: Promise<void>): void {
  runtimeEnvReady = ready;
  // Its failure is each load's error (awaited there), not an unhandled rejection of the worker.
  ready.catch(() => undefined);
}

function importFailed(url: string, name: string, err: unknown): RemoteCodeError {
  const file = url.startsWith('file:') ? fileURLToPath(url) : undefined;
  if (file && !existsSync(file)) {
    const node = threadState().client?.nodeId ?? 'this node';
    return new RemoteCodeError(
      `Module ${file}, which defines '${name}', is not on node ${node} (host ${hostname()}): your own modules reach ` +
        `other hosts only in a shipped folder. Ship your app's folder with init({ runtimeEnv: { workingDir: '<app folder>' } }) ` +
        `(and modules: ['<folder>'] for folders of modules beside it), or install the code at the same path on every node.`,
      { cause: err },
    );
  }
  return new RemoteCodeError(`A worker could not import ${url} to load '${name}': ${(err as Error).message}`, {
    cause: err,
  });
}

/** The function `ref` names if this worker has loaded it already (the fast path). */
export function loadedFunction(ref: FnRef): AnyFunction | undefined {
  return threadState().registry.byId.get(ref.id);
}

const loading = new Map<string, Promise<AnyFunction>>();

/**
 * Loads (and caches) the function or class that `ref` names, in a worker. Concurrent loads of one
 * function share one import: only the first message about a function carries its descriptor.
 */
export function loadFunction(ref: FnRef): Promise<AnyFunction> {
  const cached = threadState().registry.byId.get(ref.id);
  if (cached) return Promise.resolve(cached);
  let p = loading.get(ref.id);
  if (!p) {
    p = load(ref);
    loading.set(ref.id, p);
  }
  return p;
}

async function load(ref: FnRef): Promise<AnyFunction> {
  const reg = threadState().registry;
  const desc = ref.desc;
  if (!desc) throw new RemoteCodeError(`Worker has no code for function ${ref.id}; this is a bug in ray-ts.`);
  let fn: AnyFunction | undefined;
  await runtimeEnvReady;
  if (desc.kind === 'module') {
    let { url, key } = desc;
    if (desc.pkg) {
      // Where this node unpacked the package; the module registers its remote() calls under that URL.
      const root = await ensurePackage(desc.pkg.uri);
      url = pathToFileURL(path.join(root, ...desc.pkg.path.split('/'))).href;
      key = `${url}${desc.key.slice(desc.key.lastIndexOf('#'))}`;
    }
    await ensureLoaderFor(url);
    try {
      await import(url);
    } catch (err) {
      throw importFailed(url, desc.name, err);
    }
    fn = reg.byKey.get(key);
    if (!fn || (fn.name && fn.name !== desc.name)) {
      throw new RemoteCodeError(
        `A worker imported ${desc.url} but found no remote() call for '${desc.name}' at the same place ` +
          `(${desc.key.split('#')[1]}th remote() call of the module). Call remote() at the top level of the ` +
          `module, in the same order every time it is imported.`,
      );
    }
  } else {
    try {
      fn = evaluateSource(desc);
    } catch (err) {
      throw new RemoteCodeError(`A worker could not evaluate the source of '${desc.name}': ${(err as Error).message}`, {
        cause: err,
      });
    }
  }
  reg.byId.set(ref.id, fn);
  return fn;
}
