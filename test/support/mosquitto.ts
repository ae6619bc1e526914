import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer, connect } from 'node:net';
import { chmodSync, existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A free TCP port on loopback (tests never leave 127.0.0.1). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

async function waitForPort(port: number, timeoutMs = 5000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`mosquitto did not listen on ${port} within ${timeoutMs} ms`);
}

export interface TestCerts {
  caCert: string;
  caKey: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
}

function openssl(args: string[], cwd: string): void {
  const r = spawnSync('openssl', args, { cwd, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`openssl ${args.join(' ')} failed: ${r.stderr}`);
}

/** A CA, a server certificate for 127.0.0.1 and a device client certificate, made with openssl. */
export function makeCerts(dir: string, prefix = ''): TestCerts {
  const p = (n: string) => join(dir, `${prefix}${n}`);
  openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', p('ca.key'), '-out', p('ca.crt'), '-days', '2', '-subj', `/CN=${prefix}test-ca`], dir);
  writeFileSync(p('server.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  openssl(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', p('server.key'), '-out', p('server.csr'), '-subj', '/CN=localhost'], dir);
  openssl(['x509', '-req', '-in', p('server.csr'), '-CA', p('ca.crt'), '-CAkey', p('ca.key'), '-CAcreateserial', '-out', p('server.crt'), '-days', '2', '-extfile', p('server.ext')], dir);
  openssl(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', p('client.key'), '-out', p('client.csr'), '-subj', '/CN=tls-pole'], dir);
  openssl(['x509', '-req', '-in', p('client.csr'), '-CA', p('ca.crt'), '-CAkey', p('ca.key'), '-CAcreateserial', '-out', p('client.crt'), '-days', '2'], dir);
  // Mosquitto started as root drops to the `mosquitto` user; these throwaway test keys must be readable to it.
  chmodSync(dir, 0o755);
  for (const f of readdirSync(dir)) chmodSync(join(dir, f), 0o644);
  return { caCert: p('ca.crt'), caKey: p('ca.key'), serverCert: p('server.crt'), serverKey: p('server.key'), clientCert: p('client.crt'), clientKey: p('client.key') };
}

export interface RunningMosquitto {
  port: number;
  /** SIGKILL: the broker dies without a goodbye (outage tests). */
  kill(): Promise<void>;
  /** Starts it again on the same port and config. */
  restart(): Promise<void>;
  stop(): Promise<void>;
  /**
   * Persistent brokers: true once the broker's save file holds `needle` (a client id or a topic
   * filter), i.e. that session survives a SIGKILL. Mosquitto saves in its main loop after it has
   * sent the SUBACK, so a subscriber's own SUBACK does not prove it yet.
   */
  persisted(needle: string): boolean;
}

/** Starts `mosquitto -c conf` on a free loopback port; stopped by its pid, never by name. */
export async function startMosquitto(dir: string, opts: { tls?: TestCerts; port?: number; persistent?: boolean } = {}): Promise<RunningMosquitto> {
  const port = opts.port ?? (await freePort());
  const conf = join(dir, `mosquitto-${port}.conf`);
  const lines = [`listener ${port} 127.0.0.1`, 'allow_anonymous true', 'max_inflight_messages 0', 'max_queued_messages 0'];
  // Persistent: the central subscriber's session (subscription + queue) survives a SIGKILL.
  // Mosquitto started as root drops to the `mosquitto` user, which cannot write into a 0700 temp dir
  // of ours: it then saves nothing, silently, and every "persistent" session dies with the broker. So
  // the save file lives in a directory of its own that any user may write (throwaway test data).
  let saveFile: string | undefined;
  if (opts.persistent) {
    const dataDir = mkdtempSync(join(tmpdir(), 'mosquitto-data-'));
    chmodSync(dataDir, 0o777);
    saveFile = join(dataDir, 'mosquitto.db');
    lines.push('persistence true', `persistence_location ${dataDir}/`, 'autosave_on_changes true', 'autosave_interval 1');
  } else lines.push('persistence false');
  if (opts.tls) {
    lines.push(`cafile ${opts.tls.caCert}`, `certfile ${opts.tls.serverCert}`, `keyfile ${opts.tls.serverKey}`, 'require_certificate true', 'use_identity_as_username true', 'tls_version tlsv1.2');
  }
  writeFileSync(conf, lines.join('\n') + '\n');
  let proc: ChildProcess | undefined;
  const launch = async () => {
    proc = spawn('mosquitto', ['-c', conf], { stdio: 'ignore' });
    await waitForPort(port);
  };
  const end = async (signal: NodeJS.Signals) => {
    const p = proc;
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    const exited = new Promise((r) => p.once('exit', r));
    p.kill(signal);
    await exited;
  };
  await launch();
  const persisted = (needle: string) => saveFile !== undefined && existsSync(saveFile) && readFileSync(saveFile).includes(needle);
  return { port, kill: () => end('SIGKILL'), restart: launch, stop: () => end('SIGTERM'), persisted };
}
