// Type declarations of arcade-sdk/testing (hand-written).

import type { Event, Game, GameClass, Status, Viewer } from './index.js';

/** One room of a game, driven directly (the same code path as the component export). */
export class Table<G extends Game = Game> {
  /**
   * Seat `players` and create the game with `config` (serialized as the
   * host would send it) and `seed`. Throws `CreateRefused` with the refusal.
   */
  static start<C extends GameClass>(
    game: C,
    players: string[],
    seed?: number | bigint,
    config?: unknown,
  ): Table<ReturnType<C['create']>>;
  /** Like `start` with the config as raw text (blank = "{}"). */
  static startRaw<C extends GameClass>(
    game: C,
    players: string[],
    seed?: number | bigint,
    configText?: string,
  ): Table<ReturnType<C['create']>>;
  /** The game instance (for white-box checks). */
  readonly game: G;
  /** The seated players, in seat order. */
  readonly players: readonly string[];
  /** Apply an action given as a JSON-able value; returns its events, throws the `ActionError`. */
  act(player: string, action: unknown): Event[];
  /** Apply an action given as raw text (to test malformed input). */
  actRaw(player: string, text: string): Event[];
  /** `player`'s view, parsed. */
  viewOf(player: string): any;
  /** The spectator view, parsed. */
  spectatorView(): any;
  /** The view of a `Viewer`, parsed. */
  view(viewer: Viewer): any;
  status(): Status;
  /** Legal actions for `player`, parsed. */
  legalActions(player: string): any[];
  /** One tick of `dtMs`; returns its events. */
  tick(dtMs: number): Event[];
  /** The player(s) the game waits for (empty when finished). */
  awaiting(): string[];
}
