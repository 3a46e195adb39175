import { writeFileSync } from 'node:fs';
import { openapiJsonText } from '../src/http/docs.js';

// Regenerates the committed openapi.json from the contract. `npm test` fails when they differ.
const target = new URL('../openapi.json', import.meta.url);
writeFileSync(target, openapiJsonText());
console.log(`wrote ${target.pathname}`);
