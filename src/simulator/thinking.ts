import { createHmac, randomBytes } from 'node:crypto';

// Kiro's native thinking, as the simulator plays it (kiro-protocol.md §9): models that have it
// stream reasoningContentEvent text and then a signature; thinking sent back in history must be
// nested as reasoningContent.reasoningText {text, signature} and carry a signature Kiro made for
// that very text — a flat form, a missing or a wrong signature is a 400, as on Kiro. The models
// before 4.6 answer any additionalModelRequestFields with a 400.

/** Kiro's dotted ids of the models with native thinking. */
export const NATIVE_THINKING_MODELS = new Set(['claude-sonnet-4.6', 'claude-opus-4.6', 'claude-opus-4.7', 'claude-opus-4.8', 'claude-sonnet-5']);

type Json = Record<string, unknown>;

export interface Rejection {
  message: string;
  reason: string | null;
}

/** Signs thinking as a Kiro would: opaque, and only valid for the exact text. */
export class ThinkingSigner {
  private readonly key = randomBytes(32);
  private readonly redacted = new Set<string>();

  sign(text: string): string {
    return createHmac('sha256', this.key).update(text).digest('base64');
  }

  /** An opaque blob standing in for thinking Kiro redacted; remembered, so only it replays. */
  redact(): string {
    const blob = randomBytes(48).toString('base64');
    this.redacted.add(blob);
    return blob;
  }

  /** What Kiro says about the thinking a request carries in its history, or undefined if it is fine. */
  check(body: unknown): Rejection | undefined {
    const state = (body as Json | undefined)?.conversationState as Json | undefined;
    const model = ((state?.currentMessage as Json | undefined)?.userInputMessage as Json | undefined)?.modelId;
    if ((body as Json | undefined)?.additionalModelRequestFields !== undefined && !NATIVE_THINKING_MODELS.has(String(model))) {
      return { message: 'Improperly formed request.', reason: null };
    }
    for (const entry of (Array.isArray(state?.history) ? state.history : []) as Json[]) {
      const reasoning = (entry.assistantResponseMessage as Json | undefined)?.reasoningContent as Json | undefined;
      if (reasoning === undefined) continue;
      if (typeof reasoning !== 'object' || reasoning === null) return { message: 'Improperly formed request.', reason: 'REQUEST_BODY_INVALID' };
      if (typeof reasoning.redactedContent === 'string') {
        if (!this.redacted.has(reasoning.redactedContent)) return { message: 'Invalid signature in thinking block.', reason: 'THINKING_SIGNATURE_INVALID' };
        continue;
      }
      const signed = reasoning.reasoningText as Json | undefined;
      if (!signed || typeof signed.text !== 'string' || typeof signed.signature !== 'string' || signed.signature === '') {
        return { message: 'Improperly formed request.', reason: 'REQUEST_BODY_INVALID' };
      }
      if (signed.signature !== this.sign(signed.text)) return { message: 'Invalid signature in thinking block.', reason: 'THINKING_SIGNATURE_INVALID' };
    }
    return undefined;
  }
}

/** Whether a request asked for native thinking (and its model has it). */
export function wantsNativeThinking(body: unknown): boolean {
  const fields = (body as Json | undefined)?.additionalModelRequestFields as Json | undefined;
  const state = (body as Json | undefined)?.conversationState as Json | undefined;
  const model = ((state?.currentMessage as Json | undefined)?.userInputMessage as Json | undefined)?.modelId;
  return fields?.thinking !== undefined && NATIVE_THINKING_MODELS.has(String(model));
}
