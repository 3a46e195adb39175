// Kiro's request and event shapes (kiro-protocol.md §3, §5). Only what we send or read.

export interface KiroImage {
  format: 'png' | 'jpeg' | 'gif' | 'webp';
  source: { bytes: string };
}

export interface KiroTool {
  toolSpecification: { name: string; description: string; inputSchema: { json: Record<string, unknown> } };
}

export interface KiroToolResult {
  toolUseId: string;
  content: { text: string }[];
  status: 'success' | 'error';
}

export interface KiroToolUse {
  toolUseId: string;
  name: string;
  input: Record<string, unknown>;
}

export interface KiroUserInputMessage {
  content: string;
  modelId: string;
  origin: 'AI_EDITOR';
  images?: KiroImage[];
  userInputMessageContext?: { tools?: KiroTool[]; toolResults?: KiroToolResult[] };
}

/** Thinking replayed to Kiro in history (kiro-protocol.md §9): signed text, or Kiro's redacted blob. */
export type KiroReasoningContent = { reasoningText: { text: string; signature: string } } | { redactedContent: string };

export interface KiroAssistantResponseMessage {
  content: string;
  toolUses?: KiroToolUse[];
  reasoningContent?: KiroReasoningContent;
}

/** Native reasoning options for the models that advertise them (kiro-protocol.md §9). */
export interface KiroModelRequestFields {
  thinking: { type: 'adaptive'; display?: 'summarized' | 'omitted' };
  output_config?: { effort: 'low' | 'medium' | 'high' | 'max' };
}

export type KiroHistoryEntry =
  | { userInputMessage: KiroUserInputMessage }
  | { assistantResponseMessage: KiroAssistantResponseMessage };

export interface KiroRequestBody {
  conversationState: {
    chatTriggerType: 'MANUAL';
    conversationId: string;
    agentTaskType: 'vibe';
    currentMessage: { userInputMessage: KiroUserInputMessage };
    history?: KiroHistoryEntry[];
  };
  additionalModelRequestFields?: KiroModelRequestFields;
  profileArn?: string;
}

/** A decoded event-stream message, headers flattened to strings. */
export interface KiroFrame {
  messageType: string;
  eventType: string | undefined;
  exceptionType: string | undefined;
  errorCode: string | undefined;
  payload: Record<string, unknown>;
}
