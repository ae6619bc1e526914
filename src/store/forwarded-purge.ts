import { appendAccessLogInTxn } from '../access/access-log.js';
import { deleteReadInTxn, isHeld, oldestRemainingAt, type PurgeContext, type PurgeResult } from './purge-batch.js';

/**
 * P5 forward-then-purge: the central side has the read, so the local copy goes (unless held).
 * Acknowledgements are collected and deleted in batches (`flush`, run with the purge timer or once
 * a batch is full), so the access log gets one purge entry per batch, not per read.
 */
export class ForwardedPurge {
  private readonly acknowledged = new Set<string>();

  constructor(
    private readonly ctx: PurgeContext,
    private readonly enabled: boolean,
  ) {}

  acknowledge(readId: string): void {
    if (!this.enabled) return;
    this.acknowledged.add(readId);
    if (this.acknowledged.size >= this.ctx.purgeBatchSize) this.flush();
  }

  flush(): PurgeResult | undefined {
    if (this.acknowledged.size === 0) return undefined;
    const { db } = this.ctx;
    const ids = [...this.acknowledged];
    this.acknowledged.clear();
    let purged = 0;
    let keptHeld = 0;
    db.imageBuckets.openAll();
    db.root.transactionSync(() => {
      for (const id of ids) {
        // A damaged record is counted by the store and kept: an acknowledgement names the read, not its record.
        const s = this.ctx.record(id, db.reads.get(id));
        if (!s) continue;
        if (isHeld(db, id)) {
          keptHeld++;
          continue;
        }
        deleteReadInTxn(this.ctx, id, s);
        purged++;
      }
      if (purged > 0) appendAccessLogInTxn(db, { user: 'system', action: 'purge', parameters: { reason: 'forwarded', purged, keptHeld }, result: 'ok' });
    });
    const result: PurgeResult = { reason: 'forwarded', purged, keptHeld, oldestRemainingAt: oldestRemainingAt(this.ctx) };
    this.ctx.logger.info(result, 'forward-then-purge');
    return result;
  }
}
