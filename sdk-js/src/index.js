// Arcade SDK for JavaScript: write the rules of a game as a class, test them
// in plain Node with `arcade-sdk/testing`, and build a WebAssembly component
// with `arcade-build-js`. See README.md.

export {
  Game,
  GameInfo,
  Viewer,
  Event,
  visibleTo,
  Status,
  ActionError,
  NotYourTurn,
  NotAPlayer,
  GameOver,
  Malformed,
  Illegal,
} from './game.js';
export { randomU64, randomBelow, log, LogLevel, SplitMix64, installHost } from './host.js';
export { exportGame, CreateRefused } from './adapter.js';
