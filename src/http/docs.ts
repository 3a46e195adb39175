import express, { type Router } from 'express';
import swaggerUi from 'swagger-ui-express';

/** `/openapi.json` (byte-identical to the committed file) and a self-hosted Swagger UI at `/docs`. */
export function docsRouter(openapiJson: string): Router {
  const router = express.Router();
  const document = JSON.parse(openapiJson) as swaggerUi.JsonObject;
  router.get('/openapi.json', (_req, res) => {
    res.type('application/json').send(openapiJson);
  });
  router.use(
    '/docs',
    swaggerUi.serveFiles(document),
    swaggerUi.setup(document, {
      customSiteTitle: 'ki2api — API docs',
      swaggerOptions: { persistAuthorization: true, displayRequestDuration: true, tryItOutEnabled: true },
    }),
  );
  return router;
}
