import type { Model, ModelList } from '../../../contract/index.js';
import type { ModelCatalog } from '../../chat/models.js';
import type { ModelInfo } from '../../chat/types.js';

// The model list in OpenAI's shape: what `client.models.list()` and every OpenAI tool read.

export const toOpenAIModel = (name: string, model: ModelInfo): Model => ({ id: name, object: 'model', created: model.created, owned_by: model.ownedBy });

export const openaiModelList = (catalog: ModelCatalog): ModelList => ({
  object: 'list',
  data: catalog.entries().map(({ name, model }) => toOpenAIModel(name, model)),
});
