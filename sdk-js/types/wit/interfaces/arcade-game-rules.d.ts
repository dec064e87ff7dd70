/// <reference path="./arcade-game-types.d.ts" />
declare module 'arcade:game/rules@0.1.0' {
  export function info(): GameInfo;
  export type GameInfo = import('arcade:game/types@0.1.0').GameInfo;
  export type Event = import('arcade:game/types@0.1.0').Event;
  export type Status = import('arcade:game/types@0.1.0').Status;
  export type ActionError = import('arcade:game/types@0.1.0').ActionError;
  export type Viewer = import('arcade:game/types@0.1.0').Viewer;
  
  export class Room {
    /**
     * This type does not have a public constructor.
     */
    private constructor();
    /**
    * Start a game. `config` is JSON ("{}" when the creator gave none);
    * `players` are the seated players in seat order; `seed` also seeds
    * `host.random-u64`. A static func because a constructor cannot fail.
    */
    static create(config: string, players: Array<string>, seed: bigint): Room;
    /**
    * Validate and apply one action (JSON) by `player`.
    */
    apply(player: string, action: string): Array<Event>;
    /**
    * Everything `viewer` may see, as JSON. Hidden information must not appear
    * in another player's view or in the spectator view.
    */
    view(viewer: Viewer): string;
    status(): Status;
    /**
    * Legal actions for `player` right now, as JSON texts (may be empty when
    * they cannot be enumerated). Used by bots and clients as hints.
    */
    legalActions(player: string): Array<string>;
    /**
    * Advance a real-time game by `dt-ms` milliseconds.
    */
    tick(dtMs: number): Array<Event>;
  }
}
