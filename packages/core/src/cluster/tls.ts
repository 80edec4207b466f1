/**
 * TLS settings of a process (as Ray's `RAY_USE_TLS`): whether every gRPC connection between
 * ray-ts processes uses mutual TLS, and the certificate, key and CA it uses, read from the files
 * the environment names once per process and checked at once (a missing, unreadable or non-PEM
 * file, a key that is not the certificate's, a certificate the CA did not sign, or an expired one
 * fails with a TlsError naming the variable and the path). The gRPC side (credentials, what a
 * failed handshake means) is in tls-grpc.ts. See docs/security.md.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { TlsError } from '../errors.js';

/** `1` (or `true`) turns TLS on (Ray's `RAY_USE_TLS`). */
export const USE_TLS_ENV = 'RAY_TS_USE_TLS';
/** This process's certificate (PEM), presented as a server and as a client (Ray's `RAY_TLS_SERVER_CERT`). */
export const TLS_CERT_ENV = 'RAY_TS_TLS_SERVER_CERT';
/** Its private key (PEM, not encrypted) (Ray's `RAY_TLS_SERVER_KEY`). */
export const TLS_KEY_ENV = 'RAY_TS_TLS_SERVER_KEY';
/** The cluster's CA (PEM): the certificates of servers and clients must be signed by it (Ray's `RAY_TLS_CA_CERT`). */
export const TLS_CA_ENV = 'RAY_TS_TLS_CA_CERT';
/**
 * Optional: the name every server's certificate is checked against, instead of the address
 * connected to (the certificates then carry this name in their subjectAltName, `DNS:<name>`).
 */
export const TLS_SERVER_NAME_ENV = 'RAY_TS_TLS_SERVER_NAME';

/** The variables that carry the TLS settings, in the order messages list them. */
export const TLS_ENV_VARS = [USE_TLS_ENV, TLS_CERT_ENV, TLS_KEY_ENV, TLS_CA_ENV, TLS_SERVER_NAME_ENV] as const;

/** What a process with TLS on presents and trusts (the files' contents, read once). */
export interface ClusterTls {
  /** This process's certificate chain (PEM), presented to servers and to clients. */
  readonly cert: Buffer;
  readonly key: Buffer;
  /** The CA certificates (PEM) a peer's certificate must chain to. */
  readonly ca: Buffer;
  /** The files they came from, for messages and for child processes' environments. */
  readonly files: { readonly cert: string; readonly key: string; readonly ca: string };
  /** `RAY_TS_TLS_SERVER_NAME`: servers' certificates are checked against it instead of the address. */
  readonly serverName?: string;
}

/** How to turn TLS on, for messages. */
export const HOW_TO_SET_TLS =
  `set ${USE_TLS_ENV}=1 and ${TLS_CERT_ENV}, ${TLS_KEY_ENV} and ${TLS_CA_ENV} to the paths of a certificate ` +
  `signed by the cluster's CA, its key and that CA (see docs/security.md, "TLS")`;

/** Whether `RAY_TS_USE_TLS` turns TLS on (`1`/`true`; unset, empty, `0`, `false`: off). */
function useTls(raw: string | undefined): boolean {
  const v = (raw ?? '').trim().toLowerCase();
  if (v === '' || v === '0' || v === 'false') return false;
  if (v === '1' || v === 'true') return true;
  throw new TlsError(`${USE_TLS_ENV}=${raw} is not understood: set it to 1 to use TLS, or 0 (or unset it) not to.`);
}

