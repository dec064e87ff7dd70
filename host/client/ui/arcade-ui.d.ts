// The contract between a game plugin's browser UI module and the board
// frame that runs it (host/client/ui/frame.js). A UI module is one
// self-contained ES module (it may import nothing: the frame is a sandboxed
// iframe with an opaque origin and `connect-src 'none'`) that exports
// `mount(element, api)`:
//
//   /** @type {import('./arcade-ui').UiModule['mount']} */
//   export function mount(element, api) { ... }
//
// `View` and `Action` are the game's own JSON (its plugin's `view` and
// action types); pass them as type parameters for a typed UI.

/** Any JSON value. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** A player id (the name the room seated them under). */
export type PlayerId = string;

/** Where the room is. */
export type Status =
  | { state: 'waiting_for_players'; seats: number; seated: PlayerId[] }
  | { state: 'playing'; awaiting: PlayerId[] }
  | { state: 'finished'; winners: PlayerId[]; scores: Record<PlayerId, number>; summary: string }
  | { state: 'aborted'; code: string; reason: string };

/** One event of the latest change, as this viewer may see it (e.g. `{kind: 'hit', data: {player, lives}}`). */
export interface GameEvent<Data = Json> {
  kind: string;
  data: Data;
}

/** What the frame gives the UI: the room's last state for this viewer. */
export interface State<View = Json, Action = Json> {
  /** Increases with every change of the room. */
  seq: number;
  status: Status;
  /** The plugin's view for this viewer; null before the game starts. */
  view: View | null;
  /** The events of the latest change visible to this viewer. */
  events: GameEvent[];
  /** The actions valid for this viewer now: empty for spectators, replays and when it is not their turn. */
  legal_actions: Action[];
  /** The player this page acts for; null for a spectator or a replay. */
  you: PlayerId | null;
  /** Display names by player id. */
  names: Record<PlayerId, string>;
  /** The game's name (e.g. "tic-tac-toe"). */
  game: string;
  /** The game's version (e.g. "1.0.0"). */
  version: string;
  /** True when the state comes from the replay viewer: the UI must not send. */
  replay: boolean;
}

/** The last two states and how far the present is between them (see `Api.interpolation`). */
export interface Interpolation<View = Json, Action = Json> {
  /** The state before `current` (equal to `current` until a second state arrived; null before the first). */
  previous: State<View, Action> | null;
  current: State<View, Action> | null;
  /** 0..1: the fraction of the expected interval since `current` arrived. */
  alpha: number;
}

/** The `api` object `mount` gets (frozen). */
export interface Api<View = Json, Action = Json> {
  /** The last state (frozen: read it, keep it, never change it; null before the first). */
  readonly state: State<View, Action> | null;
  /** The state before it (frozen; null before the second, and after a state older than the current one, as a replay seeking back). */
  readonly previous: State<View, Action> | null;
  /** The player this page acts for, or null (a spectator or a replay). */
  readonly you: PlayerId | null;
  /** Send an action for this page's player (the host page relays it to the room; ignored for spectators and replays). */
  send(action: Action): void;
  /** Call `callback(state, previous)` on every new state; returns an unsubscribe function. */
  onState(
    callback: (state: State<View, Action>, previous: State<View, Action> | null) => void,
  ): () => void;
  /**
   * For requestAnimationFrame: the last two states and alpha in 0..1, so that
   * `lerp(previous, current, alpha)` moves smoothly at any frame rate.
   * `now` defaults to `performance.now()`. The states are frozen. The
   * expected interval is the smoothed gap between arrivals.
   */
  interpolation(now?: number): Interpolation<View, Action>;
  /** Linear interpolation: `a + (b - a) * t`. */
  lerp(a: number, b: number, t: number): number;
  /** Show an error line in the frame and tell the host page. */
  reportError(message: string): void;
}

/** What `mount` may return: nothing, a clean-up function, or a promise (awaited before the frame reports ready). */
export type MountResult = void | (() => void) | Promise<void>;

/** The shape of a UI module. */
export interface UiModule<View = Json, Action = Json> {
  mount(element: HTMLElement, api: Api<View, Action>): MountResult;
}

/** Messages between the host page and the frame (window.postMessage). */
export type HostToFrame = { type: 'arcade:state'; state: State };
export type FrameToHost =
  | { type: 'arcade:ready' }
  | { type: 'arcade:action'; action: Json }
  | { type: 'arcade:error'; message: string }
  | { type: 'arcade:size'; height: number };

/** A UI module's one export, for `export const mount: Mount = ...` in TypeScript. */
export type Mount<View = Json, Action = Json> = UiModule<View, Action>['mount'];
