// The package carries its own copy of the WIT and the TypeScript types
// generated from it; both must stay in step with the repository's WIT.

import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { generateWitTypes } from '../tools/wit-types.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bundled = join(root, 'wit', 'arcade.wit');
const repository = join(root, '..', 'wit', 'arcade.wit');

function filesUnder(dir) {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath ?? e.path, e.name)))
    .sort();
}

test('the bundled WIT equals the repository WIT', { skip: !existsSync(repository) && 'not inside the repository' }, () => {
  assert.equal(readFileSync(bundled, 'utf8'), readFileSync(repository, 'utf8'), 'copy wit/arcade.wit to sdk-js/wit/');
});

test('the committed WIT types equal a fresh generation (npm run types)', async () => {
  const fresh = await generateWitTypes(bundled);
  const dir = join(root, 'types', 'wit');
  assert.deepEqual(filesUnder(dir), Object.keys(fresh).sort(), 'run `npm run types`');
  for (const [name, text] of Object.entries(fresh)) {
    assert.equal(readFileSync(join(dir, name), 'utf8'), text, `${name} is stale: run \`npm run types\``);
  }
  assert.match(fresh['interfaces/arcade-game-host.d.ts'], /export function randomU64\(\): bigint;/);
});
