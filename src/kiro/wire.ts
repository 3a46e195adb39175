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

export interface KiroAssistantResponseMessage {
  content: string;
  toolUses?: KiroToolUse[];
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
