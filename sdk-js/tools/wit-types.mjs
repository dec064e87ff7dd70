#!/usr/bin/env node
// Generates the TypeScript declarations of the WIT world `game` into
// types/wit/ (`npm run types`; `node tools/wit-types.mjs [OUT_DIR] [--wit PATH]`).
//
// This is what `npx jco guest-types wit/arcade.wit --world-name game -o
// types/wit` would do, run in-process because that command does not work
// with jco 1.35.0: jco's type generator is itself a component run on
// @bytecodealliance/preview2-shim, and the shim it gets (0.26.x, through
// jco-transpile 0.15.0) no longer preopens "/" by default, so the generator
// cannot open any WIT path ("failed to read path for WIT [...]: No such
// file or directory (os error 44)"; `jco types` fails the same way). Here
// the WIT's directory is preopened in that very shim instance first.
//
// Guest types (`declare module 'arcade:game/host@0.1.0' { ... }`) rather
// than host types: a plugin is the guest of this world; it imports
// `arcade:game/host@0.1.0` and exports `rules`.

import { realpathSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** The generated files for the WIT at `witPath`: `{ 'game.d.ts': text, 'interfaces/...': text }`. */
export async function generateWitTypes(witPath = join(root, 'wit', 'arcade.wit')) {
  const wit = resolve(witPath);
  // jco-transpile and the preview2-shim it runs on, as jco resolves them.
  const fromJco = createRequire(fileURLToPath(import.meta.resolve('@bytecodealliance/jco')));
  const transpile = fromJco.resolve('@bytecodealliance/jco-transpile');
  const shim = createRequire(transpile).resolve('@bytecodealliance/preview2-shim/filesystem');
  const filesystem = await import(pathToFileURL(shim).href);
  const dir = dirname(wit);
  if (!filesystem.preopens.getDirectories().some(([, path]) => path === dir)) {
    filesystem._addPreopen(dir, dir);
  }
  const { generateGuestTypes } = await import(pathToFileURL(transpile).href);
  const files = await generateGuestTypes(wit, { worldName: 'game' });
  const decoder = new TextDecoder();
  return Object.fromEntries(
    Object.entries(files)
      .map(([name, bytes]) => [name, decoder.decode(bytes)])
      .sort(([a], [b]) => a.localeCompare(b)),
  );
}

/** Write the generated files under `outDir` (replacing what was there). */
export async function writeWitTypes(outDir, witPath) {
  const files = await generateWitTypes(witPath);
  await rm(outDir, { recursive: true, force: true });
  for (const [name, text] of Object.entries(files)) {
    const path = join(outDir, name);
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, text);
  }
  return Object.keys(files);
}

if (process.argv[1] && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { values, positionals } = parseArgs({ options: { wit: { type: 'string' } }, allowPositionals: true });
  const outDir = resolve(positionals[0] ?? join(root, 'types', 'wit'));
  const names = await writeWitTypes(outDir, values.wit);
  console.log(`wrote ${names.length} files to ${outDir}: ${names.join(', ')}`);
}
