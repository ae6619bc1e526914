import { statfsSync } from 'node:fs';

export interface DiskSpace {
  /** Bytes an unprivileged process (the daemon) may still write. */
  freeBytes: number;
  sizeBytes: number;
}

/** The file system holding `dir` (the state directory); undefined when there is no dir or statfs fails. */
export function diskSpace(dir: string | undefined): DiskSpace | undefined {
  if (!dir) return undefined;
  try {
    const fs = statfsSync(dir);
    return { freeBytes: fs.bavail * fs.bsize, sizeBytes: fs.blocks * fs.bsize };
  } catch {
    return undefined;
  }
}
