import { statfsSync } from 'node:fs';
import type { StateDatabase } from '../state/database.js';

export interface StoreUsage {
  reads: number;
  usedBytes: number;
  mapSizeBytes: number;
  fsFreeBytes: number;
}

/** Pages in use by the store's databases, and free space on the file system under `path`. */
export function storeUsage(db: StateDatabase, path: string): StoreUsage {
  const stats = db.root.getStats() as { pageSize: number; mapSize: number };
  let pages = 0;
  db.imageBuckets.openAll();
  for (const d of [db.reads, db.legacyImages, db.keptImages, ...db.imageBuckets.openDatabases(), db.byPlate, db.byLookAlike, db.byCamera, db.accessLog, db.heldReads, db.holdReads]) {
    const s = d.getStats() as { treeBranchPageCount: number; treeLeafPageCount: number; overflowPages: number };
    pages += s.treeBranchPageCount + s.treeLeafPageCount + s.overflowPages;
  }
  let fsFreeBytes = Number.POSITIVE_INFINITY;
  try {
    const fs = statfsSync(path);
    fsFreeBytes = fs.bavail * fs.bsize;
  } catch {
    // No statfs (unusual file systems): the byte budget alone applies.
  }
  return { reads: db.reads.getCount(), usedBytes: pages * stats.pageSize, mapSizeBytes: stats.mapSize, fsFreeBytes };
}
