import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { TlsError } from '../errors.js';
import { authEnv, clientAuth, headAuth } from './auth-token.js';
import { loadTls, tlsEnv } from './tls.js';
import { tlsTrouble } from './tls-grpc.js';

// One CA and a certificate it signed (openssl CLI), shared by the tests that load good settings.
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ray-ts-tls-unit-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
const f = (name: string) => path.join(dir, name);
const openssl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'ignore' });
openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=unit CA', '-keyout', f('ca.key'), '-out', f('ca.crt')); // prettier-ignore
openssl('req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=unit node', '-keyout', f('node.key'), '-out', f('node.csr')); // prettier-ignore
fs.writeFileSync(f('ext'), 'subjectAltName=IP:127.0.0.1\n');
openssl('x509', '-req', '-in', f('node.csr'), '-CA', f('ca.crt'), '-CAkey', f('ca.key'), '-CAcreateserial', '-days', '1', '-extfile', f('ext'), '-out', f('node.crt')); // prettier-ignore

const good = (): NodeJS.ProcessEnv => ({
  RAY_TS_USE_TLS: '1',
  RAY_TS_TLS_SERVER_CERT: f('node.crt'),
  RAY_TS_TLS_SERVER_KEY: f('node.key'),
  RAY_TS_TLS_CA_CERT: f('ca.crt'),
});

describe('loadTls', () => {
  it('is off unless RAY_TS_USE_TLS is 1 or true', () => {
    for (const v of [undefined, '', '0', 'false', 'FALSE'])
      expect(loadTls({ ...good(), RAY_TS_USE_TLS: v } as NodeJS.ProcessEnv)).toBeUndefined();
    expect(loadTls({ ...good(), RAY_TS_USE_TLS: 'True' })?.files.cert).toBe(f('node.crt'));
    expect(() => loadTls({ RAY_TS_USE_TLS: 'on' })).toThrow(TlsError);
  });

  it('names every variable that is missing', () => {
    expect(() => loadTls({ RAY_TS_USE_TLS: '1', RAY_TS_TLS_CA_CERT: f('ca.crt') })).toThrow(
      /RAY_TS_USE_TLS is set but RAY_TS_TLS_SERVER_CERT, RAY_TS_TLS_SERVER_KEY are not/,
    );
  });

  it('reads the files once per set of values, and makes relative paths absolute', () => {
    const rel = { ...good(), RAY_TS_TLS_CA_CERT: path.relative(process.cwd(), f('ca.crt')) };
    const a = loadTls(rel);
    expect(a?.files.ca).toBe(f('ca.crt'));
    expect(loadTls({ ...rel })).toBe(a);
    expect(loadTls(good())).not.toBe(a);
    expect(a?.cert.toString()).toContain('-----BEGIN CERTIFICATE-----');
  });

  it('refuses a CA file that is not a certificate', () => {
    expect(() => loadTls({ ...good(), RAY_TS_TLS_CA_CERT: f('ca.key') })).toThrow(
      new RegExp(`RAY_TS_TLS_CA_CERT=${f('ca.key')} holds no PEM certificate`),
    );
  });
});

describe('the TLS settings in ClusterAuth', () => {
  it('travel with the token, and to child processes', () => {
    const env = { ...good(), RAY_TS_AUTH_TOKEN: 'tok', RAY_TS_TLS_SERVER_NAME: 'ray.internal' };
    const head = headAuth({ mode: 'token', env });
    expect(head.tls?.serverName).toBe('ray.internal');
    expect(clientAuth({ mode: 'disabled', env }).tls).toBe(head.tls);
    expect(authEnv(head)).toEqual({
      RAY_TS_AUTH_TOKEN: 'tok',
      RAY_TS_USE_TLS: '1',
      RAY_TS_TLS_SERVER_CERT: f('node.crt'),
      RAY_TS_TLS_SERVER_KEY: f('node.key'),
      RAY_TS_TLS_CA_CERT: f('ca.crt'),
      RAY_TS_TLS_SERVER_NAME: 'ray.internal',
    });
    expect(tlsEnv(undefined)).toEqual({});
    expect(clientAuth({ mode: 'disabled', env: {} })).toEqual({ kind: 'disabled' });
  });
});

describe('tlsTrouble', () => {
  const tls = loadTls(good())!;
  const at = '10.0.0.7:6380';
  it('says which side lacks TLS', () => {
    expect(tlsTrouble(at, undefined, { kind: 'ok' })).toMatch(/uses TLS and this one does not: set RAY_TS_USE_TLS=1/);
    expect(tlsTrouble(at, undefined, { kind: 'plain' })).toBeUndefined();
    expect(tlsTrouble(at, tls, { kind: 'plain' })).toMatch(/does not use TLS and this one does/);
  });

  it('says which certificate to fix', () => {
    const altname = { kind: 'untrusted', reason: 'x', code: 'ERR_TLS_CERT_ALTNAME_INVALID' } as const;
    expect(tlsTrouble(at, tls, altname)).toMatch(
      /does not name 10\.0\.0\.7 .*'IP:10\.0\.0\.7'.*RAY_TS_TLS_SERVER_NAME/,
    );
    expect(tlsTrouble(at, { ...tls, serverName: 'ray.internal' }, altname)).toMatch(
      /does not name ray\.internal .*'subjectAltName=DNS:ray\.internal'/,
    );
    expect(tlsTrouble(at, tls, { kind: 'untrusted', reason: 'self-signed certificate in certificate chain' })).toMatch(
      /the CA in RAY_TS_TLS_CA_CERT=.*ca\.crt does not vouch for/,
    );
    expect(tlsTrouble(at, tls, { kind: 'refused', reason: 'alert unknown ca' })).toMatch(
      /refused this process's certificate \(RAY_TS_TLS_SERVER_CERT=.*node\.crt; alert unknown ca\)/,
    );
    expect(tlsTrouble(at, tls, { kind: 'unreachable', reason: 'ECONNREFUSED' })).toBeUndefined();
    expect(tlsTrouble(at, tls, { kind: 'ok' })).toBeUndefined();
  });
});
