declare module 'arcade:game/types@0.1.0' {
  /**
   * Static description of a game, read once when a plugin is published.
   */
  export interface GameInfo {
    /**
     * Registry name: lowercase letters, digits and '-' (e.g. "tic-tac-toe").
     */
    name: string,
    /**
     * Semantic version of these rules (e.g. "1.0.0"); `name@version` is unique.
     */
    version: string,
    description: string,
    minPlayers: number,
    maxPlayers: number,
    /**
     * Ticks per second for real-time games; 0 = turn-based, `tick` never called.
     */
    tickHz: number,
  }
  /**
   * Who may see an event.
   */
  export type Audience = AudienceEveryone | AudienceOnly | AudienceAllExcept;
  export interface AudienceEveryone {
    tag: 'everyone',
  }
  export interface AudienceOnly {
    tag: 'only',
    val: Array<string>,
  }
  export interface AudienceAllExcept {
    tag: 'all-except',
    val: Array<string>,
  }
  /**
   * Something that happened because of an action or a tick.
   */
  export interface Event {
    /**
     * Machine-readable kind, e.g. "move", "deal", "game-over".
     */
    kind: string,
    /**
     * JSON payload.
     */
    data: string,
    audience: Audience,
  }
  export interface Score {
    player: string,
    points: bigint,
  }
  export interface Outcome {
    /**
     * Empty = draw.
     */
    winners: Array<string>,
    scores: Array<Score>,
    summary: string,
  }
  export type Status = StatusAwaiting | StatusFinished | StatusAborted;
  /**
   * Running; these players are expected to act next (several for
   * simultaneous turns, all seated players for real-time games).
   */
  export interface StatusAwaiting {
    tag: 'awaiting',
    val: Array<string>,
  }
  export interface StatusFinished {
    tag: 'finished',
    val: Outcome,
  }
  /**
   * The rules gave up on the game (not a trap: the plugin chose this).
   */
  export interface StatusAborted {
    tag: 'aborted',
    val: string,
  }
  /**
   * Why an action was refused. The room state is unchanged after any error.
   */
  export type ActionError = ActionErrorNotYourTurn | ActionErrorNotAPlayer | ActionErrorGameOver | ActionErrorMalformed | ActionErrorIllegal;
  /**
   * The player is seated but may not act now.
   */
  export interface ActionErrorNotYourTurn {
    tag: 'not-your-turn',
  }
  /**
   * The name is not one of the room's players.
   */
  export interface ActionErrorNotAPlayer {
    tag: 'not-a-player',
  }
  /**
   * The game has already finished.
   */
  export interface ActionErrorGameOver {
    tag: 'game-over',
  }
  /**
   * The action text is not an action of this game (bad JSON or shape).
   */
  export interface ActionErrorMalformed {
    tag: 'malformed',
    val: string,
  }
  /**
   * A well-formed action the rules forbid in this state.
   */
  export interface ActionErrorIllegal {
    tag: 'illegal',
    val: string,
  }
  /**
   * Whose view to render.
   */
  export type Viewer = ViewerPlayer | ViewerSpectator;
  export interface ViewerPlayer {
    tag: 'player',
    val: string,
  }
  export interface ViewerSpectator {
    tag: 'spectator',
  }
}
