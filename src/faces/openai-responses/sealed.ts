import type { PastReasoning } from '../../chat/types.js';

// What the gateway hands clients to hold for it: Kiro's signed thinking (a reasoning item's
// `encrypted_content`) and a conversation's summary (a `compaction` item). Opaque to the client,
// readable to the gateway, so it needs no store to take them back: Codex sends `store: false` and
// its whole history every turn. Nothing secret is inside — the client saw the thinking and the
// summary — and a tampered blob only fails: Kiro rejects a signature that does not match.

const REASONING = 'ki2api.reasoning.v1.';
const COMPACTION = 'ki2api.compaction.v1.';

const seal = (prefix: string, value: unknown): string => prefix + Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');

function open(prefix: string, blob: string | null | undefined): Record<string, unknown> | undefined {
  if (!blob?.startsWith(prefix)) return undefined;
  try {
    const value = JSON.parse(Buffer.from(blob.slice(prefix.length), 'base64url').toString('utf8')) as unknown;
    return value && typeof value === 'object' ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

export const sealReasoning = (reasoning: PastReasoning): string => seal(REASONING, reasoning);

/** The thinking a reasoning item carries, when the gateway sealed it; undefined for anyone else's blob. */
export function openReasoning(blob: string | null | undefined): PastReasoning | undefined {
  const value = open(REASONING, blob);
  if (!value || typeof value.text !== 'string') return undefined;
  return { text: value.text, ...(typeof value.signature === 'string' && { signature: value.signature }), ...(typeof value.redacted === 'string' && { redacted: value.redacted }) };
}

export const sealCompaction = (summary: string): string => seal(COMPACTION, { summary });

/** The summary a compaction item carries, when the gateway made it. */
export function openCompaction(blob: string | null | undefined): string | undefined {
  const value = open(COMPACTION, blob);
  return typeof value?.summary === 'string' ? value.summary : undefined;
}
