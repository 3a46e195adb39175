import type { AnthropicModel, AnthropicModelList } from '../../../contract/index.js';
import type { ModelCatalog } from '../../chat/models.js';
import type { ModelInfo } from '../../chat/types.js';

// The model list in Anthropic's shape: what Claude Code's model discovery and the Anthropic SDK's
// `models.list()` read (Claude Code keeps the ids that start with `claude`).

export const toAnthropicModel = (name: string, model: ModelInfo): AnthropicModel => ({
  type: 'model',
  id: name,
  display_name: model.displayName,
  created_at: new Date(model.created * 1000).toISOString().replace('.000Z', 'Z'),
});

export function anthropicModelList(catalog: ModelCatalog): AnthropicModelList {
  const data = catalog.entries().map(({ name, model }) => toAnthropicModel(name, model));
  return { data, has_more: false, first_id: data[0]?.id ?? null, last_id: data.at(-1)?.id ?? null };
}
