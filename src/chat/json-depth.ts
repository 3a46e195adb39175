// JSON.parse reads any depth, but JSON.stringify and every recursive walk (schema cleaning, token
// counting, conversions) overflow the stack somewhere past a few thousand levels, and a stack
// overflow is a 500. So nesting is bounded where JSON enters: request bodies and tool arguments.

/** Deepest nesting a request may carry (objects and arrays), far beyond any real schema or argument. */
export const MAX_JSON_DEPTH = 100;

/** Whether `value` nests objects/arrays deeper than `limit` levels. Iterative: safe on any input. */
export function nestedDeeperThan(value: unknown, limit = MAX_JSON_DEPTH): boolean {
  if (value === null || typeof value !== 'object') return false;
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length > 0) {
    const [node, depth] = stack.pop()!;
    if (depth > limit) return true;
    if (Array.isArray(node)) {
      for (const item of node) if (item !== null && typeof item === 'object') stack.push([item, depth + 1]);
    } else {
      for (const key in node as Record<string, unknown>) {
        const item = (node as Record<string, unknown>)[key];
        if (item !== null && typeof item === 'object') stack.push([item, depth + 1]);
      }
    }
  }
  return false;
}
