// Small games the SDK tests drive.

import { Event, Game, GameInfo, Illegal, Malformed, NotYourTurn, Status, randomBelow, randomU64 } from '../src/index.js';

/** Players take turns adding 1 or 2; whoever reaches 10 wins (the Rust SDK's doc example). */
export class CountToTen extends Game {
  static info() {
    return GameInfo.turnBased('count-to-ten', '1.0.0', 'Reach ten first', 2, 2);
  }

  static statusCalls = 0;

  constructor(config, players, seed) {
    super();
    if (config.fail) throw new Error(`refused: ${config.fail}`);
    this.config = config;
    this.players = players;
    this.seed = seed;
    this.turn = 0;
    this.total = 0;
    this.actions = [];
  }

  apply(player, action) {
    this.actions.push(action);
    if (typeof action?.add !== 'number') throw new Malformed('expected {"add": 1 | 2}');
    if (player !== this.players[this.turn]) throw new NotYourTurn();
    if (action.add !== 1 && action.add !== 2) throw new Illegal('add 1 or 2');
    this.total += action.add;
    this.turn = 1 - this.turn;
    return [Event.public('add', { player, add: action.add })];
  }

  view(viewer) {
    return { total: this.total, viewer: viewer.isSpectator ? null : viewer.player };
  }

  status() {
    CountToTen.statusCalls += 1;
    if (this.total >= 10) return Status.winner(this.players[1 - this.turn]);
    return Status.awaiting([this.players[this.turn]]);
  }

  legalActions(player) {
    return player === this.players[this.turn] && this.total < 10 ? [{ add: 1 }, { add: 2 }] : [];
  }
}

/**
 * Draws from the room stream in `create` and on every action; real-time
 * (ticks count down `ticks` from the config, then the game is a draw with
 * scores).
 */
export class Dice extends Game {
  static info() {
    return GameInfo.realTime('dice', '0.1.0', 'Random numbers', 1, 4, 10);
  }

  constructor(config, players, seed) {
    super();
    this.players = players;
    this.drawn = [randomU64(), randomU64()];
    this.ticks = config.ticks ?? 3;
    this.elapsed = 0;
  }

  apply(player, action) {
    if (action.throw === 'plain') throw { tag: 'illegal', val: 'thrown as a WIT variant' };
    if (action.throw === 'bug') return null.nothing;
    if (action.throw === 'bad-events') return [{ kind: 'x' }];
    const rolled = action.below ? randomBelow(action.below) : String(randomU64());
    return [Event.private('rolled', { rolled }, [player])];
  }

  view(viewer) {
    return { ticks: this.ticks, elapsed: this.elapsed };
  }

  status() {
    if (this.ticks <= 0) return Status.finished({ scores: { [this.players[0]]: -3, other: 2n }, summary: 'time' });
    return Status.awaiting(this.players);
  }

  tick(dtMs) {
    this.ticks -= 1;
    this.elapsed += dtMs;
    return [Event.allExcept('tick', { left: this.ticks }, [this.players[0]])];
  }
}
