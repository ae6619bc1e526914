import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

export interface NotifyMessage {
  atMs: number;
  fields: Record<string, string>;
}

/**
 * A real unix datagram socket standing in for systemd's notify socket (Node cannot open one; Debian's
 * python3 does, in test/support/notify-socket.py). Stop it with close(), which ends it by pid.
 */
export async function openNotifySocket(dir: string): Promise<{ path: string; messages: NotifyMessage[]; close: () => void }> {
  const path = join(dir, 'notify.sock');
  const child = spawn('/usr/bin/python3', ['test/support/notify-socket.py', path], { stdio: ['ignore', 'pipe', 'inherit'] });
  const messages: NotifyMessage[] = [];
  const lines = createInterface({ input: child.stdout });
  await new Promise<void>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`notify socket exited ${code}`)));
    lines.on('line', (line) => {
      const m = JSON.parse(line) as NotifyMessage | { listening: string };
      if ('listening' in m) return resolve();
      // systemd-notify's barrier is transport, not protocol content.
      if (!('BARRIER' in m.fields)) messages.push(m);
    });
  });
  return { path, messages, close: () => child.kill('SIGTERM') };
}
