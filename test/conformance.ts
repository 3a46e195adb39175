import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import yaml from 'js-yaml';

// Validates our responses against OpenAI's official OpenAPI schemas (../shared/conformance),
// when that file is present. Tests skip, saying so, when it is not.

export const SPEC_PATH = fileURLToPath(new URL('../../shared/conformance/openai-openapi.yaml', import.meta.url));
export const SKIP_REASON = `OpenAI's spec not found at ${SPEC_PATH}: conformance checks skipped`;

type Json = Record<string, unknown>;

/** The 3.1 file still uses 3.0's `nullable`; rewrite it into JSON Schema 2020 terms. */
function denull(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(denull);
  if (!node || typeof node !== 'object') return node;
  const out: Json = {};
  for (const [k, v] of Object.entries(node as Json)) out[k] = denull(v);
  if (out.nullable === true) {
    delete out.nullable;
    if (typeof out.type === 'string') {
      out.type = [out.type, 'null'];
      if (Array.isArray(out.enum) && !out.enum.includes(null)) out.enum = [...out.enum, null];
    } else {
      return { anyOf: [out, { type: 'null' }] };
    }
  } else if (out.nullable === false) delete out.nullable;
  return out;
}

let validators: Map<string, ValidateFunction> | undefined;

export const specAvailable = (): boolean => existsSync(SPEC_PATH);

/** A validator for `#/components/schemas/<name>` of OpenAI's spec. */
export function openaiSchema(name: string): ValidateFunction {
  if (!validators) {
    const spec = yaml.load(readFileSync(SPEC_PATH, 'utf8')) as { components: Json };
    const ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: true });
    addFormats.default(ajv);
    ajv.addFormat('unixtime', true);
    ajv.addSchema({ $id: 'openai', components: denull(spec.components) as Json });
    validators = new Map();
    (validators as unknown as { ajv: Ajv2020 }).ajv = ajv;
  }
  let validate = validators.get(name);
  if (!validate) {
    const ajv = (validators as unknown as { ajv: Ajv2020 }).ajv;
    validate = ajv.getSchema(`openai#/components/schemas/${name}`)!;
    validators.set(name, validate);
  }
  return validate;
}

/** Throws with ajv's errors when `value` does not match OpenAI's schema `name`. */
export function assertConforms(name: string, value: unknown): void {
  const validate = openaiSchema(name);
  if (!validate(value)) throw new Error(`${name} does not conform to OpenAI's spec: ${JSON.stringify(validate.errors?.slice(0, 5))}\n${JSON.stringify(value)}`);
}
