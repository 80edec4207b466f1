/**
 * The cluster token (as Ray's `RAY_AUTH_MODE=token`): which token a process requires of callers
 * (a head) or presents to the cluster (nodes, drivers, the CLI), where it is found, and how a
 * presented one is checked. The rule, one place for every process:
 * - `RAY_TS_AUTH_MODE=disabled`: no token anywhere;
 * - else `RAY_TS_AUTH_TOKEN` from the environment (how processes on other hosts get it);
 * - else, a head only, the file given with `--auth-token-file`;
 * - else the token file of the session directory (`auth_token`, mode 0600, in a directory of
 *   mode 0700), which a head makes when there is none, so that every cluster of one machine and
 *   user shares it, as Ray shares `~/.ray/auth_token`.
 * Messages name what to set, never the token.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { AuthenticationError } from '../errors.js';
import { ensureSessionDir, sessionDir as defaultSessionDir } from '../runtime/session-dir.js';
import { loadConfig } from '../config.js';
import { loadTls, tlsEnv, type ClusterTls } from './tls.js';

/** The environment variable that carries the token (processes on other hosts, job drivers). */
export const AUTH_TOKEN_ENV = 'RAY_TS_AUTH_TOKEN';
/** The environment variable of the mode (config.ts's `authMode`). */
export const AUTH_MODE_ENV = 'RAY_TS_AUTH_MODE';
/** The token file's name in the session directory. */
export const TOKEN_FILE_NAME = 'auth_token';

/**
 * What a process requires of its callers and presents to the cluster: a token (and where it came
 * from, for messages), authentication turned off, or (a client only) no token found, in which
 * case it presents none and a cluster that requires one says so. With `tls` (`RAY_TS_USE_TLS`,
 * tls.ts), every gRPC server and client of the process uses mutual TLS with it, besides the token.
 */
export type ClusterAuth = (
  | { readonly kind: 'token'; readonly token: string; readonly from: string }
  | { readonly kind: 'disabled' }
  | { readonly kind: 'none'; readonly looked: string }
) & { readonly tls?: ClusterTls };

/**
 * Where a token (and the TLS settings) are looked for (defaults: the config's mode, `process.env`,
 * the session directory).
 */
export interface AuthSources {
  readonly mode?: 'token' | 'disabled';
  readonly env?: NodeJS.ProcessEnv;
  readonly sessionDir?: string;
  /** A head: `--auth-token-file`, read when the environment has no token. */
  readonly tokenFile?: string;
}

/** The token file of a session directory. */
export function tokenFilePath(dir: string = defaultSessionDir()): string {
  return path.join(dir, TOKEN_FILE_NAME);
}

/** A token as it may travel in a header: visible ASCII, no spaces, at most 4 KiB. */
function checkedToken(raw: string, from: string): string {
  const token = raw.trim();
  if (!token) throw new AuthenticationError(`The cluster token in ${from} is empty: put a token there, or unset it.`);
  if (token.length > 4096 || !/^[\x21-\x7e]+$/.test(token))
    throw new AuthenticationError(
      `The cluster token in ${from} is not usable: a token is 1 to 4096 visible ASCII characters without spaces ` +
        `(make one with 'ray-ts get-auth-token --generate', or 'openssl rand -hex 32').`,
    );
  return token;
}

const uid = () => process.getuid?.();

