declare module 'arcade:game/host@0.1.0' {
  /**
   * Write a line to the host's structured log, tagged with the room id.
   * Never shown to players.
   */
  export function log(level: LogLevel, message: string): void;
  /**
   * The next value of the room's random stream (splitmix64 seeded with the
   * room seed): deterministic for a given seed and call order.
   */
  export function randomU64(): bigint;
  /**
   * # Variants
   * 
   * ## `"debug"`
   * 
   * ## `"info"`
   * 
   * ## `"warn"`
   * 
   * ## `"error"`
   */
  export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
}