const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** Reads a file that one of the variables names. */
function readNamed(variable: string, file: string): Buffer {
  try {
    return fs.readFileSync(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'a directory' : (err as Error).message;
    throw new TlsError(`${variable}=${file} cannot be read (${why}): ${HOW_TO_SET_TLS}.`, { cause: err });
  }
}

/** The certificates of a PEM file (at least one), parsed. */
function certsOf(variable: string, file: string, pem: Buffer): crypto.X509Certificate[] {
  const blocks = pem.toString('utf8').match(PEM_CERT) ?? [];
  if (!blocks.length)
    throw new TlsError(
      `${variable}=${file} holds no PEM certificate ('-----BEGIN CERTIFICATE-----'): give the path of a certificate in PEM form ` +
        `('openssl x509 -in FILE -outform PEM' converts one).`,
    );
  return blocks.map((b) => {
    try {
      return new crypto.X509Certificate(b);
    } catch (err) {
      throw new TlsError(`${variable}=${file} holds a certificate that cannot be parsed: ${(err as Error).message}`, {
        cause: err,
      });
    }
  });
}

/** Checks the files fit together: the key is the certificate's, the CA signed it, it has not expired. */
function checkTogether(files: ClusterTls['files'], cert: Buffer, key: Buffer, ca: Buffer): void {
  const chain = certsOf(TLS_CERT_ENV, files.cert, cert);
  const cas = certsOf(TLS_CA_ENV, files.ca, ca);
  let privateKey: crypto.KeyObject;
  try {
    privateKey = crypto.createPrivateKey(key);
  } catch (err) {
    throw new TlsError(
      `${TLS_KEY_ENV}=${files.key} holds no usable private key in PEM form (an encrypted key is not supported: ` +
        `'openssl pkey -in FILE -out FILE.plain' decrypts one): ${(err as Error).message}`,
      { cause: err },
    );
  }
  const leaf = chain[0];
  if (!leaf.checkPrivateKey(privateKey))
    throw new TlsError(
      `${TLS_KEY_ENV}=${files.key} is not the key of the certificate in ${TLS_CERT_ENV}=${files.cert}.`,
    );
  const now = Date.now();
  if (Date.parse(leaf.validTo) < now || Date.parse(leaf.validFrom) > now)
    throw new TlsError(
      `The certificate in ${TLS_CERT_ENV}=${files.cert} is valid from ${leaf.validFrom} to ${leaf.validTo}, not now: make a new one.`,
    );
  const signed = chain.some((c) => cas.some((a) => c.checkIssued(a) && c.verify(a.publicKey)));
  if (!signed)
    throw new TlsError(
      `The certificate in ${TLS_CERT_ENV}=${files.cert} (issued by '${leaf.issuer.replace(/\n/g, ', ')}') is not signed by ` +
        `the CA in ${TLS_CA_ENV}=${files.ca}: the cluster's other processes would refuse it. Sign it with the cluster's CA.`,
    );
}

/** Reads and checks the TLS settings of `env` (undefined: TLS is off). */
function readTls(env: NodeJS.ProcessEnv): ClusterTls | undefined {
  if (!useTls(env[USE_TLS_ENV])) return undefined;
  const missing = [TLS_CERT_ENV, TLS_KEY_ENV, TLS_CA_ENV].filter((v) => !env[v]?.trim());
  if (missing.length)
    throw new TlsError(
      `${USE_TLS_ENV} is set but ${missing.join(', ')} ${missing.length > 1 ? 'are' : 'is'} not: ${HOW_TO_SET_TLS}.`,
    );
  // Absolute: child processes (a job's driver runs in its working directory) get these paths.
  const abs = (v: string) => path.resolve(env[v]!.trim());
  const files = { cert: abs(TLS_CERT_ENV), key: abs(TLS_KEY_ENV), ca: abs(TLS_CA_ENV) };
  const cert = readNamed(TLS_CERT_ENV, files.cert);
  const key = readNamed(TLS_KEY_ENV, files.key);
  const ca = readNamed(TLS_CA_ENV, files.ca);
  checkTogether(files, cert, key, ca);
  const serverName = env[TLS_SERVER_NAME_ENV]?.trim() || undefined;
  return Object.freeze({ cert, key, ca, files: Object.freeze(files), ...(serverName ? { serverName } : {}) });
}

/** Settings read so far, by the variables' values: each set of files is read once per process. */
const loaded = new Map<string, ClusterTls | undefined>();

/**
 * The TLS settings the environment gives (default `process.env`): undefined when
 * `RAY_TS_USE_TLS` is not on; else the certificate, key and CA its variables name, read once per
 * process. Throws TlsError (naming the variable and path) when a variable is missing or a file is
 * missing, unreadable, not PEM, or does not fit the others.
 */
export function loadTls(env: NodeJS.ProcessEnv = process.env): ClusterTls | undefined {
  const key = JSON.stringify(TLS_ENV_VARS.map((v) => env[v] ?? null));
  if (loaded.has(key)) return loaded.get(key);
  const tls = readTls(env);
  loaded.set(key, tls);
  return tls;
}

/** The environment that gives a child process (a job's driver, a node) the same TLS settings. */
export function tlsEnv(tls: ClusterTls | undefined): Record<string, string> {
  if (!tls) return {};
  return {
    [USE_TLS_ENV]: '1',
    [TLS_CERT_ENV]: tls.files.cert,
    [TLS_KEY_ENV]: tls.files.key,
    [TLS_CA_ENV]: tls.files.ca,
    ...(tls.serverName ? { [TLS_SERVER_NAME_ENV]: tls.serverName } : {}),
  };
}
