// bin/build.mjs builds a real component (about 10 s: the engine is
// initialized with the game's code inside).

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const run = promisify(execFile);
const WASM_MAGIC = [0x00, 0x61, 0x73, 0x6d];
const example = join(root, '..', 'plugins', 'js', 'tic-tac-toe', 'game.js');
const outside = !existsSync(example) && 'the example is not here (outside the repository)';

test('builds the tic-tac-toe example into a component', { timeout: 300_000, skip: outside }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'arcade-sdk-test-'));
  try {
    const out = join(dir, 'ttt.wasm');
    const game = example;
    const { stdout } = await run(process.execPath, [join(root, 'bin', 'build.mjs'), game, '-o', out], { cwd: dir });
    assert.match(stdout, /^built js-tic-tac-toe@1\.0\.0 /);
    const wasm = await readFile(out);
    assert.deepEqual([...wasm.subarray(0, 4)], WASM_MAGIC);
    assert.ok(wasm.length > 1_000_000, `${wasm.length} bytes: a component carries its engine`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('usage errors', async () => {
  await assert.rejects(run(process.execPath, [join(root, 'bin', 'build.mjs')]), (e) => e.code === 2 && /usage:/.test(e.stderr));
  const notAGame = join(root, 'test', 'games.js');
  await assert.rejects(
    run(process.execPath, [join(root, 'bin', 'build.mjs'), notAGame, '-o', join(tmpdir(), 'never.wasm')]),
    (e) => e.code === 1 && /must default-export a Game class/.test(e.stderr),
  );
});
