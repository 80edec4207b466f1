import type http from 'node:http';
import { describe, expect, it } from 'vitest';
import type { HttpError } from '../errors.js';
import type { ClusterAuth } from './auth-token.js';
import { browserMayRead, checkBody, checkSubmissionId, hostOf, isBrowserRequest, refuseRequest } from './job-guard.js';

const auth: ClusterAuth = { kind: 'token', token: 'tok', from: 'test' };
const request = (headers: http.IncomingHttpHeaders) => ({ headers }) as http.IncomingMessage;
const statusOf = (fn: () => unknown) => {
  try {
    fn();
    return 200;
  } catch (err) {
    return (err as HttpError).status;
  }
};

describe('refuseRequest', () => {
  it('answers 401 without the token (or with another), before anything else', () => {
    expect(refuseRequest({}, auth)?.status).toBe(401);
    expect(refuseRequest({ authorization: 'Bearer nope', origin: 'http://evil.example' }, auth)?.status).toBe(401);
    expect(refuseRequest({ authorization: 'Bearer tok' }, auth)).toBeUndefined();
  });

  it('answers 403 to a browser, even with the token, and with authentication disabled', () => {
    const browser = { authorization: 'Bearer tok', origin: 'http://evil.example', 'sec-fetch-site': 'cross-site' };
    expect(refuseRequest(browser, auth)?.status).toBe(403);
    expect(refuseRequest({ 'user-agent': 'Mozilla/5.0 (X11; Linux x86_64)' }, { kind: 'disabled' })?.status).toBe(403);
  });
});

describe("the dashboard's browser reads", () => {
  const page = {
    authorization: 'Bearer tok',
    'sec-fetch-site': 'same-origin',
    'sec-fetch-mode': 'cors',
    'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) Chrome/131.0',
  };
  const reads = (method: string) => ({ method, hostNames: ['head-1.internal'] });

  it("serves a same-origin GET to an IP address, localhost or the head's own name", () => {
    for (const host of ['127.0.0.1:8265', '10.0.0.7', 'localhost:8265', '[::1]:8265', 'HEAD-1.internal:8265'])
      expect(refuseRequest({ ...page, host }, auth, reads('GET')), host).toBeUndefined();
    // A browser too old to send Sec-Fetch-Site cannot send the token cross-origin without a preflight either.
    const { 'sec-fetch-site': _site, ...old } = page;
    expect(refuseRequest({ ...old, host: '127.0.0.1' }, auth, reads('GET'))).toBeUndefined();
  });

  it('refuses other sites, other Hosts (DNS rebinding), every other method, and no token', () => {
    const at = { ...page, host: '127.0.0.1:8265' };
    expect(refuseRequest({ ...at, 'sec-fetch-site': 'cross-site' }, auth, reads('GET'))?.status).toBe(403);
    expect(refuseRequest({ ...at, 'sec-fetch-site': 'same-site' }, auth, reads('GET'))?.status).toBe(403);
    expect(refuseRequest({ ...page, host: 'evil.example:8265' }, auth, reads('GET'))?.status).toBe(403);
    expect(refuseRequest({ ...page }, auth, reads('GET'))?.status).toBe(403); // no Host at all
    const { 'sec-fetch-site': _s, ...old } = at;
    expect(refuseRequest({ ...old, origin: 'http://evil.example' }, auth, reads('GET'))?.status).toBe(403);
    expect(refuseRequest({ ...old, origin: 'http://127.0.0.1:8265' }, auth, reads('GET'))).toBeUndefined();
    for (const m of ['POST', 'DELETE', 'PUT', 'PATCH']) expect(refuseRequest(at, auth, reads(m))?.status, m).toBe(403);
    expect(refuseRequest({ ...at, authorization: undefined }, auth, reads('GET'))?.status).toBe(401);
    // Without the reads (the log websocket), a browser is refused as before.
    expect(refuseRequest(at, auth)?.status).toBe(403);
  });

  it('reads the host of a Host header', () => {
    expect(hostOf('Example.COM:80')).toBe('example.com');
    expect(hostOf('[fe80::1]:8265')).toBe('fe80::1');
    expect(hostOf(undefined)).toBeUndefined();
    expect(browserMayRead({ host: '1.2.3.4' }, { method: 'HEAD', hostNames: [] })).toBe(true);
  });
});

