/**
 * The daemon's sense of time. Everything that decides by date (validity, grace,
 * expiry) asks a Clock, never `Date.now()`, so tests can move time and the
 * rollback watch can refuse a clock that was set back.
 */
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

/** A clock shifted by an adjustable offset; used only when development clock control is enabled. */
export class OffsetClock implements Clock {
  private offsetMs = 0;
  constructor(private readonly base: Clock = systemClock) {}
  now(): Date {
    return new Date(this.base.now().getTime() + this.offsetMs);
  }
  setOffset(ms: number): void {
    this.offsetMs = ms;
  }
  set(to: Date): void {
    this.offsetMs = to.getTime() - this.base.now().getTime();
  }
  get offset(): number {
    return this.offsetMs;
  }
}

export const DAY_MS = 24 * 60 * 60 * 1000;
