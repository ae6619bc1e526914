import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { PASSWORD, startConsoleApp, USERS, type ConsoleApp } from '../support/console-app.js';

// The web console in a real browser: Debian's chromium (scripts/setup installs it), headless, driven
// by playwright-core, against the real HTTP app on a free loopback port. Screenshots of each page
// go to out/console/ (docs/console.md shows them); CONSOLE_SCREENSHOTS=DIR puts them elsewhere.

const CHROMIUM = '/usr/bin/chromium';
const SCREENSHOTS = process.env['CONSOLE_SCREENSHOTS'] ?? join(import.meta.dirname, '../../out/console');

interface Received {
  url: string;
  status: number;
  headers: Record<string, string>;
  setCookie: string[];
  body: Buffer;
}

/** A fresh browser profile per role, so no cookie or cache carries over between them. */
async function openBrowser(): Promise<{ context: BrowserContext; received: Received[]; settle: () => Promise<void> }> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: run scripts/setup (it installs Debian's chromium for these tests)`);
  const profile = mkdtempSync(join(tmpdir(), 'alpr-console-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-dev-shm-usage'],
    viewport: { width: 1280, height: 860 },
  });
  onTestFinished(async () => {
    await context.close();
    rmSync(profile, { recursive: true, force: true });
  });
  const received: Received[] = [];
  const pending: Promise<void>[] = [];
  context.on('response', (r) => {
    pending.push((async () => {
      const headers = await r.allHeaders();
      const setCookie = (await r.headersArray()).filter((h) => h.name.toLowerCase() === 'set-cookie').map((h) => h.value);
      const body = await r.body().catch(() => Buffer.alloc(0));
      received.push({ url: r.url(), status: r.status(), headers, setCookie, body });
    })());
  });
  return { context, received, settle: async () => void (await Promise.all(pending)) };
}

async function signIn(page: Page, baseUrl: string, username: string): Promise<void> {
  await page.goto(`${baseUrl}/console/`);
  await page.fill('input[name=username]', username);
  await page.fill('input[name=password]', PASSWORD);
  await page.click('button[type=submit]');
  await page.waitForSelector('[data-testid=who]');
}

async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
}

/** Every image on the page has loaded (decoded, not broken). */
async function imagesLoaded(page: Page, selector: string, count: number): Promise<void> {
  await page.waitForFunction(([sel, n]) => {
    const imgs = [...document.querySelectorAll<HTMLImageElement>(sel as string)];
    return imgs.length >= (n as number) && imgs.every((i) => i.complete && i.naturalWidth > 0);
  }, [selector, count]);
}

const inPageFetch = (page: Page, url: string, init: { method?: string; headers?: Record<string, string>; body?: string } = {}) =>
  page.evaluate(async ([u, i]) => {
    const r = await fetch(u as string, i as RequestInit);
    return { status: r.status, body: await r.text() };
  }, [url, init] as const);

describe('web console in a real browser (chromium, playwright-core)', () => {
  let c: ConsoleApp;

  beforeAll(async () => {
    c = await startConsoleApp();
  });

  afterAll(async () => {
    await c?.close();
  });

  it('each role signs in; the cookie is httpOnly, SameSite=Strict and Secure on loopback; the page has a CSP; sign-out ends the session', async () => {
    for (const [role, username] of Object.entries(USERS)) {
      const { context, received, settle } = await openBrowser();
      const page = await context.newPage();
      await signIn(page, c.baseUrl, username);
      expect(await page.locator('[data-testid=who]').textContent()).toBe(`${username} · ${role}`);
      await page.click('nav a:has-text("Device health")');
      await page.waitForSelector('[data-testid=health-hotlists] >> text=ca-doj-svs');
      // httpOnly: the page's scripts never see the session.
      expect(await page.evaluate(() => document.cookie)).toBe('');
      await page.click('button:has-text("Sign out")');
      await page.waitForSelector('input[name=username]');
      expect((await inPageFetch(page, '/api/v1/session')).status).toBe(401);
      await page.close();
      await settle();
      const signInReply = received.find((r) => r.url.endsWith('/api/v1/session') && r.status === 200 && r.setCookie.length > 0)!;
      expect(signInReply.setCookie[0]).toMatch(/^alpr_console=[A-Za-z0-9_-]+; Path=\/api\/v1; HttpOnly; SameSite=Strict; Secure$/);
      const page0 = received.find((r) => r.url.endsWith('/console/') && r.status === 200)!;
      expect(page0.headers['content-security-policy']).toContain("default-src 'none'");
    }
  }, 120_000);
});
