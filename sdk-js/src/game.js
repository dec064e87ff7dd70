// The `Game` base class a plugin extends, and the contract's data types with
// constructors that keep plugin code short (the JavaScript side of the Rust
// SDK's `sdk/src/game.rs`).

/**
 * The rules of one game: one instance is one room's state. Extend it and
 * implement the static `info()` and the methods `apply`, `view` and
 * `status` (and `legalActions`, `tick` when they apply).
 *
 * Before `apply` is called, the SDK has checked that the player is seated
 * and the game is not over, and it has parsed the action JSON (a parse
 * failure is `Malformed`). The action's shape is the game's to check:
 * throw `Malformed` for a value that is not an action of the game.
 */
export class Game {
  /**
   * Static description: name, version, player counts, tick rate
   * (`GameInfo.turnBased(...)` or `GameInfo.realTime(...)`).
   * @returns {GameInfo}
   */
  static info() {
    throw new Error(`${this.name} must define static info()`);
  }

  /**
   * Start a game for `players` (seat order) with the parsed `config`
   * (`{}` when the creator gave none). Randomness must come from
   * `randomU64`/`randomBelow`, already seeded with `seed` (a BigInt).
   * Throw an Error to refuse: its message is the refusal. The default
   * calls `new this(config, players, seed)`.
   */
  static create(config, players, seed) {
    return new this(config, players, seed);
  }

  /**
   * Apply one action (already parsed from JSON) by a seated `player`.
   * Return the events it caused (`Event.public(...)`, ...); throw an
   * `ActionError` (`NotYourTurn`, `Illegal(why)`, ...) to refuse it, and
   * then leave the state unchanged.
   */
  apply(player, action) {
    throw new Error(`${this.constructor.name} must implement apply(player, action)`);
  }

  /** What `viewer` (a `Viewer`) may see, as a JSON-able value. Never another player's secrets. */
  view(viewer) {
    throw new Error(`${this.constructor.name} must implement view(viewer)`);
  }

  /** Whose turn it is, or how the game ended (a `Status`). */
  status() {
    throw new Error(`${this.constructor.name} must implement status()`);
  }

  /** Legal actions for `player` as JSON-able values (hints for bots and clients). Default: none listed. */
  legalActions(player) {
    return [];
  }

  /** Advance a real-time game by `dtMs` (only called when `info().tickHz` > 0); returns events. */
  tick(dtMs) {
    return [];
  }
}

/** Static description of a game (the WIT `game-info` record). */
export class GameInfo {
  constructor({ name, version, description = '', minPlayers, maxPlayers, tickHz = 0 }) {
    this.name = name;
    this.version = version;
    this.description = description;
    this.minPlayers = minPlayers;
    this.maxPlayers = maxPlayers;
    this.tickHz = tickHz;
  }

  /** Info for a turn-based game (`tickHz` = 0). */
  static turnBased(name, version, description, minPlayers, maxPlayers) {
    return new GameInfo({ name, version, description, minPlayers, maxPlayers, tickHz: 0 });
  }

  /** Info for a real-time game: `tick` is called `tickHz` times a second. */
  static realTime(name, version, description, minPlayers, maxPlayers, tickHz) {
    return new GameInfo({ name, version, description, minPlayers, maxPlayers, tickHz });
  }
}

/**
 * Whose view to render: a player (`viewer.player` is the name) or a
 * spectator (`viewer.player` is null, `viewer.isSpectator` true). Someone
 * who is not seated should get what a spectator gets.
 */
export class Viewer {
  /** @param {string | null} player */
  constructor(player = null) {
    this.player = player;
    Object.freeze(this);
  }

  get isSpectator() {
    return this.player === null;
  }

  static player(name) {
    if (typeof name !== 'string') throw new TypeError('a player viewer needs a name');
    return new Viewer(name);
  }

  static spectator() {
    return SPECTATOR;
  }

  /** From the WIT variant (`{tag: 'player', val}` or `{tag: 'spectator'}`). */
  static fromWit(viewer) {
    return viewer?.tag === 'player' ? Viewer.player(viewer.val) : SPECTATOR;
  }

  toJSON() {
    return this.isSpectator ? { spectator: true } : { player: this.player };
  }
}

const SPECTATOR = new Viewer(null);

/** Event data as JSON text (unserializable data becomes `null`, as in the Rust SDK). */
function toJsonText(data) {
  try {
    return JSON.stringify(data) ?? 'null';
  } catch {
    return 'null';
  }
}

