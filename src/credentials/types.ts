import type { CredentialStatus } from '../chat/types.js';

/** What a Kiro call needs from a login. */
export interface KiroCredentials {
  accessToken: string;
  profileArn?: string;
  /** A short, one-way fingerprint of the account, safe for logs and /health. */
  fingerprint: string;
}

/** "Give me a valid access token and profile ARN." Sources and refreshers hide behind this. */
export interface CredentialProvider {
  /** Throws a GatewayError (503) when there are no usable credentials. */
  getCredentials(): Promise<KiroCredentials>;
  status(): CredentialStatus;
}
