import type { ModelInfo } from './types.js';

/** Resolves the names clients use (ids, aliases, configured extras) to a model. Case-insensitive. */
export class ModelCatalog {
  private readonly byName = new Map<string, { name: string; model: ModelInfo }>();

  constructor(
    readonly models: readonly ModelInfo[],
    extraAliases: Record<string, string> = {},
  ) {
    for (const model of models) {
      for (const name of [model.id, ...model.aliases]) this.byName.set(name.toLowerCase(), { name, model });
    }
    for (const [alias, target] of Object.entries(extraAliases)) {
      const entry = this.byName.get(target.toLowerCase());
      if (!entry) throw new Error(`alias "${alias}" points to "${target}", which is not a known model`);
      this.byName.set(alias.toLowerCase(), { name: alias, model: entry.model });
    }
  }

  resolve(name: string): ModelInfo | undefined {
    return this.lookup(name)?.model;
  }

  /**
   * The model a name selects, with the name as the catalog spells it. Claude Code's spellings
   * resolve too: a context suffix (`claude-sonnet-4-6[1m]`) and `-latest` are not part of the id.
   */
  lookup(name: string): { name: string; model: ModelInfo } | undefined {
    const key = name.toLowerCase();
    return this.byName.get(key) ?? this.byName.get(key.replace(/\[[^\]]*\]$/, '').replace(/-latest$/, ''));
  }

  /** Every name a client may use, each once, with the model it selects: ids first, then aliases. */
  entries(): { name: string; model: ModelInfo }[] {
    const all = [...this.byName.values()];
    return [...all.filter((e) => e.name === e.model.id), ...all.filter((e) => e.name !== e.model.id)];
  }
}
