import { parseArgs } from 'node:util';
import { KiroSimulator } from './server.js';

// Run the Kiro simulator alone: `npm run simulator -- --port 9999 [--strict]`.
const { values } = parseArgs({
  options: { port: { type: 'string', default: '9999' }, strict: { type: 'boolean', default: false }, 'answer-delay-ms': { type: 'string', default: '25' } },
});
const simulator = await new KiroSimulator({ port: Number(values.port), strict: values.strict, answerDelayMs: Number(values['answer-delay-ms']), keepRequests: 100, unmetered: true }).start();
console.log(`Kiro simulator on ${simulator.url}: chat, MCP, both refreshes, device-code and social login, profiles, models, usage limits; the legacy host under /q${values.strict ? '; strict' : ''}`);
