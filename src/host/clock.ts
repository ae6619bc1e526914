import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';

// P2: every read carries a UTC timestamp "from a synced clock". Whether the clock is synchronised is
// asked of whoever disciplines it, in order: systemd (timedatectl), chrony, systemd-timesyncd's flag
// file, and finally the kernel itself (adjtimex(2): STA_UNSYNC is cleared only while an NTP daemon
// steers the clock). Node cannot call adjtimex, so that last one goes through python3 when present.

export interface ClockSync {
  /** undefined: nobody could tell (counts as not synchronised in the self-test). */
  synced: boolean | undefined;
  /** Who answered: timedatectl, chronyc, timesyncd, adjtimex, or none. */
  source: string;
  detail: string;
}

function run(cmd: string, args: string[], timeoutMs = 5000): Promise<{ ok: boolean; stdout: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: timeoutMs, encoding: 'utf8' }, (err, stdout) => resolve({ ok: !err, stdout: stdout ?? '' }));
  });
}

// struct timex up to `status` (modes, offset, freq, maxerror, esterror, status) is all we read; the
// rest is padding large enough for the kernel's full struct.
const ADJTIMEX_PY = `
import ctypes, ctypes.util, json
class T(ctypes.Structure):
    _fields_ = [("modes", ctypes.c_uint), ("offset", ctypes.c_long), ("freq", ctypes.c_long), ("maxerror", ctypes.c_long), ("esterror", ctypes.c_long), ("status", ctypes.c_int), ("pad", ctypes.c_char * 256)]
t = T()
state = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True).adjtimex(ctypes.byref(t))
print(json.dumps({"state": state, "status": t.status, "maxerrorUs": t.maxerror, "esterrorUs": t.esterror}))
`;

const STA_UNSYNC = 0x40;

export async function clockSync(): Promise<ClockSync> {
  const td = await run('timedatectl', ['show', '-p', 'NTPSynchronized', '--value']);
  if (td.ok && /^(yes|no)$/.test(td.stdout.trim())) {
    const synced = td.stdout.trim() === 'yes';
    return { synced, source: 'timedatectl', detail: `NTPSynchronized=${td.stdout.trim()}` };
  }
  const chrony = await run('chronyc', ['-n', 'tracking']);
  if (chrony.ok) {
    const leap = /Leap status\s*:\s*(.+)/.exec(chrony.stdout)?.[1]?.trim();
    const offset = /System time\s*:\s*(.+)/.exec(chrony.stdout)?.[1]?.trim();
    if (leap) return { synced: leap !== 'Not synchronised', source: 'chronyc', detail: `leap status ${leap}${offset ? `, ${offset}` : ''}` };
  }
  if (existsSync('/run/systemd/timesync/synchronized')) return { synced: true, source: 'timesyncd', detail: '/run/systemd/timesync/synchronized present' };
  for (const python of ['/usr/bin/python3', 'python3']) {
    const k = await run(python, ['-c', ADJTIMEX_PY]);
    if (!k.ok) continue;
    try {
      const t = JSON.parse(k.stdout) as { state: number; status: number; maxerrorUs: number };
      const synced = (t.status & STA_UNSYNC) === 0 && t.state !== 5;
      return { synced, source: 'adjtimex', detail: `kernel clock ${synced ? 'synchronised' : 'unsynchronised (STA_UNSYNC)'}, max error ${(t.maxerrorUs / 1000).toFixed(0)} ms` };
    } catch {
      continue;
    }
  }
  return { synced: undefined, source: 'none', detail: 'no timedatectl, chronyc, timesyncd or python3 to ask' };
}

/**
 * Asks `clockSync()` at start and then every `intervalMs` (it runs a command, so not on every
 * scrape), keeping the latest answer for metrics and MQTT telemetry. An answer that throws counts as
 * "nobody could tell".
 */
export class ClockMonitor {
  private timer: NodeJS.Timeout | undefined;
  private last: ClockSync | undefined;
  private checking: Promise<void> | undefined;

  constructor(
    private readonly intervalMs: number,
    private readonly onSample: (clock: ClockSync) => void = () => {},
    private readonly check: () => Promise<ClockSync> = clockSync,
  ) {}

  /** The latest answer; undefined before the first one arrives. */
  get latest(): ClockSync | undefined {
    return this.last;
  }

  /** Starts the periodic check; resolves once the first answer is in. */
  start(): Promise<void> {
    this.timer = setInterval(() => void this.sample(), this.intervalMs);
    this.timer.unref();
    return this.sample();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private sample(): Promise<void> {
    this.checking ??= this.check()
      .catch((err: unknown): ClockSync => ({ synced: undefined, source: 'none', detail: `clock check failed: ${(err as Error).message}` }))
      .then((c) => {
        this.last = c;
        this.onSample(c);
      })
      .finally(() => {
        this.checking = undefined;
      });
    return this.checking;
  }
}