function playerList(players, what) {
  const list = typeof players === 'string' ? [players] : Array.from(players ?? []);
  if (!list.every((p) => typeof p === 'string')) throw new TypeError(`${what} needs player names`);
  return list;
}

const AUDIENCES = new Set(['everyone', 'only', 'all-except']);

/**
 * Something that happened because of an action or a tick (the WIT `event`
 * record): `kind`, `data` (JSON text) and `audience` (`{tag: 'everyone'}`,
 * `{tag: 'only', val: [names]}` or `{tag: 'all-except', val: [names]}`).
 */
export class Event {
  constructor(kind, data, audience) {
    if (typeof kind !== 'string') throw new TypeError('an event kind is a string');
    if (typeof data !== 'string') throw new TypeError('event data is JSON text (use Event.public(kind, value))');
    if (!AUDIENCES.has(audience?.tag)) throw new TypeError(`not an audience: ${JSON.stringify(audience)}`);
    this.kind = kind;
    this.data = data;
    this.audience =
      audience.tag === 'everyone' ? { tag: 'everyone' } : { tag: audience.tag, val: playerList(audience.val, 'an audience') };
  }

  /** An event every player and spectator sees; `data` is any JSON-able value. */
  static public(kind, data) {
    return new Event(kind, toJsonText(data), { tag: 'everyone' });
  }

  /** An event only `players` see (e.g. the cards dealt to one player). */
  static private(kind, data, players) {
    return new Event(kind, toJsonText(data), { tag: 'only', val: playerList(players, 'Event.private') });
  }

  /** An event everyone but `players` sees (spectators included). */
  static allExcept(kind, data, players) {
    return new Event(kind, toJsonText(data), { tag: 'all-except', val: playerList(players, 'Event.allExcept') });
  }

  /** An event for a WIT-shaped `audience`. */
  static forAudience(kind, data, audience) {
    return new Event(kind, toJsonText(data), audience);
  }

  /** An event from any object of the WIT shape (`{kind, data, audience}`). */
  static from(value) {
    return value instanceof Event ? value : new Event(value?.kind, value?.data, value?.audience);
  }

  /** The data, parsed. */
  get payload() {
    return JSON.parse(this.data);
  }

  /** Whether `viewer` (a `Viewer` or a player name) may see this event. */
  visibleTo(viewer) {
    return visibleTo(this, viewer);
  }
}

/** Whether `viewer` (a `Viewer`, or a player name) may see `event`. */
export function visibleTo(event, viewer) {
  const player = typeof viewer === 'string' ? viewer : (viewer?.player ?? null);
  const { tag, val } = event.audience;
  if (tag === 'everyone') return true;
  if (player === null) return tag === 'all-except';
  return tag === 'only' ? val.includes(player) : !val.includes(player);
}

const S64_MIN = -(1n << 63n);
const S64_MAX = (1n << 63n) - 1n;

function points(value, player) {
  const ok =
    (typeof value === 'number' && Number.isSafeInteger(value)) ||
    (typeof value === 'bigint' && value >= S64_MIN && value <= S64_MAX);
  if (!ok) throw new TypeError(`the points of ${player} must be an integer (s64), got ${String(value)}`);
  return value;
}

function scoreList(scores) {
  const entries = Array.isArray(scores)
    ? scores.map((s) => [s?.player, s?.points])
    : Object.entries(scores ?? {});
  return entries.map(([player, p]) => {
    if (typeof player !== 'string') throw new TypeError('a score needs a player name');
    return { player, points: points(p, player) };
  });
}

const STATUS_TAGS = new Set(['awaiting', 'finished', 'aborted']);

/**
 * Whose turn it is, or how the game ended (the WIT `status` variant):
 * `tag` is 'awaiting' (`val`: player names), 'finished' (`val`:
 * `{winners, scores: [{player, points}], summary}`) or 'aborted' (`val`: reason).
 */
export class Status {
  constructor(tag, val) {
    if (!STATUS_TAGS.has(tag)) throw new TypeError(`not a status: ${String(tag)}`);
    this.tag = tag;
    this.val = val;
  }

  /** Running; these players are expected to act next (several for simultaneous turns). */
  static awaiting(players) {
    return new Status('awaiting', playerList(players, 'Status.awaiting'));
  }

