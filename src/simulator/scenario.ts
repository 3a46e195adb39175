// What a test (or the demo) can make the simulator do for one generateAssistantResponse call.

export type SimEvent =
  | { text: string }
  | { toolUse: { name: string; toolUseId: string; input?: string | Record<string, unknown>; stop?: boolean } }
  | { reasoning: string }
  /** A signature fragment of the thinking block so far (Kiro may send it in several). */
  | { reasoningSignature: string }
  | { redactedReasoning: string }
  /** Kiro's own token figures (metadataEvent.tokenUsage). */
  | { tokenUsage: { uncachedInputTokens: number; cacheReadInputTokens: number; cacheWriteInputTokens: number; outputTokens: number } }
  | { contextUsage: number }
  | { metering: number }
  | { exception: string; message?: string }
  /** Arbitrary bytes, e.g. a hand-made frame. */
  | { raw: Uint8Array };

export interface Scenario {
  /** Non-200 answers a JSON error body instead of a stream. */
  status?: number;
  errorBody?: unknown;
  headers?: Record<string, string>;
  events?: SimEvent[];
  /** Wait this long before sending the response headers. */
  firstByteDelayMs?: number;
  /** Wait this long before each write after the first. */
  delayMs?: number;
  /** How to cut the body into writes: one write per frame (default), fixed-size pieces, or cut points. */
  split?: 'frame' | 'whole' | number | number[];
  /** Flip a byte in the message CRC of this frame (0-based). */
  corruptFrame?: number;
  /** Destroy the socket after this many body bytes. */
  cutAfterBytes?: number;
  /** Keep the connection open, silent, after the events. */
  hang?: boolean;
}

export interface RecordedRequest {
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body: unknown;
  /** Set when strict mode found a rule violation (the request was rejected with 400). */
  violation?: string;
}
