// NAME: Nim for two. 15 stones; each turn a player takes 1, 2 or 3; whoever
// takes the last stone wins. Start here: change the rules, keep the tests
// passing (`npm test`), then build and publish (see README.md).
//
// Action: {"take": 1 | 2 | 3}. View: {"stones": n, "next": player | null}.

import { Event, Game, GameInfo, Illegal, Malformed, NotYourTurn, Status } from 'arcade-sdk';

const STONES = 15;

export default class Nim extends Game {
  static info() {
    return GameInfo.turnBased('NAME', '0.1.0', 'Take 1-3 stones; taking the last one wins', 2, 2);
  }

  static create(config, players, seed) {
    return new Nim(players);
  }

  constructor(players) {
    super();
    this.players = players;
    this.turn = 0;
    this.stones = STONES;
  }

  next() {
    return this.stones > 0 ? this.players[this.turn] : null;
  }

  apply(player, action) {
    if (player !== this.next()) throw new NotYourTurn();
    const take = action?.take;
    if (!Number.isInteger(take)) throw new Malformed('expected {"take": n}');
    if (take < 1 || take > Math.min(3, this.stones)) throw new Illegal('take 1 to 3 stones, no more than are left');
    this.stones -= take;
    this.turn = 1 - this.turn;
    return [Event.public('take', { player, take })];
  }

  view(viewer) {
    return { stones: this.stones, next: this.next() };
  }

  status() {
    // The player who took the last stone moved just before the turn passed.
    if (this.next() === null) return Status.winner(this.players[1 - this.turn]);
    return Status.awaiting([this.next()]);
  }

  legalActions(player) {
    if (player !== this.next()) return [];
    const takes = [];
    for (let take = 1; take <= Math.min(3, this.stones); take++) takes.push({ take });
    return takes;
  }
}
