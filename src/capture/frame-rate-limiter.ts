/**
 * Caps the frame rate by arrival time, for sources where GStreamer's videorate is unsafe (see
 * rateLimitedInGstreamer). A frame passes when at least 85 % of the nominal interval has passed
 * since the last one: arrival times jitter, and a strict interval would throw away every other
 * frame of a camera already running at exactly the cap.
 */
export class FrameRateLimiter {
  private readonly minGapMs: number;
  private lastPassedAtMs = -Infinity;

  constructor(maxFps: number) {
    this.minGapMs = (1000 / maxFps) * 0.85;
  }

  admit(nowMs: number): boolean {
    if (nowMs - this.lastPassedAtMs < this.minGapMs) return false;
    this.lastPassedAtMs = nowMs;
    return true;
  }
}
