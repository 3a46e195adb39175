import { extendApi } from '@anatine/zod-openapi';
import { z } from 'zod';

export const ModelSchema = extendApi(
  z.object({
    id: z.string(),
    object: z.literal('model'),
    created: z.number().int().describe('Unix time (seconds) the model was released.'),
    owned_by: z.string(),
  }),
  {
    title: 'Model',
    example: { id: 'claude-sonnet-4-5-20250929', object: 'model', created: 1759104000, owned_by: 'anthropic' },
  },
);
export type Model = z.infer<typeof ModelSchema>;

export const ModelListSchema = extendApi(
  z.object({
    object: z.literal('list'),
    data: z.array(ModelSchema),
  }),
  {
    title: 'ListModelsResponse',
    example: {
      object: 'list',
      data: [
        { id: 'claude-sonnet-4-5-20250929', object: 'model', created: 1759104000, owned_by: 'anthropic' },
        { id: 'gpt-4o', object: 'model', created: 1759104000, owned_by: 'anthropic' },
      ],
    },
  },
);
export type ModelList = z.infer<typeof ModelListSchema>;
