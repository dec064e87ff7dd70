// A native test harness: play a game under `node --test` without a server.
//
// `Table` runs the same code path as the component export (config parsing,
// player checks, seat and game-over checks, JSON actions and views) and the
// same random stream as the host, so a rules test predicts what a server
// does (the JavaScript side of the Rust SDK's `arcade_sdk::testing`).

import { RoomAdapter } from './adapter.js';
import { Viewer } from './game.js';

/** One room of a game, driven directly. */
export class Table {
  #room;

  constructor(room) {
    this.#room = room;
  }

  /**
   * Seat `players` and create the game with `config` (any JSON-able value,
   * serialized as the host would send it) and `seed` (number or BigInt).
   * Throws `CreateRefused` with the refusal message.
   */
  static start(GameClass, players, seed = 1, config = {}) {
    return Table.startRaw(GameClass, players, seed, JSON.stringify(config));
  }

  /** Like `start` with the config as raw text (to test bad configs; blank = "{}"). */
  static startRaw(GameClass, players, seed = 1, configText = '{}') {
    return new Table(RoomAdapter.start(GameClass, configText, players, seed));
  }

  /** The game instance (for white-box checks). */
  get game() {
    return this.#room.game;
  }

  /** The seated players, in seat order. */
  get players() {
    return this.#room.players;
  }

  /** Apply an action given as a JSON-able value; returns the events, throws the `ActionError`. */
  act(player, action) {
    return this.actRaw(player, String(JSON.stringify(action)));
  }

  /** Apply an action given as raw text (to test malformed input). */
  actRaw(player, text) {
    return this.#room.applyJson(player, text);
  }

  /** `player`'s view, parsed. */
  viewOf(player) {
    return this.view(Viewer.player(player));
  }

  /** The spectator view, parsed. */
  spectatorView() {
    return this.view(Viewer.spectator());
  }

  /** The view of a `Viewer`, parsed. */
  view(viewer) {
    return JSON.parse(this.#room.viewJson(viewer));
  }

  /** The status (a `Status`). */
  status() {
    return this.#room.currentStatus();
  }

  /** Legal actions for `player`, parsed. */
  legalActions(player) {
    return this.#room.legal(player).map((a) => JSON.parse(a));
  }

  /** One tick of `dtMs`; returns its events. */
  tick(dtMs) {
    return this.#room.advance(dtMs);
  }

  /** The player(s) the game waits for (empty when finished). */
  awaiting() {
    return this.status().awaiting();
  }
}
