import express, { type RequestHandler, type Router } from 'express';
import helmet from 'helmet';
import swaggerUi from 'swagger-ui-express';
import { buildOpenApiDocument } from '../../contract/openapi.js';
import { VERSION } from '../version.js';

/** The committed openapi.json, as text: what `npm run openapi` writes and `/openapi.json` serves. */
export const openapiJsonText = (): string => `${JSON.stringify(buildOpenApiDocument(VERSION), null, 2)}\n`;

/** Security headers for the pages a browser renders; Swagger UI needs its own inline styles. */
const docsHeaders = helmet({
  contentSecurityPolicy: {
    directives: { defaultSrc: ["'self'"], scriptSrc: ["'self'"], styleSrc: ["'self'", "'unsafe-inline'"], imgSrc: ["'self'", 'data:'], connectSrc: ["'self'"], upgradeInsecureRequests: null },
  },
});

/** `/openapi.json` (byte-identical to the committed file) and a self-hosted Swagger UI at `/docs`. */
export function docsRouter(): Router {
  const openapiJson = openapiJsonText();
  const document = JSON.parse(openapiJson) as swaggerUi.JsonObject;
  const router = express.Router();
  router.use(['/docs', '/openapi.json'], docsHeaders);
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
