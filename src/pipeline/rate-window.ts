/** Events per second over a sliding window (analysed frames for `alpr-edge status` and /healthz). */
export class RateWindow {
  private readonly times: number[] = [];

  constructor(private readonly windowMs = 10_000) {}

  mark(atMs = Date.now()): void {
    this.times.push(atMs);
    this.prune(atMs);
  }

  perSecond(nowMs = Date.now()): number {
    this.prune(nowMs);
    if (this.times.length < 2) return 0;
    // Over the span actually covered, so a camera that started 3 s ago is not reported at 3/10 of its rate.
    const spanMs = Math.max(nowMs - this.times[0]!, 1000);
    return Math.round((this.times.length / spanMs) * 10_000) / 10;
  }

  private prune(nowMs: number): void {
    while (this.times.length > 0 && this.times[0]! < nowMs - this.windowMs) this.times.shift();
  }
}
