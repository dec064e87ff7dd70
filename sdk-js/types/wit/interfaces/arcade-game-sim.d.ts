declare module 'arcade:game/sim@0.1.0' {
  export interface Vec2 {
    x: number,
    y: number,
  }
  export interface WorldConfig {
    /**
     * Walls: bodies are kept inside `min`..`max`.
     */
    min: Vec2,
    max: Vec2,
    /**
     * Acceleration of every dynamic body (units/s²).
     */
    gravity: Vec2,
    /**
     * Sub-steps per step (1..=64); more = fewer missed collisions.
     */
    substeps: number,
    /**
     * Bounciness of collisions with bodies and walls, 0 (none) to 1 (elastic).
     */
    restitution: number,
    /**
     * Most contact records kept per step (one per touching pair and
     * sub-step); 0 = the default of 1024. See `contacts-overflowed`.
     */
    maxContacts: number,
  }
  export interface BodySpec {
    position: Vec2,
    velocity: Vec2,
    /**
     * > 0, and the body must fit between the walls.
     */
    radius: number,
    /**
     * 0 = static (never moves, no gravity).
     */
    mass: number,
    /**
     * Game-defined type, reported in contacts (ship, asteroid, ...).
     */
    kind: number,
    /**
     * Bit 0: sensor (reports contacts without pushing or being pushed).
     */
    flags: number,
  }
  export interface BodyState {
    id: number,
    position: Vec2,
    velocity: Vec2,
    radius: number,
    kind: number,
  }
  /**
   * Two bodies that touched during the last step (`a < b`).
   */
  export interface Contact {
    a: number,
    b: number,
    kindA: number,
    kindB: number,
  }
  
  export class PhysicsWorld implements Disposable {
    /**
     * This type does not have a public constructor.
     */
    private constructor();
    /**
    * A new, empty world. A static func rather than a constructor so that
    * an invalid config or the room's world limit is an error, not a trap.
    */
    static create(config: WorldConfig): PhysicsWorld;
    /**
    * Adds a body; its id is never reused within this world.
    */
    addBody(body: BodySpec): number;
    /**
    * False when there is no such body.
    */
    removeBody(id: number): boolean;
    /**
    * Adds `impulse / mass` to the body's velocity (static bodies ignore
    * it). False for an unknown body or a non-finite impulse.
    */
    applyImpulse(id: number, impulse: Vec2): boolean;
    /**
    * False for an unknown body or a non-finite value.
    */
    setVelocity(id: number, velocity: Vec2): boolean;
    setPosition(id: number, position: Vec2): boolean;
    body(id: number): BodyState | undefined;
    bodies(): Array<BodyState>;
    /**
    * Pairs that touched during the last completed step, each once, sorted.
    */
    contacts(): Array<Contact>;
    /**
    * The last step saw more contact records than `max-contacts`:
    * `contacts` is then a subset.
    */
    contactsOverflowed(): boolean;
    /**
    * Steps completed so far.
    */
    steps(): bigint;
    /**
    * Step this world by `dt` seconds (0 < dt <= 1) after the current or
    * next tick (see "Timing" above). Asking again before the step only
    * changes `dt`: a world takes at most one step per tick. An invalid
    * `dt` traps.
    */
    requestStep(dt: number): void;
    [Symbol.dispose](): void;
  }
}
