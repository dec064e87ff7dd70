/// <reference path="./interfaces/arcade-game-host.d.ts" />
/// <reference path="./interfaces/arcade-game-rules.d.ts" />
/// <reference path="./interfaces/arcade-game-sim.d.ts" />
/// <reference path="./interfaces/arcade-game-types.d.ts" />
declare module 'arcade:game/game@0.1.0' {
  export type * as ArcadeGameHost010 from 'arcade:game/host@0.1.0'; // import arcade:game/host@0.1.0
  export type * as ArcadeGameSim010 from 'arcade:game/sim@0.1.0'; // import arcade:game/sim@0.1.0
  export type * as ArcadeGameTypes010 from 'arcade:game/types@0.1.0'; // import arcade:game/types@0.1.0
  export * as rules from 'arcade:game/rules@0.1.0'; // export arcade:game/rules@0.1.0
}
