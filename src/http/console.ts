import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join, relative } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Config } from '../config/schema.js';
import { ConsoleSessions } from './api/console-sessions.js';
import type { SelftestReport } from '../device/selftest-runner.js';
import type { LiveFrameSource } from '../device/live-view.js';
import type { HealthReport } from '../health/health.js';

export type ConsoleConfig = Config['http']['console'];

/** Device clock as the health page shows it. */
export interface ClockStatus {
  synced: boolean | undefined;
  source: string;
  detail: string;
}

/** What buildHttpApp needs to serve the console; the daemon passes it, tests make their own. */
export interface ConsoleOptions {
  config: ConsoleConfig;
  live?: LiveFrameSource;
  clock?: () => Promise<ClockStatus>;
  /** The self-test run from the page, in a child process (src/device/selftest-runner.ts). */
  selftest?: SelftestSource;
  /** Where the built console lives (default: dist/console of the install directory). */
  filesDir?: string;
}

/** Handed to the query API through a Fastify decorator, so the store extension need not know the console. */
export interface ConsoleContext {
  config: ConsoleConfig;
  sessions: ConsoleSessions;
  health: () => HealthReport;
  live?: LiveFrameSource;
  clock?: () => Promise<ClockStatus>;
  selftest?: SelftestSource;
}

/** Runs the self-test beside the daemon (one run at a time) and keeps the newest report. */
export interface SelftestSource {
  run(): Promise<SelftestReport>;
  lastReport(): SelftestReport | undefined;
}

declare module 'fastify' {
  interface FastifyInstance {
    consoleContext?: ConsoleContext;
  }
}

/**
 * A strict policy: only this origin's scripts and styles (no inline code, no eval), images from
 * this origin, no frames, no plugins, forms and fetches only to this origin. The console's bundle
 * is built to need nothing more.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "font-src 'self'",
  "manifest-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/** Sent with every response of the local server (console files and API alike). */
export const SECURITY_HEADERS: Record<string, string> = {
  'content-security-policy': CONTENT_SECURITY_POLICY,
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
  'permissions-policy': 'camera=(), microphone=(), geolocation=(), payment=(), usb=()',
};

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.map': 'application/json',
  '.txt': 'text/plain; charset=utf-8',
};

interface ConsoleFile {
  body: Buffer;
  type: string;
  etag: string;
}

/** Every file of the built console, read once: the set is fixed, so no request path reaches the disk. */
function loadFiles(dir: string): Map<string, ConsoleFile> {
  const files = new Map<string, ConsoleFile>();
  if (!existsSync(dir)) return files;
  const walk = (d: string): void => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else {
        const type = TYPES[extname(name)];
        if (!type) continue;
        const body = readFileSync(p);
        files.set(relative(dir, p).split('\\').join('/'), { body, type, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"` });
      }
    }
  };
  walk(dir);
  return files;
}

/**
 * The console's static files under /console/ (index.html for the app's own paths), and `/` sending
 * the browser there. They hold no plate, image or location (P1: readable without signing in); every
 * datum the pages show comes from the authenticated API. A missing build answers 503 naming the fix.
 */
export function registerConsoleFiles(app: FastifyInstance, dir: string): void {
  const files = loadFiles(dir);
  const index = files.get('index.html');
  const send = (f: ConsoleFile | undefined, ifNoneMatch: string | undefined, reply: import('fastify').FastifyReply) => {
    if (!f) return reply.code(503).type('text/plain; charset=utf-8').send(`the console is not built (${dir}): run npm run build`);
    // Revalidated on every load (no plate data in them, so no need for no-store).
    reply.header('cache-control', 'no-cache').header('etag', f.etag);
    if (ifNoneMatch === f.etag) return reply.code(304).send();
    return reply.type(f.type).send(f.body);
  };
  app.get('/', async (_req, reply) => reply.redirect('/console/', 302));
  app.get('/console', async (_req, reply) => reply.redirect('/console/', 302));
  app.get('/console/*', async (req, reply) => {
    const path = (req.params as { '*': string })['*'];
    const file = files.get(path);
    // Paths without an extension are the app's own pages (client-side routing): index.html.
    if (!file && extname(path) === '') return send(index, req.headers['if-none-match'], reply);
    if (!file) return reply.code(404).type('text/plain; charset=utf-8').send('not found');
    return send(file, req.headers['if-none-match'], reply);
  });
}
