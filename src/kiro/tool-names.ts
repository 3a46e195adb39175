import { createHash } from 'node:crypto';

// Kiro rejects tool names over 64 characters, which long MCP tool names often are. They are
// shortened deterministically (same name → same short name, in every turn) and mapped back in
// answers, so the client only ever sees its own names.

export const MAX_TOOL_NAME = 64;

export function shortToolName(name: string): string {
  if (name.length <= MAX_TOOL_NAME) return name;
  const hash = createHash('sha256').update(name).digest('hex').slice(0, 8);
  return `${name.slice(0, MAX_TOOL_NAME - 9)}_${hash}`;
}

/** Short (Kiro) name → client name, for the names that had to be shortened. */
export class ToolNameMap {
  private readonly toClient = new Map<string, string>();

  toKiro(name: string): string {
    const short = shortToolName(name);
    if (short !== name) this.toClient.set(short, name);
    return short;
  }

  fromKiro(name: string): string {
    return this.toClient.get(name) ?? this.toClient.get(name.toLowerCase()) ?? name;
  }

  /** Long names in free text (prompts, descriptions) rewritten to what Kiro knows them as. */
  rewriteText(text: string): string {
    let out = text;
    for (const [short, long] of this.toClient) out = out.split(long).join(short);
    return out;
  }

  get size(): number {
    return this.toClient.size;
  }
}
