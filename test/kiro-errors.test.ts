import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mapKiroHttpError, mapTransportError, parseRetryAfter } from '../src/kiro/errors.js';

const body = (message: string, reason: string | null = null) => JSON.stringify({ message, reason });

describe('Kiro HTTP errors → client errors (kiro-protocol.md §6)', () => {
  const cases: [string, number, string, string | undefined, number, string][] = [
    ['improperly formed', 400, body('Improperly formed request.'), undefined, 400, 'upstream_bad_request'],
    ['context full', 400, body('Input is too long.', 'CONTENT_LENGTH_EXCEEDS_THRESHOLD'), undefined, 400, 'context_length_exceeded'],
    ['invalid tool use', 400, body('Invalid tool use format.', 'REQUEST_BODY_INVALID'), undefined, 400, 'request_body_invalid'],
    ['profile ARN missing', 400, body('profileArn is required for this request.'), undefined, 503, 'profile_arn_required'],
    ['quota', 402, body('You have reached the limit.', 'MONTHLY_REQUEST_COUNT'), undefined, 429, 'insufficient_quota'],
    ['bad token', 403, body('The bearer token included in the request is invalid.'), undefined, 503, 'upstream_token_invalid'],
    ['throttled', 429, body('Too many requests'), '7', 429, 'rate_limit_exceeded'],
    ['capacity', 500, body('INSUFFICIENT_MODEL_CAPACITY'), undefined, 503, 'upstream_overloaded'],
    ['server error', 500, 'oops', undefined, 502, 'upstream_error'],
    ['unavailable', 503, '', undefined, 503, 'upstream_unavailable'],
    ['gateway timeout', 504, '', undefined, 504, 'upstream_timeout'],
  ];
  for (const [name, status, text, retryAfter, expectedStatus, code] of cases) {
    it(`${name}: ${status} → ${expectedStatus} ${code}`, () => {
      const error = mapKiroHttpError(status, text, retryAfter);
      assert.equal(error.status, expectedStatus);
      assert.equal(error.code, code);
    });
  }

  it('passes retry-after through for 429', () => {
    assert.equal(mapKiroHttpError(429, '', '7').retryAfter, 7);
    assert.equal(mapKiroHttpError(429, '', undefined).retryAfter, 10);
  });

  it('parses retry-after in seconds and as an HTTP date', () => {
    assert.equal(parseRetryAfter('3'), 3);
    assert.equal(parseRetryAfter(new Date(Date.UTC(2030, 0, 1, 0, 0, 10)).toUTCString(), Date.UTC(2030, 0, 1)), 10);
    assert.equal(parseRetryAfter('soon'), undefined);
  });

  it('maps undici timeouts to 504 and connection failures to 502', () => {
    assert.equal(mapTransportError(Object.assign(new Error('x'), { code: 'UND_ERR_HEADERS_TIMEOUT' })).status, 504);
    assert.equal(mapTransportError(Object.assign(new Error('x'), { code: 'ECONNREFUSED' })).status, 502);
    assert.match(mapTransportError(Object.assign(new Error('x'), { code: 'ECONNREFUSED' })).message, /ECONNREFUSED/);
  });
});
