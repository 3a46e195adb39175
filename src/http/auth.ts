import { hash, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { GatewayError } from '../chat/errors.js';

const digest = (key: string) => hash('sha256', key, 'buffer');

/** The key a client presented: `Authorization: Bearer <key>` or `x-api-key: <key>`. */
export function presentedKey(headers: IncomingHttpHeaders): string | undefined {
  const authorization = headers.authorization;
  if (authorization) {
    const match = /^Bearer\s+(.+)$/i.exec(authorization.trim());
    return match ? match[1]!.trim() : authorization.trim();
  }
  const apiKey = headers['x-api-key'];
  return Array.isArray(apiKey) ? apiKey[0] : apiKey;
}

/**
 * A checker for the configured keys. Compares SHA-256 digests with timingSafeEqual against every
 * key, without stopping at the first match, so the time taken says nothing about the keys.
 * `keys === null` means auth is off.
 */
export function createKeyChecker(keys: readonly string[] | null): (headers: IncomingHttpHeaders) => GatewayError | undefined {
  if (keys === null) return () => undefined;
  const digests = keys.map(digest);
  return (headers) => {
    const key = presentedKey(headers);
    if (!key) {
      return new GatewayError('authentication', 'Missing API key. Send it as "Authorization: Bearer <key>" (the gateway\'s API_KEY).', {
        code: 'invalid_api_key',
      });
    }
    const presented = digest(key);
    let ok = false;
    for (const d of digests) ok = timingSafeEqual(d, presented) || ok;
    return ok ? undefined : new GatewayError('authentication', 'Incorrect API key provided. Use one of the keys in the gateway\'s API_KEY.', { code: 'invalid_api_key' });
  };
}