/** Reads a token file (undefined: there is none); refuses one that another user owns. */
function readTokenFile(file: string, own: boolean): string | undefined {
  let st: fs.Stats;
  try {
    st = fs.statSync(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new AuthenticationError(`Cannot read the cluster token file ${file}: ${(err as Error).message}`);
  }
  if (!st.isFile()) throw new AuthenticationError(`The cluster token file ${file} is not a file.`);
  if (own && uid() !== undefined && st.uid !== uid())
    throw new AuthenticationError(
      `The cluster token file ${file} belongs to another user (uid ${st.uid}): remove it, or set RAY_TS_SESSION_DIR to a directory of your own.`,
    );
  // Ours and readable by others (copied by hand): closed again.
  if (own && (st.mode & 0o077) !== 0) fs.chmodSync(file, 0o600);
  try {
    return checkedToken(fs.readFileSync(file, 'utf8'), file);
  } catch (err) {
    if (err instanceof AuthenticationError) throw err;
    throw new AuthenticationError(`Cannot read the cluster token file ${file}: ${(err as Error).message}`);
  }
}

/**
 * The token of the session directory `dir`, made there (random, 256 bits, mode 0600) when there
 * is none. Two heads starting at once agree: the file is published with a hard link, which only
 * the first makes; the other reads it.
 */
export function sessionToken(dir: string = defaultSessionDir()): string {
  ensureSessionDir(dir);
  const file = tokenFilePath(dir);
  const found = readTokenFile(file, true);
  if (found) return found;
  const tmp = `${file}.${process.pid}.${crypto.randomBytes(4).toString('hex')}.tmp`;
  fs.writeFileSync(tmp, crypto.randomBytes(32).toString('hex') + '\n', { mode: 0o600, flag: 'wx' });
  try {
    fs.linkSync(tmp, file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  } finally {
    fs.rmSync(tmp, { force: true });
  }
  return readTokenFile(file, true)!;
}

/** `auth` with the TLS settings of `src`'s environment, when it turns TLS on (tls.ts's loadTls). */
function withTls(auth: ClusterAuth, src: AuthSources): ClusterAuth {
  const tls = loadTls(src.env ?? process.env);
  return tls ? { ...auth, tls } : auth;
}

const modeOf = (src: AuthSources) => src.mode ?? loadConfig().authMode;
const envToken = (env: NodeJS.ProcessEnv) => (env[AUTH_TOKEN_ENV] ? env[AUTH_TOKEN_ENV] : undefined);

/**
 * What a head requires: the mode's answer, else `RAY_TS_AUTH_TOKEN`, else `tokenFile`
 * (`--auth-token-file`, which must hold one), else the session directory's token, made there if
 * missing; and the TLS settings of the environment. Throws AuthenticationError when a configured
 * source cannot be used (never falls back to running open), TlsError when the TLS settings cannot.
 */
export function headAuth(src: AuthSources = {}): ClusterAuth {
  return withTls(headToken(src), src);
}

function headToken(src: AuthSources): ClusterAuth {
  if (modeOf(src) === 'disabled') return { kind: 'disabled' };
  const env = envToken(src.env ?? process.env);
  if (env) return { kind: 'token', token: checkedToken(env, AUTH_TOKEN_ENV), from: AUTH_TOKEN_ENV };
  if (src.tokenFile) {
    const t = readTokenFile(src.tokenFile, false);
    if (!t) throw new AuthenticationError(`--auth-token-file ${src.tokenFile}: no such file.`);
    return { kind: 'token', token: t, from: src.tokenFile };
  }
  const dir = src.sessionDir ?? defaultSessionDir();
  return { kind: 'token', token: sessionToken(dir), from: tokenFilePath(dir) };
}

/**
 * What a node, driver or command line presents: the mode's answer, else `RAY_TS_AUTH_TOKEN`,
 * else the session directory's token file; `none` when neither is there (nothing is made: a
 * cluster that requires a token refuses with a message that says what to set); and the TLS
 * settings of the environment (TlsError when they cannot be used).
 */
export function clientAuth(src: AuthSources = {}): ClusterAuth {
  return withTls(clientToken(src), src);
}

function clientToken(src: AuthSources): ClusterAuth {
  if (modeOf(src) === 'disabled') return { kind: 'disabled' };
  const env = envToken(src.env ?? process.env);
  if (env) return { kind: 'token', token: checkedToken(env, AUTH_TOKEN_ENV), from: AUTH_TOKEN_ENV };
  const file = tokenFilePath(src.sessionDir ?? defaultSessionDir());
  const t = readTokenFile(file, true);
  return t ? { kind: 'token', token: t, from: file } : { kind: 'none', looked: `${AUTH_TOKEN_ENV} and ${file}` };
}

/** The HTTP headers that carry `auth` (none unless it has a token). */
export function authHeaders(auth: ClusterAuth): Record<string, string> {
  return auth.kind === 'token' ? { authorization: `Bearer ${auth.token}` } : {};
}

/** The environment that gives a child process (a job's driver, a node) the same authentication and TLS. */
export function authEnv(auth: ClusterAuth): Record<string, string> {
  const tls = tlsEnv(auth.tls);
  if (auth.kind === 'token') return { [AUTH_TOKEN_ENV]: auth.token, ...tls };
  return auth.kind === 'disabled' ? { [AUTH_MODE_ENV]: 'disabled', ...tls } : tls;
}

/** What a presented `authorization` value is worth: the cluster's token, none, or another one. */
export type BearerCheck = 'ok' | 'missing' | 'wrong';

const digests = new WeakMap<ClusterAuth, Buffer>();
const sha256 = (s: string) => crypto.createHash('sha256').update(s).digest();

/**
 * Checks an `authorization` value (`Bearer <token>`) against what `auth` requires, in constant
 * time (digests of equal length compared with `timingSafeEqual`). Everything passes when `auth`
 * holds no token.
 */
export function checkBearer(auth: ClusterAuth, header: string | undefined): BearerCheck {
  if (auth.kind !== 'token') return 'ok';
  const m = header ? /^\s*bearer\s+(\S+)\s*$/i.exec(header) : null;
  if (!m) return 'missing';
  let expected = digests.get(auth);
  if (!expected) digests.set(auth, (expected = sha256(auth.token)));
  return crypto.timingSafeEqual(sha256(m[1]), expected) ? 'ok' : 'wrong';
}

const howToSet =
  `set ${AUTH_TOKEN_ENV} to the cluster's token ('ray-ts get-auth-token' on the head's machine prints it; ` +
  `processes on that machine find it in the session directory by themselves). HTTP clients send it as ` +
  `'Authorization: Bearer <token>' (Ray's job client: RAY_AUTH_MODE=token and RAY_AUTH_TOKEN)`;

/** Why a call was refused, and what to set (the same words for gRPC and HTTP). */
export function refusalMessage(check: Exclude<BearerCheck, 'ok'>): string {
  return check === 'missing'
    ? `this ray-ts cluster requires its token and the request carried none: ${howToSet}.`
    : `the token the request carried is not this cluster's: ${howToSet}.`;
}

/** Whether a bind address is loopback only (an open port there is reached from this machine only). */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host.startsWith('127.');
}

/** The warning a process prints when it listens beyond loopback without requiring a token. */
export function openPortWarning(auth: ClusterAuth, what: string): string | undefined {
  if (auth.kind === 'token') return undefined;
  const [why, fix] =
    auth.kind === 'disabled'
      ? [`${AUTH_MODE_ENV}=disabled`, `remove ${AUTH_MODE_ENV}=disabled`]
      : [`no cluster token was found in ${auth.looked}`, `set ${AUTH_TOKEN_ENV}`];
  return (
    `authentication is off (${why}) and ${what}: anyone who reaches it can run code and read data ` +
    `in this cluster. Use it only on a network you trust, or ${fix} (see docs/security.md).`
  );
}
