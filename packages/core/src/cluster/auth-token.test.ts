import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { AuthenticationError } from '../errors.js';
import {
  authEnv,
  authHeaders,
  checkBearer,
  clientAuth,
  headAuth,
  isLoopback,
  openPortWarning,
  refusalMessage,
  sessionToken,
  tokenFilePath,
  type ClusterAuth,
} from './auth-token.js';

function tmpDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ray-ts-auth-'));
  onTestFinished(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const mode = (p: string) => fs.statSync(p).mode & 0o777;
const noEnv = {} as NodeJS.ProcessEnv;

describe('headAuth', () => {
  it("makes the session directory's token once (0600 in a 0700 directory), and every later call finds it", () => {
    const dir = path.join(tmpDir(), 'session');
    const a = headAuth({ mode: 'token', env: noEnv, sessionDir: dir });
    expect(a).toMatchObject({ kind: 'token', from: tokenFilePath(dir) });
    const token = (a as { token: string }).token;
    expect(token).toMatch(/^[0-9a-f]{64}$/);
    expect(mode(dir)).toBe(0o700);
    expect(mode(tokenFilePath(dir))).toBe(0o600);
    expect(headAuth({ mode: 'token', env: noEnv, sessionDir: dir })).toEqual(a);
    // A second head, and every client of the machine, agree on it.
    expect(sessionToken(dir)).toBe(token);
    expect(clientAuth({ mode: 'token', env: noEnv, sessionDir: dir })).toEqual(a);
    expect(fs.readdirSync(dir)).toEqual(['auth_token']); // no temporary file left
  });

  it('closes a session directory and a token file that others could read', () => {
    const dir = tmpDir();
    fs.chmodSync(dir, 0o755);
    fs.writeFileSync(tokenFilePath(dir), 'a-token-written-by-hand\n', { mode: 0o644 });
    expect(headAuth({ mode: 'token', env: noEnv, sessionDir: dir })).toMatchObject({
      token: 'a-token-written-by-hand',
    });
    expect(mode(tokenFilePath(dir))).toBe(0o600);
    expect(mode(dir)).toBe(0o700);
  });

  it('takes RAY_TS_AUTH_TOKEN first, then --auth-token-file, and makes nothing then', () => {
    const dir = tmpDir();
    const file = path.join(dir, 'given-token');
    fs.writeFileSync(file, '  from-the-file  \n');
    const env = { RAY_TS_AUTH_TOKEN: 'from-the-env' } as NodeJS.ProcessEnv;
    expect(headAuth({ mode: 'token', env, tokenFile: file, sessionDir: dir })).toEqual({
      kind: 'token',
      token: 'from-the-env',
      from: 'RAY_TS_AUTH_TOKEN',
    });
    expect(headAuth({ mode: 'token', env: { RAY_TS_AUTH_TOKEN: '' }, tokenFile: file, sessionDir: dir })).toEqual({
      kind: 'token',
      token: 'from-the-file',
      from: file,
    });
    expect(fs.existsSync(tokenFilePath(dir))).toBe(false);
  });

  it('fails closed on a token file it cannot use, and on tokens that cannot travel in a header', () => {
    const dir = tmpDir();
    const missing = path.join(dir, 'nope');
    expect(() => headAuth({ mode: 'token', env: noEnv, tokenFile: missing })).toThrow(
      new AuthenticationError(`--auth-token-file ${missing}: no such file.`),
    );
    const empty = path.join(dir, 'empty');
    fs.writeFileSync(empty, '\n');
    expect(() => headAuth({ mode: 'token', env: noEnv, tokenFile: empty })).toThrow(/is empty/);
    expect(() => headAuth({ mode: 'token', env: { RAY_TS_AUTH_TOKEN: 'two words' } })).toThrow(
      /RAY_TS_AUTH_TOKEN is not usable: a token is 1 to 4096 visible ASCII characters/,
    );
  });

  it.runIf(process.getuid?.() === 0)("refuses a session directory's token file that another user owns", () => {
    // Root can make a file owned by another user; elsewhere this case cannot be set up.
    const dir = tmpDir();
    fs.writeFileSync(tokenFilePath(dir), 'planted-token\n', { mode: 0o600 });
    fs.chownSync(tokenFilePath(dir), 4321, 4321);
    expect(() => clientAuth({ mode: 'token', env: noEnv, sessionDir: dir })).toThrow(
      /belongs to another user \(uid 4321\): remove it, or set RAY_TS_SESSION_DIR/,
    );
  });

  it('is off with RAY_TS_AUTH_MODE=disabled, for heads and clients alike', () => {
    const dir = tmpDir();
    const env = { RAY_TS_AUTH_TOKEN: 'ignored' } as NodeJS.ProcessEnv;
    expect(headAuth({ mode: 'disabled', env, sessionDir: dir })).toEqual({ kind: 'disabled' });
    expect(clientAuth({ mode: 'disabled', env, sessionDir: dir })).toEqual({ kind: 'disabled' });
    expect(fs.existsSync(tokenFilePath(dir))).toBe(false);
  });
});

describe('clientAuth', () => {
  it('finds the environment token, else the session file, else none (and makes nothing)', () => {
    const dir = tmpDir();
    const none = clientAuth({ mode: 'token', env: noEnv, sessionDir: dir });
    expect(none).toEqual({ kind: 'none', looked: `RAY_TS_AUTH_TOKEN and ${tokenFilePath(dir)}` });
    expect(fs.existsSync(tokenFilePath(dir))).toBe(false);
    expect(clientAuth({ mode: 'token', env: { RAY_TS_AUTH_TOKEN: 'tok' }, sessionDir: dir })).toMatchObject({
      token: 'tok',
    });
  });
});

describe('checkBearer', () => {
  const auth: ClusterAuth = { kind: 'token', token: 'the-token', from: 'test' };

  it('takes the token as a bearer token, the scheme in any case', () => {
    expect(checkBearer(auth, 'Bearer the-token')).toBe('ok');
    expect(checkBearer(auth, 'bearer the-token ')).toBe('ok');
    expect(checkBearer(auth, undefined)).toBe('missing');
    expect(checkBearer(auth, 'the-token')).toBe('missing'); // no scheme
    expect(checkBearer(auth, 'Basic dXNlcjpwYXNz')).toBe('missing');
    expect(checkBearer(auth, 'Bearer the-token-2')).toBe('wrong');
    expect(checkBearer(auth, 'Bearer the-toke')).toBe('wrong');
  });

  it('lets everything through when no token is required', () => {
    expect(checkBearer({ kind: 'disabled' }, undefined)).toBe('ok');
    expect(checkBearer({ kind: 'none', looked: 'x' }, 'Bearer whatever')).toBe('ok');
  });

  it('says what to set, and never the token', () => {
    for (const check of ['missing', 'wrong'] as const) {
      expect(refusalMessage(check)).toContain('set RAY_TS_AUTH_TOKEN');
      expect(refusalMessage(check)).not.toContain('the-token');
    }
  });
});

describe('what a process hands on and warns of', () => {
  it('gives children and HTTP requests the same authentication', () => {
    const auth: ClusterAuth = { kind: 'token', token: 't0k', from: 'test' };
    expect(authHeaders(auth)).toEqual({ authorization: 'Bearer t0k' });
    expect(authEnv(auth)).toEqual({ RAY_TS_AUTH_TOKEN: 't0k' });
    expect(authHeaders({ kind: 'disabled' })).toEqual({});
    expect(authEnv({ kind: 'disabled' })).toEqual({ RAY_TS_AUTH_MODE: 'disabled' });
    expect(authEnv({ kind: 'none', looked: 'x' })).toEqual({});
  });

  it('warns of an open port beyond loopback only', () => {
    expect(['127.0.0.1', '127.1.2.3', '::1', 'localhost'].every(isLoopback)).toBe(true);
    expect(['0.0.0.0', '10.0.0.5', '::'].some(isLoopback)).toBe(false);
    expect(openPortWarning({ kind: 'token', token: 't', from: 'x' }, 'this head listens on 0.0.0.0')).toBeUndefined();
    expect(openPortWarning({ kind: 'disabled' }, 'this head listens on 0.0.0.0')).toMatch(
      /^authentication is off \(RAY_TS_AUTH_MODE=disabled\) and this head listens on 0\.0\.0\.0: anyone/,
    );
  });
});
