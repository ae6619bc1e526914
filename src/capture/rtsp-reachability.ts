import { connect } from 'node:net';

/**
 * Host and port of an rtsp(s) location; rtsp defaults to 554, rtsps to 322.
 * Undefined when the URL cannot be parsed (rtspsrc then reports the problem itself).
 */
export function rtspEndpoint(location: string): { host: string; port: number } | undefined {
  try {
    const url = new URL(location);
    const port = url.port === '' ? (url.protocol === 'rtsps:' ? 322 : 554) : Number(url.port);
    return { host: url.hostname.replace(/^\[|\]$/g, ''), port };
  } catch {
    return undefined;
  }
}

/**
 * Why a TCP connection to the camera fails, or undefined when it connects.
 *
 * Checked before each RTSP pipeline is built: retrying a camera that is switched off then costs
 * one socket instead of a whole pipeline (threads, rtpbin, decoder), and the reason names the
 * address and the socket error rather than rtspsrc's generic "Could not open resource".
 */
export function tcpUnreachableReason(host: string, port: number, timeoutMs: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (reason: string | undefined): void => {
      socket.destroy();
      resolve(reason);
    };
    socket.setTimeout(timeoutMs, () => done(`no TCP answer from ${host}:${port} within ${timeoutMs} ms`));
    socket.once('connect', () => done(undefined));
    socket.once('error', (err: NodeJS.ErrnoException) =>
      done(`cannot connect to ${host}:${port} (${err.code ?? err.message}): check that the camera is powered and reachable`),
    );
  });
}