describe('isBrowserRequest', () => {
  it("knows browsers by Ray's headers, and lets Node's fetch (Sec-Fetch-Mode: cors alone) and curl through", () => {
    for (const h of ['origin', 'referer', 'sec-fetch-site', 'sec-fetch-dest', 'sec-fetch-user'])
      expect(isBrowserRequest({ [h]: 'x' }), h).toBe(true);
    expect(isBrowserRequest({ 'access-control-request-method': 'POST' })).toBe(true);
    expect(isBrowserRequest({ 'sec-fetch-mode': 'navigate' })).toBe(true);
    expect(isBrowserRequest({ 'sec-fetch-mode': 'no-cors' })).toBe(true);
    expect(isBrowserRequest({ 'sec-fetch-mode': 'cors', 'user-agent': 'node' })).toBe(false);
    expect(isBrowserRequest({ 'user-agent': 'curl/8.5.0' })).toBe(false);
    expect(isBrowserRequest({ 'user-agent': 'Python/3.12 aiohttp/3.9.5' })).toBe(false);
  });
});

describe('checkBody', () => {
  it('takes JSON bodies only (415 for text/plain and forms), and body-less requests', () => {
    expect(
      statusOf(() => checkBody(request({ 'content-type': 'application/json', 'content-length': '2' }), 'json', 10)),
    ).toBe(200);
    expect(statusOf(() => checkBody(request({ 'content-type': 'application/json; charset=utf-8' }), 'json', 10))).toBe(
      200,
    );
    expect(statusOf(() => checkBody(request({}), 'json', 10))).toBe(200);
    expect(statusOf(() => checkBody(request({ 'content-length': '0' }), 'json', 10))).toBe(200);
    expect(
      statusOf(() => checkBody(request({ 'content-type': 'text/plain', 'content-length': '2' }), 'json', 10)),
    ).toBe(415);
    expect(
      statusOf(() => checkBody(request({ 'content-type': 'application/x-www-form-urlencoded' }), 'json', 10)),
    ).toBe(415);
    expect(statusOf(() => checkBody(request({ 'content-length': '5' }), 'json', 10))).toBe(415);
    expect(statusOf(() => checkBody(request({ 'transfer-encoding': 'chunked' }), 'json', 10))).toBe(415);
  });

  it('takes packages as bytes, and refuses bodies declared over the bound (413)', () => {
    expect(statusOf(() => checkBody(request({ 'content-length': '5' }), 'package', 10))).toBe(200);
    expect(statusOf(() => checkBody(request({ 'content-type': 'application/zip' }), 'package', 10))).toBe(200);
    expect(statusOf(() => checkBody(request({ 'content-type': 'text/plain' }), 'package', 10))).toBe(415);
    expect(statusOf(() => checkBody(request({ 'content-length': '11' }), 'package', 10))).toBe(413);
    expect(
      statusOf(() => checkBody(request({ 'content-type': 'application/json', 'content-length': '11' }), 'json', 10)),
    ).toBe(413);
  });
});

describe('checkSubmissionId', () => {
  it('takes ids of letters, digits, _ - . and says what is allowed otherwise', () => {
    for (const id of ['raysubmit_ab12', 'job-ok', 'ray-cli-42', 'v1.2_x']) expect(checkSubmissionId(id)).toBe(id);
    for (const id of ['', '../etc', '-x', '.hidden', 'a b', 'a/b', 'x'.repeat(129), 42, null])
      expect(
        statusOf(() => checkSubmissionId(id)),
        String(id),
      ).toBe(400);
    expect(() => checkSubmissionId('a/b')).toThrow(
      "submission_id 'a/b' is not valid: use 1 to 128 letters, digits, '_', '-' and '.', not starting with '.' or '-'",
    );
  });
});
