#!/usr/bin/env node
// arcade-build-js: build a JavaScript game into an Arcade plugin component.
//
//   node bin/build.mjs GAME.js -o OUT.wasm [--wit PATH] [--raw]
//
// Without --raw, GAME.js default-exports a Game subclass (arcade-sdk): the
// tool generates the component entry, which installs the host import as the
// SDK's backend and exports `rules = exportGame(Game)`. With --raw, GAME.js
// already exports `rules` in componentize-js's shapes.
//
// componentize-js (0.23.0) evaluates its source inside the engine with only
// the source's directory mapped: it does not resolve bare imports (no
// node_modules lookup), nor relative ones leaving that directory. So the
// entry and everything it imports is first bundled into one ES module with
// esbuild; only `arcade:*` imports stay (the engine binds them to the
// component's imports). `arcade-sdk` always resolves to this package's own
// source, so the game and the entry share one copy of the SDK.
//
// Every engine feature is disabled (stdio, random, clocks, http,
// fetch-event): the component then imports nothing but arcade:game/host,
// which is all the server accepts, and the engine reads no clock.

import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const SDK_ENTRY = {
  '': join(root, 'src', 'index.js'),
  '/testing': join(root, 'src', 'testing.js'),
};
const DISABLED_FEATURES = ['stdio', 'random', 'clocks', 'http', 'fetch-event'];
const HOST_IMPORT = 'arcade:game/host@0.1.0';

const USAGE = `usage: arcade-build-js GAME.js -o OUT.wasm [--wit PATH] [--raw]

  GAME.js       a module whose default export is a Game subclass (arcade-sdk),
                or with --raw one that exports \`rules\` itself
  -o, --out     the component to write
  --wit PATH    the WIT file or directory (default: the WIT bundled with
                arcade-sdk, ${join(root, 'wit', 'arcade.wit')})
  --world NAME  the world to target (default: game)
  --raw         GAME.js exports \`rules\`; no SDK entry is generated`;

/** The component entry for a Game class module. */
function entrySource(gamePath) {
  return [
    `import { log, randomU64 } from '${HOST_IMPORT}';`,
    `import { exportGame, installHost } from 'arcade-sdk';`,
    `import Game from ${JSON.stringify(gamePath)};`,
    '',
    'installHost({ log, randomU64 });',
    'export const rules = exportGame(Game);',
    '',
  ].join('\n');
}

/** esbuild plugin: `arcade-sdk` (and `arcade-sdk/testing`) is this package's source. */
const sdkAlias = {
  name: 'arcade-sdk',
  setup(build) {
    build.onResolve({ filter: /^arcade-sdk(\/testing)?$/ }, (args) => ({
      path: SDK_ENTRY[args.path.slice('arcade-sdk'.length)],
    }));
  },
};

/** One ES module with everything but `arcade:*` imports inlined. */
async function bundle(gamePath, { raw = false } = {}) {
  const esbuild = await import('esbuild');
  const common = {
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'neutral',
    target: 'es2022',
    mainFields: ['module', 'main'],
    external: ['arcade:*'],
    plugins: [sdkAlias],
    keepNames: true,
    legalComments: 'none',
    logLevel: 'silent',
  };
  const result = raw
    ? await esbuild.build({ ...common, entryPoints: [gamePath] })
    : await esbuild.build({
        ...common,
        stdin: {
          contents: entrySource(gamePath),
          resolveDir: dirname(gamePath),
          sourcefile: 'arcade-entry.js',
          loader: 'js',
        },
      });
  return result.outputFiles[0].text;
}

/** Load the game natively and check its default export (a clearer error than a failed build). */
async function describeGame(gamePath) {
  let module;
  try {
    module = await import(pathToFileURL(gamePath).href);
  } catch (e) {
    console.error(`warning: could not load ${gamePath} in Node to check it (${e.message}); building anyway`);
    return null;
  }
  const Game = module.default;
  if (typeof Game !== 'function' || typeof Game.info !== 'function') {
    throw new Error(`${gamePath} must default-export a Game class (with a static info()); use --raw for a module exporting \`rules\``);
  }
  const info = Game.info();
  if (!/^[a-z0-9-]+$/.test(info?.name ?? '')) {
    throw new Error(`game name ${JSON.stringify(info?.name)}: use lowercase letters, digits and '-'`);
  }
  return `${info.name}@${info.version}`;
}

/**
 * Build `gamePath` into a component; returns `{ component, name }`
 * (`name` is `name@version` when known).
 */
async function build(gamePath, { raw = false, wit = join(root, 'wit', 'arcade.wit'), world = 'game' } = {}) {
  gamePath = resolve(gamePath);
  wit = resolve(wit);
  await stat(gamePath);
  await stat(wit);
  const name = raw ? null : await describeGame(gamePath);
  const source = await bundle(gamePath, { raw });
  const { componentize } = await import('@bytecodealliance/componentize-js');
  const work = await mkdtemp(join(tmpdir(), 'arcade-build-js-'));
  // componentize-js maps the source's directory (or the working directory
  // when it contains the source) into the engine, and gets the path wrong
  // when the working directory is "/": build from the bundle's own
  // directory, whatever the caller's working directory is.
  const cwd = process.cwd();
  try {
    const sourcePath = join(work, `${basename(gamePath, extname(gamePath))}.js`);
    await writeFile(sourcePath, source);
    process.chdir(work);
    const { component } = await componentize({
      sourcePath,
      witPath: wit,
      worldName: world,
      disableFeatures: DISABLED_FEATURES,
    });
    return { component, name };
  } finally {
    process.chdir(cwd);
    await rm(work, { recursive: true, force: true });
  }
}

async function main(argv) {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: {
        out: { type: 'string', short: 'o' },
        wit: { type: 'string' },
        world: { type: 'string' },
        raw: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      allowPositionals: true,
    });
  } catch (e) {
    console.error(`${e.message}\n\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (positionals.length !== 1 || !values.out) {
    console.error(USAGE);
    return 2;
  }
  const out = resolve(values.out);
  const started = performance.now();
  const { component, name } = await build(positionals[0], {
    raw: values.raw ?? false,
    wit: values.wit ?? join(root, 'wit', 'arcade.wit'),
    world: values.world ?? 'game',
  });
  await writeFile(out, component);
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  const megabytes = (component.length / 1e6).toFixed(1);
  console.log(`built ${name ? `${name} ` : ''}${out} (${megabytes} MB in ${seconds} s)`);
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e) => {
    console.error(`arcade-build-js: ${e?.stack ?? e}`);
    process.exit(1);
  },
);
