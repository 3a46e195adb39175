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

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Short (Kiro) name → client name, for the names that had to be shortened. */
export class ToolNameMap {
  private readonly toClient = new Map<string, string>();
  private readonly toShort = new Map<string, string>();
  /** Every long name, longest first: one pass over a text finds them all. Built when first needed. */
  private longNames: RegExp | undefined;

  toKiro(name: string): string {
    const short = shortToolName(name);
    if (short !== name && !this.toShort.has(name)) {
      this.toClient.set(short, name);
      this.toShort.set(name, short);
      this.longNames = undefined;
    }
    return short;
  }

  fromKiro(name: string): string {
    return this.toClient.get(name) ?? this.toClient.get(name.toLowerCase()) ?? name;
  }

  /** Long names in free text (prompts, descriptions) rewritten to what Kiro knows them as, in one pass. */
  rewriteText(text: string): string {
    if (this.toShort.size === 0) return text;
    this.longNames ??= new RegExp([...this.toShort.keys()].sort((a, b) => b.length - a.length).map(escapeRegExp).join('|'), 'g');
    return text.replace(this.longNames, (long) => this.toShort.get(long)!);
  }

  get size(): number {
    return this.toClient.size;
  }
}
