// Bridges a `Game` class to the `arcade:game/rules` export: JSON in and
// out, and the checks every game shares (player count, seated player, game
// over), exactly as the Rust SDK's `sdk/src/adapter.rs`. The native test
// table (`testing.js`) drives the same `RoomAdapter`.

import { ActionError, Event, GameOver, Malformed, NotAPlayer, Status, Viewer } from './game.js';
import { SplitMix64, hostInstalled, log, toU64, withStream } from './host.js';

/** A room was not created: the message is the refusal the host passes on. */
export class CreateRefused extends Error {}
CreateRefused.prototype.name = 'CreateRefused';

const U32_MAX = 2 ** 32 - 1;

function u32(value, field) {
  if (!Number.isInteger(value) || value < 0 || value > U32_MAX) {
    throw new TypeError(`game info ${field} must be an integer in 0..2**32, got ${String(value)}`);
  }
  return value;
}

/** The WIT `game-info` record of a Game class. */
export function gameInfo(GameClass) {
  const info = GameClass.info();
  for (const field of ['name', 'version', 'description']) {
    if (typeof info?.[field] !== 'string') throw new TypeError(`game info ${field} must be a string`);
  }
  return {
    name: info.name,
    version: info.version,
    description: info.description,
    minPlayers: u32(info.minPlayers, 'minPlayers'),
    maxPlayers: u32(info.maxPlayers, 'maxPlayers'),
    tickHz: u32(info.tickHz ?? 0, 'tickHz'),
  };
}

function eventList(events, where) {
  if (events === undefined || events === null) return [];
  if (!Array.isArray(events)) throw new TypeError(`${where} must return a list of events`);
  return events.map((e) => Event.from(e));
}

/** One room of a game: the game instance plus the shared checks. */
export class RoomAdapter {
  #players;
  #game;
  /** The native random stream of this room (null inside a component, where the host's is used). */
  #stream;
  /**
   * `game.status()` since the last change: the host asks for the status
   * after every action, and the next action's game-over check reuses it.
   */
  #status = null;

  constructor(players, game, stream) {
    this.#players = players;
    this.#game = game;
    this.#stream = stream;
  }

  /**
   * Check the players, parse the config (JSON text; blank = "{}") and
   * create the game. Throws `CreateRefused` with the refusal message.
   */
  static start(GameClass, config, players, seed) {
    const info = gameInfo(GameClass);
    const seats = Array.from(players);
    const n = seats.length;
    if (n < info.minPlayers || n > info.maxPlayers) {
      throw new CreateRefused(`${info.name} needs ${info.minPlayers}..=${info.maxPlayers} players, got ${n}`);
    }
    seats.forEach((p, i) => {
      if (typeof p !== 'string' || p === '' || seats.indexOf(p) !== i) {
        throw new CreateRefused(`player names must be non-empty and distinct, got ${JSON.stringify(p)}`);
      }
    });
    Object.freeze(seats);
    const text = String(config ?? '').trim() === '' ? '{}' : String(config);
    let parsed;
    try {
      parsed = JSON.parse(text);
    } catch (e) {
      throw new CreateRefused(`invalid config: ${e.message}`);
    }
    const roomSeed = toU64(seed);
    const stream = hostInstalled() ? null : new SplitMix64(roomSeed);
    let game;
    try {
      game = withStream(stream, () => GameClass.create(parsed, [...seats], roomSeed));
    } catch (e) {
      throw new CreateRefused(e instanceof Error ? e.message : String(e));
    }
    if (game === null || typeof game !== 'object' || typeof game.apply !== 'function') {
      throw new TypeError(`${GameClass.name}.create must return the game (an instance of a Game class)`);
    }
    return new RoomAdapter(seats, game, stream);
  }

  /** The seated players, in seat order. */
  get players() {
    return this.#players;
  }

  /** The game instance. */
  get game() {
    return this.#game;
  }

  #call(fn) {
    return withStream(this.#stream, fn);
  }