  /**
   * Finished. `winners` empty = draw; `scores` is a list of
   * `{player, points}` or an object `{name: points}` (integers).
   */
  static finished({ winners = [], scores = [], summary = '' } = {}) {
    return new Status('finished', {
      winners: playerList(winners, 'Status.finished'),
      scores: scoreList(scores),
      summary: String(summary),
    });
  }

  /** Finished with one winner and no scores. */
  static winner(player) {
    return Status.finished({ winners: [player], summary: `${player} wins` });
  }

  /** Finished without a winner. */
  static draw() {
    return Status.finished({ summary: 'draw' });
  }

  /** The rules gave up on the game. */
  static aborted(reason) {
    return new Status('aborted', String(reason));
  }

  /** A status from a `Status` or any object of the WIT shape (`{tag, val}`). */
  static from(value) {
    if (value instanceof Status) return value;
    switch (value?.tag) {
      case 'awaiting':
        return Status.awaiting(value.val);
      case 'finished':
        return Status.finished(value.val ?? {});
      case 'aborted':
        return Status.aborted(value.val ?? '');
      default:
        throw new TypeError(`status() must return a Status, got ${JSON.stringify(value)}`);
    }
  }

  /** Finished or aborted. */
  isFinished() {
    return this.tag !== 'awaiting';
  }

  /** The winners when finished (empty for a draw), null while running or aborted. */
  winners() {
    return this.tag === 'finished' ? this.val.winners : null;
  }

  /** The players awaited (empty when finished or aborted). */
  awaiting() {
    return this.tag === 'awaiting' ? this.val : [];
  }

  /** The outcome `{winners, scores, summary}` when finished, else null. */
  outcome() {
    return this.tag === 'finished' ? this.val : null;
  }
}

/** Marks action errors across copies of the SDK. */
const ACTION_ERROR = Symbol.for('arcade-sdk.action-error');

/**
 * Why an action was refused (the WIT `action-error` variant), thrown from
 * `apply`. Use the subclasses: `NotYourTurn`, `NotAPlayer`, `GameOver`,
 * `Malformed(why)`, `Illegal(why)`. `tag` is the WIT case name.
 */
export class ActionError extends Error {
  constructor(tag, message) {
    super(message);
    this.tag = tag;
  }

  get [ACTION_ERROR]() {
    return true;
  }

  /**
   * An ActionError from a thrown value: an ActionError (of any copy of the
   * SDK) or a WIT-shaped object (`{tag: 'illegal', val: 'why'}`); else null.
   */
  static from(value) {
    if (value instanceof ActionError) return value;
    if (value !== null && typeof value === 'object' && value[ACTION_ERROR] === true) {
      return fromTag(value.tag, value.message);
    }
    if (value !== null && typeof value === 'object' && !(value instanceof Error) && typeof value.tag === 'string') {
      return fromTag(value.tag, value.val);
    }
    return null;
  }
}
ActionError.prototype.name = 'ActionError';

/** The player is seated but may not act now. */
export class NotYourTurn extends ActionError {
  constructor() {
    super('not-your-turn', 'not your turn');
  }
}
NotYourTurn.prototype.name = 'NotYourTurn';

/** The name is not one of the room's players. */
export class NotAPlayer extends ActionError {
  constructor() {
    super('not-a-player', 'not a player of this room');
  }
}
NotAPlayer.prototype.name = 'NotAPlayer';

/** The game has already finished. */
export class GameOver extends ActionError {
  constructor() {
    super('game-over', 'the game is over');
  }
}
GameOver.prototype.name = 'GameOver';

/** The action is not an action of this game (bad JSON or shape). */
export class Malformed extends ActionError {
  constructor(message = 'malformed action') {
    super('malformed', String(message));
  }
}
Malformed.prototype.name = 'Malformed';

/** A well-formed action the rules forbid in this state. */
export class Illegal extends ActionError {
  constructor(message = 'illegal action') {
    super('illegal', String(message));
  }
}
Illegal.prototype.name = 'Illegal';

function fromTag(tag, message) {
  switch (tag) {
    case 'not-your-turn':
      return new NotYourTurn();
    case 'not-a-player':
      return new NotAPlayer();
    case 'game-over':
      return new GameOver();
    case 'malformed':
      return new Malformed(message ?? undefined);
    case 'illegal':
      return new Illegal(message ?? undefined);
    default:
      return null;
  }
}
