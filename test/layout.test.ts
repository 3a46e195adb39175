import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

// The shape the README's "Layout" promises, checked on every import of every source file: faces
// are siblings that never import each other, and nothing beneath them (the HTTP toolkit, the
// orchestrator, the neutral model, operations, shared state, the Kiro adapter, credentials)
// imports a face.

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), '../src');
const files = (dir: string): string[] => readdirSync(dir, { withFileTypes: true }).flatMap((entry) => (entry.isDirectory() ? files(join(dir, entry.name)) : entry.name.endsWith('.ts') ? [join(dir, entry.name)] : []));

/** Every relative import of a file, as a path under src/. */
const importsOf = (file: string): string[] =>
  [...readFileSync(file, 'utf8').matchAll(/^(?:import|export)[^'"]*from\s+'(\.[^']+)'/gm)].map((match) => relative(SRC, resolve(dirname(file), match[1]!)));

const faceOf = (path: string) => /^faces\/([^/]+)\//.exec(path)?.[1];

describe('layout', () => {
  const all = files(SRC).map((file) => ({ path: relative(SRC, file), imports: importsOf(file) }));

  it('finds the files and their imports', () => {
    assert.ok(all.length > 50);
    assert.ok(all.find((f) => f.path === 'gateway.ts')!.imports.some((i) => i.startsWith('faces/')));
  });

  it('no face imports another face', () => {
    for (const file of all) {
      const own = faceOf(file.path);
      if (!own) continue;
      for (const target of file.imports) {
        const other = faceOf(target);
        assert.ok(!other || other === own, `${file.path} (face ${own}) imports ${target}`);
      }
    }
  });

  it('the pieces beneath the faces import no face', () => {
    for (const file of all.filter((f) => /^(http|orchestrator|chat|ops|shared|kiro|credentials)\//.test(f.path))) {
      for (const target of file.imports) assert.ok(!target.startsWith('faces/'), `${file.path} imports ${target}`);
    }
  });

  it('the Kiro adapter and the credentials know no HTTP face plumbing', () => {
    for (const file of all.filter((f) => /^(kiro|credentials)\//.test(f.path))) {
      for (const target of file.imports) assert.ok(!/^(http|orchestrator|ops)\//.test(target), `${file.path} imports ${target}`);
    }
  });

  it('no object literal defines a getter or setter (a class does)', () => {
    // V8 keeps an object literal's accessors in the old generation, which the scavenger treats as
    // alive: whatever a per-request getter's closure holds survives every scavenge until a full
    // collection. One such getter on the built Kiro body cost 1–2 ms and ~50 page faults per
    // 115 KB request, copying ~900 KB at each scavenge (see Built in src/kiro/request.ts).
    const found: string[] = [];
    for (const file of files(SRC)) {
      const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
      const visit = (node: ts.Node): void => {
        if ((ts.isGetAccessor(node) || ts.isSetAccessor(node)) && ts.isObjectLiteralExpression(node.parent)) {
          found.push(`${relative(SRC, file)}:${source.getLineAndCharacterOfPosition(node.getStart()).line + 1}`);
        }
        ts.forEachChild(node, visit);
      };
      visit(source);
    }
    assert.deepEqual(found, []);
  });
});
