import { execFileSync } from 'node:child_process';
import { realpathSync } from 'node:fs';
import { installDir } from './config/load.js';

/**
 * The source commit the daemon runs, for `alpr_edge_build_info` and telemetry: `ALPR_EDGE_COMMIT`
 * when a package build sets it, else the git checkout the daemon runs from (a clone, the demo), else
 * `unknown` (an installed package carries no .git).
 */
export function sourceCommit(env: NodeJS.ProcessEnv = process.env): string {
  const given = env['ALPR_EDGE_COMMIT']?.trim();
  if (given && /^[0-9a-f]{7,40}$/i.test(given)) return given.toLowerCase().slice(0, 12);
  try {
    const dir = realpathSync(installDir());
    const [top, commit] = execFileSync('git', ['-C', dir, 'rev-parse', '--show-toplevel', '--short=12', 'HEAD'], { encoding: 'utf8', timeout: 2000, stdio: ['ignore', 'pipe', 'ignore'] }).trim().split('\n');
    // Only our own checkout: a package installed somewhere inside another repository is not it.
    return top && realpathSync(top) === dir && commit && /^[0-9a-f]{7,40}$/.test(commit) ? commit : 'unknown';
  } catch {
    return 'unknown';
  }
}
