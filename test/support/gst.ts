import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

/** Debian's python: the one with GObject introspection for GstRtspServer (pyenv's is not). */
const SYSTEM_PYTHON = '/usr/bin/python3';
const RTSP_SERVER_SCRIPT = fileURLToPath(new URL('./rtsp-server.py', import.meta.url));

export interface RtspServerOptions {
  /** Reuse a port, e.g. to bring a "camera" back at the same address. Default: a free port. */
  port?: number;
  width?: number;
  height?: number;
  fps?: number;
  /** Serve this clip instead of videotestsrc. */
  file?: string;
  readyTimeoutMs?: number;
}

export interface RtspServer {
  port: number;
  url: string;
  pid: number;
  /** Ends the server (SIGTERM, or e.g. SIGKILL to simulate a crash) and waits for it to exit. */
  stop(signal?: NodeJS.Signals): Promise<void>;
  /** SIGSTOP: sockets stay open but nothing is sent, like a hung camera. */
  freeze(): void;
  /** SIGCONT after freeze(). */
  thaw(): void;
}

/** A TCP port on 127.0.0.1 that nothing listens on at the moment of asking. */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  server.close();
  await once(server, 'close');
  if (address === null || typeof address === 'string') throw new Error('could not get a free port');
  return address.port;
}

/** Starts test/support/rtsp-server.py on 127.0.0.1 and resolves once it prints READY. */
export async function startRtspServer(opts: RtspServerOptions = {}): Promise<RtspServer> {
  const port = opts.port ?? (await freePort());
  const args = [RTSP_SERVER_SCRIPT, '--port', String(port)];
  if (opts.width !== undefined) args.push('--width', String(opts.width));
  if (opts.height !== undefined) args.push('--height', String(opts.height));
  if (opts.fps !== undefined) args.push('--fps', String(opts.fps));
  if (opts.file !== undefined) args.push('--file', opts.file);

  const child = spawn(SYSTEM_PYTHON, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  await waitForReady(child, opts.readyTimeoutMs ?? 10_000, () => stderr);
  const pid = child.pid;
  if (pid === undefined) throw new Error('rtsp-server.py has no pid');
  return {
    port,
    url: `rtsp://127.0.0.1:${port}/test`,
    pid,
    stop: (signal = 'SIGTERM') => stopChild(child, signal),
    freeze: () => process.kill(pid, 'SIGSTOP'),
    thaw: () => process.kill(pid, 'SIGCONT'),
  };
}

function waitForReady(child: ChildProcess, timeoutMs: number, stderr: () => string): Promise<void> {
  return new Promise((resolve, reject) => {
    let stdout = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`rtsp-server.py not READY within ${timeoutMs} ms: ${stderr()}`));
    }, timeoutMs);
    child.stdout?.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      if (stdout.includes('READY')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`rtsp-server.py exited (${code ?? signal}) before READY: ${stderr()}`));
    });
  });
}

/** Signal by pid (a frozen server is thawed first so it can act on it), SIGKILL if still there after 3 s. */
async function stopChild(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill(signal);
  child.kill('SIGCONT');
  const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
  await exited;
  clearTimeout(timer);
}
