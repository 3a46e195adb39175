// Experiment: the same work as the chat route, without Express/ts-rest/body-parser/observe.
import { createServer } from 'node:http';
process.env.KIRO_ACCESS_TOKEN ??= 't';
const { loadConfig } = await import('../dist/src/config.js');
const { createLogger } = await import('../dist/src/logger.js');
const { createGateway } = await import('../dist/src/gateway.js');
const { ChatCompletionRequestSchema } = await import('../dist/contract/chat.js');
const { toChatRequest } = await import('../dist/src/openai/request.js');
const { collectCompletion, completionId, unixSeconds } = await import('../dist/src/openai/response.js');
const { RequestTrace } = await import('../dist/src/chat/trace.js');
const { config } = loadConfig(process.env, []);
const gw = createGateway(config, createLogger('warn'));
const { ModelCatalog } = await import('../dist/src/chat/models.js');
const catalog = new ModelCatalog(gw.upstream.models, config.modelAliases);
createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', async () => {
    try {
      const body = ChatCompletionRequestSchema.parse(JSON.parse(Buffer.concat(chunks).toString()));
      const model = catalog.resolve(body.model);
      const trace = new RequestTrace();
      const chat = await toChatRequest(body, model);
      const ctl = new AbortController();
      const events = await gw.upstream.stream(chat, ctl.signal, trace);
      const completion = await collectCompletion(events, completionId(), body.model, unixSeconds(), (b) => trace.note(b));
      const text = JSON.stringify(completion);
      res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
      res.end(text);
    } catch (e) { res.writeHead(500).end(String(e)); }
  });
}).listen(Number(process.env.PORT), '127.0.0.1');
