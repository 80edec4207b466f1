import type http from 'node:http';
import { describe, expect, it } from 'vitest';
import type { HttpError } from '../errors.js';
import type { ClusterAuth } from './auth-token.js';
import { checkBody, checkSubmissionId, isBrowserRequest, refuseRequest } from './job-guard.js';

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
