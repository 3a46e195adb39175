// Kiro's unwritten request rules (kiro-protocol.md §3.2–3.3), as a validator: the simulator's
// strict mode rejects what real Kiro rejects with its opaque 400, and the tests use it as the
// oracle for the gateway's request normaliser. Returns the first violation, or undefined.

type Json = Record<string, unknown>;

export const MAX_PAYLOAD_BYTES = 615_000;
export const MAX_TOOL_NAME = 64;
export const MAX_TOOL_DESCRIPTION = 10_000;
const IMAGE_FORMATS = new Set(['png', 'jpeg', 'gif', 'webp']);

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const nonEmpty = (v: unknown): boolean => typeof v === 'string' && v.trim().length > 0;

function checkUser(message: unknown, where: string): string | undefined {
  if (!isObject(message)) return `${where}: userInputMessage missing`;
  if (!nonEmpty(message.content)) return `${where}: empty content`;
  if (!nonEmpty(message.modelId)) return `${where}: missing modelId`;
  for (const image of (message.images ?? []) as Json[]) {
    if (!IMAGE_FORMATS.has(String(image.format))) return `${where}: image format ${String(image.format)}`;
    if (!nonEmpty((image.source as Json | undefined)?.bytes)) return `${where}: image without bytes`;
  }
  const ids = new Set<string>();
  for (const result of (((message.userInputMessageContext as Json | undefined)?.toolResults ?? []) as Json[])) {
    const id = String(result.toolUseId);
    if (ids.has(id)) return `${where}: duplicate toolResult ${id}`;
    ids.add(id);
    if (!Array.isArray(result.content) || result.content.length === 0) return `${where}: toolResult ${id} without content`;
  }
  return undefined;
}

export function findViolation(body: unknown): string | undefined {
  if (JSON.stringify(body).length > MAX_PAYLOAD_BYTES) return 'payload over the size limit';
  const state = isObject(body) ? body.conversationState : undefined;
  if (!isObject(state)) return 'no conversationState';
  const current = isObject(state.currentMessage) ? state.currentMessage.userInputMessage : undefined;
  const history = (state.history ?? []) as Json[];
  if (!Array.isArray(history)) return 'history is not an array';
  if (state.history !== undefined && history.length === 0) return 'empty history array';

  const turns = [...history, { userInputMessage: current }];
  let pendingToolUses = new Set<string>();
  const usedTools = new Set<string>();
  for (const [i, entry] of turns.entries()) {
    const isCurrent = i === turns.length - 1;
    const where = isCurrent ? 'currentMessage' : `history[${i}]`;
    const expectUser = i % 2 === 0;
    if (expectUser) {
      if (!('userInputMessage' in entry)) return `${where}: expected a user turn (history must alternate, starting with user)`;
      const problem = checkUser(entry.userInputMessage, where);
      if (problem) return problem;
      const message = entry.userInputMessage as Json;
      const results = (((message.userInputMessageContext as Json | undefined)?.toolResults ?? []) as Json[]).map((r) => String(r.toolUseId));
      for (const id of results) if (!pendingToolUses.has(id)) return `${where}: toolResult ${id} answers no toolUse of the previous turn`;
      for (const id of pendingToolUses) if (!results.includes(id)) return `${where}: toolUse ${id} of the previous turn has no toolResult`;
      if (!isCurrent && (message.userInputMessageContext as Json | undefined)?.tools) return `${where}: tools declared outside currentMessage`;
      pendingToolUses = new Set();
    } else {
      if (!('assistantResponseMessage' in entry) || !isObject(entry.assistantResponseMessage)) return `${where}: expected an assistant turn`;
      const message = entry.assistantResponseMessage;
      if (typeof message.content !== 'string' || (message.content.length === 0)) return `${where}: empty assistant content`;
      const uses = (message.toolUses ?? []) as Json[];
      if (message.content.trim() === '' && uses.length === 0) return `${where}: empty assistant content`;
      for (const use of uses) {
        if (!isObject(use.input)) return `${where}: toolUse input is not an object`;
        if (Object.keys(use.input).includes('')) return `${where}: toolUse input has an empty key`;
        if (pendingToolUses.has(String(use.toolUseId))) return `${where}: duplicate toolUseId ${String(use.toolUseId)}`;
        pendingToolUses.add(String(use.toolUseId));
        usedTools.add(String(use.name).toLowerCase());
      }
    }
  }

  const tools = ((((current as Json).userInputMessageContext as Json | undefined)?.tools ?? []) as Json[]).map((t) => t.toolSpecification as Json);
  const declared = new Set<string>();
  for (const spec of tools) {
    const name = String(spec?.name ?? '');
    if (!name) return 'currentMessage: tool without a name';
    if (name.length > MAX_TOOL_NAME) return `currentMessage: tool name "${name.slice(0, 20)}…" longer than ${MAX_TOOL_NAME}`;
    if (!nonEmpty(spec.description)) return `currentMessage: tool ${name} has an empty description`;
    if (String(spec.description).length > MAX_TOOL_DESCRIPTION) return `currentMessage: tool ${name} description longer than ${MAX_TOOL_DESCRIPTION}`;
    if (!isObject((spec.inputSchema as Json | undefined)?.json)) return `currentMessage: tool ${name} has no inputSchema.json`;
    declared.add(name.toLowerCase());
  }
  for (const name of usedTools) if (!declared.has(name)) return `history uses tool ${name}, which currentMessage does not declare`;
  return undefined;
}
