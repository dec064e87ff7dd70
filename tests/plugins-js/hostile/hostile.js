// Test fixture: each action misbehaves as it says ({"do": "spin" | "grow" | "open"}), or
// keeps `mib` MiB in the room ({"do": "hold", "mib": n}: the memory limit decides).
class Room {
  constructor(players) {
    this.players = players;
    this.held = [];
  }
  static create(config, players, seed) {
    return new Room(players);
  }
  apply(player, action) {
    const what = JSON.parse(action).do;
    if (what === 'spin') {
      for (;;) {}
    }
    if (what === 'grow') {
      const hoard = [];
      for (;;) hoard.push(new Uint8Array(1 << 20).fill(1));
    }
    if (what === 'hold') {
      this.held.push(new Uint8Array(JSON.parse(action).mib << 20).fill(1));
      return [];
    }
    if (what === 'open') {
      // No fetch, no files: the engine was built with every WASI feature off.
      return [{ kind: 'read', data: JSON.stringify({ text: String(fetch('file:///etc/passwd')) }), audience: { tag: 'everyone' } }];
    }
    return [];
  }
  view(viewer) {
    return '{}';
  }
  status() {
    return { tag: 'awaiting', val: this.players };
  }
  legalActions(player) {
    return [];
  }
  tick(dtMs) {
    return [];
  }
}

export const rules = {
  info() {
    return { name: 'js-hostile', version: '0.1.0', description: 'Test fixture: misbehaves on request', minPlayers: 1, maxPlayers: 2, tickHz: 0 };
  },
  Room,
};
