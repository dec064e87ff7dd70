// Builds a JavaScript game into a component: node build.mjs SOURCE WIT OUT.
// Every WASI feature of the engine is off (stdio, random, clocks, http,
// fetch-event): the component then imports nothing the server refuses, and
// StarlingMonkey reads no clock.
import { componentize } from '@bytecodealliance/componentize-js';
import { writeFile } from 'node:fs/promises';

const [source, wit, out] = process.argv.slice(2);
const { component } = await componentize({
  sourcePath: source,
  witPath: wit,
  worldName: 'game',
  disableFeatures: ['stdio', 'random', 'clocks', 'http', 'fetch-event'],
});
await writeFile(out, component);