  /** Apply an action given as JSON text. Throws an `ActionError` to refuse it. */
  applyJson(player, action) {
    if (!this.#players.includes(player)) throw new NotAPlayer();
    if (this.currentStatus().isFinished()) throw new GameOver();
    let parsed;
    try {
      parsed = JSON.parse(action);
    } catch (e) {
      throw new Malformed(e.message);
    }
    let events;
    try {
      events = eventList(this.#call(() => this.#game.apply(player, parsed)), 'apply');
    } catch (e) {
      // Refusals of any shape become this SDK's ActionErrors; anything else is a bug.
      throw ActionError.from(e) ?? e;
    }
    this.#status = null;
    return events;
  }

  /** `viewer`'s view (a `Viewer`) as JSON text. */
  viewJson(viewer) {
    return JSON.stringify(this.#call(() => this.#game.view(viewer))) ?? 'null';
  }

  /** The game's status (cached until the next accepted action or tick). */
  currentStatus() {
    if (this.#status === null) {
      this.#status = Status.from(this.#call(() => this.#game.status()));
    }
    return this.#status;
  }

  /** Legal actions for `player` as JSON texts. */
  legal(player) {
    const actions = this.#call(() => this.#game.legalActions(player)) ?? [];
    return Array.from(actions, (a) => JSON.stringify(a) ?? 'null');
  }

  /** Advance a real-time game; nothing happens once it is finished. */
  advance(dtMs) {
    if (this.currentStatus().isFinished()) return [];
    this.#status = null;
    return eventList(this.#call(() => this.#game.tick(dtMs)), 'tick');
  }
}

// The WIT shapes componentize-js lowers: variants are `{tag, val}`, s64 is BigInt.

function eventToWit(e) {
  const { tag, val } = e.audience;
  return { kind: e.kind, data: e.data, audience: tag === 'everyone' ? { tag } : { tag, val: [...val] } };
}

function statusToWit(s) {
  switch (s.tag) {
    case 'awaiting':
      return { tag: 'awaiting', val: [...s.val] };
    case 'finished': {
      const { winners, scores, summary } = s.val;
      const witScores = scores.map(({ player, points }) => ({ player, points: BigInt(points) }));
      return { tag: 'finished', val: { winners: [...winners], scores: witScores, summary } };
    }
    default:
      return { tag: 'aborted', val: s.val };
  }
}

function errorToWit(e) {
  return e.tag === 'malformed' || e.tag === 'illegal' ? { tag: e.tag, val: e.message } : { tag: e.tag };
}

function describe(error) {
  if (!(error instanceof Error)) return `uncaught ${typeof error}: ${String(error)}`;
  const frame = String(error.stack ?? '')
    .split('\n')
    .map((l) => l.trim())
    .find((l) => l !== '' && !l.startsWith(`${error.name}:`));
  return `${error.name}: ${error.message}${frame ? ` (${frame})` : ''}`;
}

/**
 * An exception the game did not mean (a bug): report it through the host
 * log the way the Rust SDK's panic hook does ("panicked at ..."), so the
 * host aborts the room with this message, then trap.
 */
function panic(where, error) {
  try {
    log('error', `panicked at ${where}: ${describe(error)}`);
  } catch {
    // Nothing else to report it with.
  }
  throw error instanceof Error ? error : new Error(String(error));
}

/**
 * The `rules` export for a Game class: `{ info, Room }` in the shapes
 * componentize-js expects. The generated component entry does
 * `export const rules = exportGame(MyGame)`.
 */
export function exportGame(GameClass) {
  if (typeof GameClass !== 'function' || typeof GameClass.info !== 'function') {
    throw new TypeError('exportGame needs a Game class (with a static info())');
  }
  const label = GameClass.name || 'Game';
  const guard = (where, fn) => {
    try {
      return fn();
    } catch (e) {
      return panic(`${label}.${where}`, e);
    }
  };

  class Room {
    #room;

    constructor(room) {
      this.#room = room;
    }

    static create(config, players, seed) {
      try {
        return new Room(RoomAdapter.start(GameClass, config, players, seed));
      } catch (e) {
        // A result: the host sees `err(message)` and refuses the room.
        return { tag: 'err', val: e instanceof Error ? e.message : String(e) };
      }
    }

    apply(player, action) {
      let events;
      try {
        events = this.#room.applyJson(player, action);
      } catch (e) {
        const refusal = ActionError.from(e);
        if (refusal === null) return panic(`${label}.apply`, e);
        return { tag: 'err', val: errorToWit(refusal) };
      }
      return events.map(eventToWit);
    }

    view(viewer) {
      return guard('view', () => this.#room.viewJson(Viewer.fromWit(viewer)));
    }

    status() {
      return guard('status', () => statusToWit(this.#room.currentStatus()));
    }

    legalActions(player) {
      return guard('legalActions', () => this.#room.legal(player));
    }

    tick(dtMs) {
      return guard('tick', () => this.#room.advance(dtMs).map(eventToWit));
    }
  }

  return {
    info() {
      return guard('info', () => gameInfo(GameClass));
    },
    Room,
  };
}
