import { GatewayError } from './errors.js';
import type { ModelInfo } from './types.js';

type Entry = { name: string; model: ModelInfo };

/**
 * Resolves the names clients use (ids, aliases, configured extras) to a model. Case-insensitive.
 * The models can change while the gateway runs (the accounts' own lists): the index is rebuilt
 * whenever the upstream hands out a new list.
 */
export class ModelCatalog {
  private readonly source: () => readonly ModelInfo[];
  private indexed: readonly ModelInfo[] | undefined;
  private byName = new Map<string, Entry>();

  constructor(
    models: readonly ModelInfo[] | (() => readonly ModelInfo[]),
    private readonly extraAliases: Record<string, string> = {},
  ) {
    this.source = typeof models === 'function' ? models : () => models;
    for (const [alias, target] of Object.entries(extraAliases)) {
      if (!this.index().has(target.toLowerCase())) throw new Error(`alias "${alias}" points to "${target}", which is not a known model`);
    }
  }

  get models(): readonly ModelInfo[] {
    return this.source();
  }

  private index(): Map<string, Entry> {
    const models = this.source();
    if (models === this.indexed) return this.byName;
    const byName = new Map<string, Entry>();
    for (const model of models) {
      for (const name of [model.id, ...model.aliases]) if (!byName.has(name.toLowerCase())) byName.set(name.toLowerCase(), { name, model });
    }
    // An alias to a model no account has any more selects nothing (until one has it again).
    for (const [alias, target] of Object.entries(this.extraAliases)) {
      const entry = byName.get(target.toLowerCase());
      if (entry) byName.set(alias.toLowerCase(), { name: alias, model: entry.model });
    }
    this.byName = byName;
    this.indexed = models;
    return byName;
  }

  resolve(name: string): ModelInfo | undefined {
    return this.lookup(name)?.model;
  }

  /** The model a name selects, or the 404 every face sends: it names the models there are. */
  require(name: string): ModelInfo {
    const model = this.resolve(name);
    if (model) return model;
    const ids = this.source().map((m) => m.id);
    const shown = ids.length > 12 ? `${ids.slice(0, 12).join(', ')}, …` : ids.join(', ');
    throw new GatewayError('not_found', `The model \`${name}\` does not exist, or no Kiro account of this gateway may use it. Available: ${shown} (GET /v1/models lists them, with their aliases).`, {
      param: 'model',
      code: 'model_not_found',
    });
  }

  /**
   * The model a name selects, with the name as the catalog spells it. Claude Code's spellings
   * resolve too: a context suffix (`claude-sonnet-4-6[1m]`) and `-latest` are not part of the id.
   */
  lookup(name: string): Entry | undefined {
    const key = name.toLowerCase();
    const index = this.index();
    return index.get(key) ?? index.get(key.replace(/\[[^\]]*\]$/, '').replace(/-latest$/, ''));
  }

  /** Every name a client may use, each once, with the model it selects: ids first, then aliases. */
  entries(): Entry[] {
    const all = [...this.index().values()];
    return [...all.filter((e) => e.name === e.model.id), ...all.filter((e) => e.name !== e.model.id)];
  }
}
