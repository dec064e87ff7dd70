// Host services (`arcade:game/host`) as plain functions. Inside a component
// they call the host's import, which the generated component entry installs
// with `installHost`; in plain Node (rules tests) they use a local splitmix64
// stream seeded with the room seed, bit-identical to the host's stream (and
// to the Rust SDK's `sdk/src/host.rs`), so tests see the same dice as the
// server.

const MASK = (1n << 64n) - 1n;
const GOLDEN_GAMMA = 0x9e3779b97f4a7c15n;

/** The log levels of `arcade:game/host.log`. */
export const LogLevel = Object.freeze({ Debug: 'debug', Info: 'info', Warn: 'warn', Error: 'error' });
const LEVELS = new Set(Object.values(LogLevel));

/**
 * A seed or other u64 as a BigInt in `0..2**64`: BigInts and non-negative
 * safe integers are accepted as they are, negative values wrap (two's
 * complement), anything else is a TypeError.
 */
export function toU64(value) {
  if (typeof value === 'bigint') return BigInt.asUintN(64, value);
  if (typeof value === 'number' && Number.isSafeInteger(value)) return BigInt.asUintN(64, BigInt(value));
  throw new TypeError(`expected an integer or a BigInt, got ${String(value)}`);
}

/** splitmix64: the room random stream of the host (`random-u64`). */
export class SplitMix64 {
  #state;

  constructor(seed = 0n) {
    this.#state = toU64(seed);
  }

  /** The next value, a BigInt in `0..2**64`. */
  nextU64() {
    this.#state = (this.#state + GOLDEN_GAMMA) & MASK;
    let z = this.#state;
    z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & MASK;
    z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & MASK;
    return z ^ (z >> 31n);
  }
}

/** The component's `arcade:game/host` import, once installed. */
let hostImports = null;
/** Natively: the stream of the room whose code is running. */
let active = null;
/** Natively, outside any room call: a stream seeded with 0. */
const outsideRooms = new SplitMix64(0n);

/**
 * Route `randomU64` and `log` to the component's `arcade:game/host@0.1.0`
 * import. Called once by the component entry that `arcade-build-js`
 * generates (`import { log, randomU64 } from 'arcade:game/host@0.1.0'`);
 * games never call it. Without it (plain Node) the native stream is used.
 */
export function installHost(imports) {
  if (typeof imports?.randomU64 !== 'function' || typeof imports?.log !== 'function') {
    throw new TypeError('installHost needs the arcade:game/host functions { randomU64, log }');
  }
  hostImports = imports;
}

/** Whether the host import is installed (inside a component). */
export function hostInstalled() {
  return hostImports !== null;
}

/**
 * Run `fn` with `stream` as the native random stream (the adapter does this
 * around every call into a room, so rooms never share a stream natively).
 * A null stream (inside a component) leaves the host's stream in use.
 */
export function withStream(stream, fn) {
  if (stream === null) return fn();
  const previous = active;
  active = stream;
  try {
    return fn();
  } finally {
    active = previous;
  }
}

/** The next value of the room's deterministic random stream (a BigInt in `0..2**64`). */
export function randomU64() {
  if (hostImports !== null) return BigInt.asUintN(64, BigInt(hostImports.randomU64()));
  return (active ?? outsideRooms).nextU64();
}

/**
 * A uniformly distributed index in `0..n` (`n` > 0) from the room stream,
 * as a number: `Number(randomU64() % BigInt(n))`, exactly as the Rust SDK's
 * `random_below`, so a shuffle written with it deals the same cards.
 */
export function randomBelow(n) {
  if (!((typeof n === 'number' && Number.isSafeInteger(n)) || typeof n === 'bigint') || n <= 0) {
    throw new RangeError(`randomBelow needs a positive integer, got ${String(n)}`);
  }
  return Number(randomU64() % BigInt(n));
}

/**
 * Write a line in the host's log, tagged with the room (never shown to
 * players). `level`: 'debug' | 'info' | 'warn' | 'error'. Natively the line
 * goes to stderr.
 */
export function log(level, message) {
  if (!LEVELS.has(level)) {
    throw new TypeError(`log level must be one of ${[...LEVELS].join(', ')}, got ${String(level)}`);
  }
  const text = String(message);
  if (hostImports !== null) {
    hostImports.log(level, text);
  } else {
    console.error(`[plugin ${level}] ${text}`);
  }
}
