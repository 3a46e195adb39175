import { extendApi } from '@anatine/zod-openapi';
import { z } from 'zod';

/** OpenAI's error envelope. Every non-2xx answer of the gateway has exactly this shape. */
export const ErrorResponseSchema = extendApi(
  z.object({
    error: z.object({
      message: z.string().describe('Human-readable explanation, safe to show to a user.'),
      type: z
        .string()
        .describe('Error class: invalid_request_error, authentication_error, not_found_error, rate_limit_error, upstream_error, server_error, …'),
      param: z.string().nullable().describe('The request parameter at fault, if any (e.g. `messages.0.content`).'),
      code: z.string().nullable().describe('Machine-readable code (e.g. `invalid_api_key`, `model_not_found`).'),
    }),
  }),
  {
    title: 'ErrorResponse',
    example: {
      error: {
        message: 'The model `gpt-5-turbo` does not exist. GET /v1/models lists the available models.',
        type: 'invalid_request_error',
        param: 'model',
        code: 'model_not_found',
      },
    },
  },
);
export type ErrorResponse = z.infer<typeof ErrorResponseSchema>;
