import type { HotListChange, HotListChangeLog } from '../hotlist/local-entries.js';
import type { StateDatabase } from '../state/database.js';
import type { Sealer } from '../state/device-keys.js';
import { appendAccessLog } from './access-log.js';

/**
 * Hot-list changes (list installed or refused, local entry added or removed) as access-log entries,
 * so they sit in the same hash chain as every other change (P6, P11, P17). A local entry's plate is
 * sealed with the device keys (P16).
 */
export class AccessLogHotListChanges implements HotListChangeLog {
  constructor(private readonly target: () => { db: StateDatabase; keys: Sealer } | undefined) {}

  append(change: HotListChange): void {
    const t = this.target();
    if (!t) throw new Error('the state database is not open; hot-list change not logged');
    appendAccessLog(t.db, {
      user: change.actor,
      action: 'hotlist.change',
      parameters: { change: change.action, list: change.list, ...(change.version !== undefined ? { version: change.version } : {}), ...change.detail },
      result: change.action === 'list-refused' ? 'refused' : 'ok',
    }, t.keys);
  }
}
