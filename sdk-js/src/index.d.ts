// Type declarations of the Arcade JavaScript SDK (hand-written; the WIT
// shapes come from the generated ../types/wit, see `npm run types`).

/// <reference path="../types/wit/interfaces/arcade-game-types.d.ts" />
/// <reference path="../types/wit/interfaces/arcade-game-host.d.ts" />
/// <reference path="../types/wit/interfaces/arcade-game-rules.d.ts" />

/** Any value `JSON.stringify` renders faithfully. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** The WIT shapes (`arcade:game/types@0.1.0`) componentize-js lowers. */
export namespace wit {
  type GameInfo = import('arcade:game/types@0.1.0').GameInfo;
  type Audience = import('arcade:game/types@0.1.0').Audience;
  type Event = import('arcade:game/types@0.1.0').Event;
  type Status = import('arcade:game/types@0.1.0').Status;
  type ActionError = import('arcade:game/types@0.1.0').ActionError;
  type Viewer = import('arcade:game/types@0.1.0').Viewer;
  type LogLevel = import('arcade:game/host@0.1.0').LogLevel;
}

/** Who may see an event (the WIT `audience` variant). */
export type Audience = wit.Audience;

/** Static description of a game (the WIT `game-info` record). */
export class GameInfo implements wit.GameInfo {
  constructor(fields: {
    name: string;
    version: string;
    description?: string;
    minPlayers: number;
    maxPlayers: number;
    tickHz?: number;
  });
  /** Registry name: lowercase letters, digits and '-'. */
  name: string;
  /** Semantic version of these rules; `name@version` is unique. */
  version: string;
  description: string;
  minPlayers: number;
  maxPlayers: number;
  /** Ticks per second; 0 = turn-based. */
  tickHz: number;
  /** Info for a turn-based game (`tickHz` = 0). */
  static turnBased(name: string, version: string, description: string, minPlayers: number, maxPlayers: number): GameInfo;
  /** Info for a real-time game: `tick` is called `tickHz` times a second. */
  static realTime(
    name: string,
    version: string,
    description: string,
    minPlayers: number,
    maxPlayers: number,
    tickHz: number,
  ): GameInfo;
}

/**
 * Whose view to render: a player (`player` is the name) or a spectator
 * (`player` null, `isSpectator` true). Someone not seated gets what a
 * spectator gets.
 */
export class Viewer {
  constructor(player?: string | null);
  readonly player: string | null;
  readonly isSpectator: boolean;
  static player(name: string): Viewer;
  static spectator(): Viewer;
  /** From the WIT variant. */
  static fromWit(viewer: wit.Viewer): Viewer;
  toJSON(): { player: string } | { spectator: true };
}

/** Something that happened because of an action or a tick (the WIT `event` record). */
export class Event implements wit.Event {
  /** `data` is JSON text; prefer the static constructors, which serialize a value. */
  constructor(kind: string, data: string, audience: Audience);
  /** Machine-readable kind, e.g. "move", "deal", "game-over". */
  kind: string;
  /** JSON text. */
  data: string;
  audience: Audience;
  /** An event every player and spectator sees. */
  static public(kind: string, data: unknown): Event;
  /** An event only `players` see (e.g. the cards dealt to one player). */
  static private(kind: string, data: unknown, players: string | Iterable<string>): Event;
  /** An event everyone but `players` sees (spectators included). */
  static allExcept(kind: string, data: unknown, players: string | Iterable<string>): Event;
  static forAudience(kind: string, data: unknown, audience: Audience): Event;
  /** An event from any object of the WIT shape. */
  static from(value: wit.Event | Event): Event;
  /** The data, parsed. */
  readonly payload: Json;
  /** Whether `viewer` (a `Viewer` or a player name) may see this event. */
  visibleTo(viewer: Viewer | string): boolean;
}

/** Whether `viewer` (a `Viewer` or a player name) may see `event`. */
export function visibleTo(event: wit.Event | Event, viewer: Viewer | string): boolean;

/** One player's points in a finished game (an integer). */
export interface Score {
  player: string;
  points: number | bigint;
}

/** How a game ended. */
export interface Outcome {
  /** Empty = draw. */
  winners: string[];
  scores: Score[];
  summary: string;
}

/** Whose turn it is, or how the game ended (the WIT `status` variant, points as numbers). */
export class Status {
  constructor(tag: 'awaiting', val: string[]);
  constructor(tag: 'finished', val: Outcome);
  constructor(tag: 'aborted', val: string);
  readonly tag: 'awaiting' | 'finished' | 'aborted';
  readonly val: string[] | Outcome | string;
  /** Running; these players are expected to act next (several for simultaneous turns). */
  static awaiting(players: string | Iterable<string>): Status;
  /** Finished; `winners` empty = draw; `scores` a list or an object `{name: points}`. */
  static finished(outcome?: {
    winners?: Iterable<string>;
    scores?: Score[] | Record<string, number | bigint>;
    summary?: string;
  }): Status;
  /** Finished with one winner ("NAME wins") and no scores. */
  static winner(player: string): Status;
  /** Finished without a winner ("draw"). */
  static draw(): Status;
  /** The rules gave up on the game. */
  static aborted(reason: string): Status;
  /** From a `Status` or any object of the WIT shape. */
  static from(value: Status | wit.Status): Status;
  /** Finished or aborted. */
  isFinished(): boolean;
  /** The winners when finished (empty for a draw), null while running or aborted. */
  winners(): string[] | null;
  /** The players awaited (empty when finished or aborted). */
  awaiting(): string[];
  /** The outcome when finished, else null. */
  outcome(): Outcome | null;
}

