// Nim for two, in JavaScript: 15 stones; take 1 to 3 in turn; the last stone wins.
class Room {
  constructor(players) {
    this.players = players;
    this.turn = 0;
    this.stones = 15;
  }
  static create(config, players, seed) {
    return new Room(players);
  }
  next() {
    return this.stones > 0 ? this.players[this.turn] : null;
  }
  apply(player, action) {
    if (!this.players.includes(player)) throw { tag: 'not-a-player' };
    if (this.stones === 0) throw { tag: 'game-over' };
    if (player !== this.next()) throw { tag: 'not-your-turn' };
    let take;
    try {
      take = JSON.parse(action).take;
    } catch (e) {
      throw { tag: 'malformed', val: String(e) };
    }
    if (!Number.isInteger(take) || take < 1 || take > Math.min(3, this.stones)) {
      throw { tag: 'illegal', val: 'take 1 to 3 stones' };
    }
    this.stones -= take;
    this.turn = 1 - this.turn;
    return [{ kind: 'take', data: JSON.stringify({ player, take }), audience: { tag: 'everyone' } }];
  }
  view(viewer) {
    return JSON.stringify({ stones: this.stones, next: this.next() });
  }
  status() {
    const next = this.next();
    if (next === null) {
      return { tag: 'finished', val: { winners: [this.players[1 - this.turn]], scores: [], summary: 'took the last stone' } };
    }
    return { tag: 'awaiting', val: [next] };
  }
  legalActions(player) {
    if (player !== this.next()) return [];
    const takes = [];
    for (let t = 1; t <= Math.min(3, this.stones); t++) takes.push(JSON.stringify({ take: t }));
    return takes;
  }
  tick(dtMs) {
    return [];
  }
}

export const rules = {
  info() {
    return { name: 'js-nim', version: '0.1.0', description: 'Nim for two, in JavaScript', minPlayers: 2, maxPlayers: 2, tickHz: 0 };
  },
  Room,
};
