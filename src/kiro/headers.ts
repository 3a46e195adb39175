import { createHash, randomUUID } from 'node:crypto';
import { platform, release } from 'node:os';

// What the Kiro IDE sends (kiro-protocol.md §2). Kept in one place: the backend has changed
// these before, and a proxy that hard-codes them in many places breaks overnight.
export const KIRO_IDE_VERSION = '0.11.107';
const SDK_VERSION = '1.0.34';

const OS = `${platform()}#${release()}`;
const NODE = process.versions.node;

/** 64 hex characters, stable per account, as the IDE's machine id is. */
export const machineIdFor = (accountFingerprint: string): string => createHash('sha256').update(`ki2api-${accountFingerprint}`).digest('hex');

/** The per-account part of the headers never changes: built once per account, not per request. */
const staticHeaders = new Map<string, Record<string, string>>();

function accountHeaders(accountFingerprint: string): Record<string, string> {
  let headers = staticHeaders.get(accountFingerprint);
  if (!headers) {
    const ide = `KiroIDE-${KIRO_IDE_VERSION}-${machineIdFor(accountFingerprint)}`;
    headers = {
      'content-type': 'application/json',
      accept: 'application/vnd.amazon.eventstream',
      'x-amz-user-agent': `aws-sdk-js/${SDK_VERSION} ${ide}`,
      'user-agent': `aws-sdk-js/${SDK_VERSION} ua/2.1 os/${OS} lang/js md/nodejs#${NODE} api/codewhispererstreaming#${SDK_VERSION} m/E ${ide}`,
      'amz-sdk-request': 'attempt=1; max=3',
      'x-amzn-codewhisperer-optout': 'true',
      'x-amzn-kiro-agent-mode': 'vibe',
    };
    staticHeaders.set(accountFingerprint, headers);
  }
  return headers;
}

export function kiroHeaders(accessToken: string, accountFingerprint: string): Record<string, string> {
  return { ...accountHeaders(accountFingerprint), authorization: `Bearer ${accessToken}`, 'amz-sdk-invocation-id': randomUUID() };
}