/** Why an action was refused (the WIT `action-error` variant); throw a subclass from `apply`. */
export class ActionError extends Error {
  protected constructor(tag: wit.ActionError['tag'], message: string);
  /** The WIT case name: 'not-your-turn', 'not-a-player', 'game-over', 'malformed' or 'illegal'. */
  readonly tag: wit.ActionError['tag'];
  /** An ActionError from a thrown ActionError (of any SDK copy) or WIT-shaped object; else null. */
  static from(value: unknown): ActionError | null;
}
/** The player is seated but may not act now. */
export class NotYourTurn extends ActionError {
  constructor();
  readonly tag: 'not-your-turn';
}
/** The name is not one of the room's players (the SDK checks this before `apply`). */
export class NotAPlayer extends ActionError {
  constructor();
  readonly tag: 'not-a-player';
}
/** The game has already finished (the SDK checks this before `apply`). */
export class GameOver extends ActionError {
  constructor();
  readonly tag: 'game-over';
}
/** The action is not an action of this game (bad JSON or shape). */
export class Malformed extends ActionError {
  constructor(message?: string);
  readonly tag: 'malformed';
}
/** A well-formed action the rules forbid in this state. */
export class Illegal extends ActionError {
  constructor(message?: string);
  readonly tag: 'illegal';
}

/**
 * The rules of one game: one instance is one room's state. Extend it,
 * define `static info()` and implement `apply`, `view` and `status`.
 */
export class Game<Action = any, Config = any> {
  /** Static description: name, version, player counts, tick rate. */
  static info(): GameInfo | wit.GameInfo;
  /**
   * Start a game for `players` (seat order) with the parsed `config`
   * (`{}` when none). Random draws are already seeded with `seed`. Throw an
   * Error to refuse: its message is the refusal. Default: `new this(config, players, seed)`.
   */
  static create(config: any, players: string[], seed: bigint): Game;
  /** Apply an action (parsed JSON) by a seated player; throw an `ActionError` to refuse it (state unchanged). */
  apply(player: string, action: Action): Event[] | void;
  /** What `viewer` may see, as a JSON-able value. Never another player's secrets. */
  view(viewer: Viewer): unknown;
  /** Whose turn it is, or how the game ended. */
  status(): Status | wit.Status;
  /** Legal actions for `player`, as JSON-able values. Default: none listed. */
  legalActions(player: string): unknown[];
  /** Advance a real-time game by `dtMs` (only when `tickHz` > 0). Default: nothing happens. */
  tick(dtMs: number): Event[] | void;
}

/** A Game class (what `exportGame`, `Table.start` and the build tool take). */
export type GameClass = { info(): GameInfo | wit.GameInfo; create(config: any, players: string[], seed: bigint): Game };

/** The log levels of `arcade:game/host.log`. */
export const LogLevel: {
  readonly Debug: 'debug';
  readonly Info: 'info';
  readonly Warn: 'warn';
  readonly Error: 'error';
};

/** The next value of the room's deterministic random stream, in `0n..2n**64n`. */
export function randomU64(): bigint;
/** A uniformly distributed index in `0..n` (`n` > 0): `Number(randomU64() % BigInt(n))`. */
export function randomBelow(n: number | bigint): number;
/** A line in the host's log (never shown to players); stderr natively. */
export function log(level: wit.LogLevel, message: string): void;

/** splitmix64, the host's room stream: what `randomU64` draws from natively. */
export class SplitMix64 {
  constructor(seed?: number | bigint);
  nextU64(): bigint;
}

/**
 * Route `randomU64` and `log` to the component's `arcade:game/host@0.1.0`
 * import. The entry generated by `arcade-build-js` calls it; games never do.
 */
export function installHost(imports: {
  randomU64: typeof import('arcade:game/host@0.1.0').randomU64;
  log: typeof import('arcade:game/host@0.1.0').log;
}): void;

/** The `rules` export of a component (the shapes componentize-js expects). */
export interface RulesExport {
  info(): wit.GameInfo;
  Room: {
    create(config: string, players: string[], seed: bigint): RoomExport | { tag: 'err'; val: string };
  };
}

/** One exported room: the WIT `room` resource. */
export interface RoomExport {
  apply(player: string, action: string): wit.Event[] | { tag: 'err'; val: wit.ActionError };
  view(viewer: wit.Viewer): string;
  status(): wit.Status;
  legalActions(player: string): string[];
  tick(dtMs: number): wit.Event[];
}

/** The `rules` export for a Game class: the component entry does `export const rules = exportGame(MyGame)`. */
export function exportGame(game: GameClass): RulesExport;

/** A room was not created; the message is the refusal. */
export class CreateRefused extends Error {}
