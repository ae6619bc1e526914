import type { Frame } from './frame.js';

/**
 * Async iterator that holds only the newest frame. A consumer still busy with the previous frame
 * finds the latest one when it asks again; the ones in between are dropped (and counted), so a
 * slow consumer costs at most one frame of memory instead of a growing queue.
 */
export class LatestFrameMailbox implements AsyncIterableIterator<Frame> {
  private pending: Frame | undefined;
  private waiter: ((result: IteratorResult<Frame>) => void) | undefined;
  private closed = false;

  constructor(
    private readonly onSkip: () => void,
    private readonly onClose: (mailbox: LatestFrameMailbox) => void,
  ) {}

  offer(frame: Frame): void {
    if (this.closed) return;
    if (this.waiter !== undefined) {
      const resolve = this.waiter;
      this.waiter = undefined;
      resolve({ value: frame, done: false });
      return;
    }
    if (this.pending !== undefined) this.onSkip();
    this.pending = frame;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.pending = undefined;
    this.waiter?.({ value: undefined, done: true });
    this.waiter = undefined;
    this.onClose(this);
  }

  next(): Promise<IteratorResult<Frame>> {
    if (this.pending !== undefined) {
      const value = this.pending;
      this.pending = undefined;
      return Promise.resolve({ value, done: false });
    }
    if (this.closed) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve) => {
      this.waiter = resolve;
    });
  }

  return(): Promise<IteratorResult<Frame>> {
    this.close();
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<Frame> {
    return this;
  }
}
