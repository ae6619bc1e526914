import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { signAnchor } from '../../src/access/anchors.js';
import { defaultConfig } from '../../src/config/defaults.js';
import { engineOptions, PlateEngine } from '../../src/inference/engine.js';
import { decodeImageFile } from '../../src/inference/image.js';
import { createHold } from '../../src/store/evidence-holds.js';
import { keyFingerprint } from '../../src/state/device-keys.js';
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
      try {
        const headers = await r.allHeaders();
        const setCookie = (await r.headersArray()).filter((h) => h.name.toLowerCase() === 'set-cookie').map((h) => h.value);
        const body = await r.body().catch(() => Buffer.alloc(0));
        received.push({ url: r.url(), status: r.status(), headers, setCookie, body });
      } catch (err) {
        // A live-view poll still in flight when the test closed its page (or the browser) answers
        // into a page that no longer exists: nothing of it reached the user. Anything else fails.
        if (!r.frame().page().isClosed()) throw err;
      }
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
  let feeder: NodeJS.Timeout | undefined;

  beforeAll(async () => {
    c = await startConsoleApp();
    // The live view gets what the daemon's pipeline gives it: a camera frame and the models' own
    // answer for it (boxes and reads, text included: the live view must drop it).
    const engine = await PlateEngine.load(engineOptions(defaultConfig()));
    const scene = await decodeImageFile(join(import.meta.dirname, '../fixtures/scenes/two-cars.jpg'));
    const result = await engine.readImage(scene);
    await engine.close();
    expect(result.plates.map((p) => p.text)).toContain('XHS8158');
    feeder = setInterval(() => c.live.offer('north', scene, result), 100);
  }, 120_000);

  afterAll(async () => {
    if (feeder) clearInterval(feeder);
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

  it('technician: live view with boxes and plate widths, health and the self-test with its advice; never a stored read in any response (P8)', async () => {
    const { context, received, settle } = await openBrowser();
    const page = await context.newPage();
    await signIn(page, c.baseUrl, USERS.technician);
    await page.waitForURL('**/console/live');
    await imagesLoaded(page, '[data-testid=live-north] img', 1);
    expect(await page.locator('[data-testid=live-north] svg.overlay .plate rect').count()).toBeGreaterThanOrEqual(2);
    expect(await page.locator('[data-testid=live-north] table tbody tr').count()).toBeGreaterThanOrEqual(2);
    expect(await page.locator('[data-testid=fps]').textContent()).toBe('14.8 fps');
    // Several refreshes a second: the frame's sequence number moves on while the page is open.
    const seqOf = async () => Number(/seq=(\d+)/.exec((await page.locator('[data-testid=live-north] img').getAttribute('src')) ?? '')?.[1]);
    const firstSeq = await seqOf();
    await page.waitForFunction((s) => Number(/seq=(\d+)/.exec(document.querySelector('[data-testid=live-north] img')?.getAttribute('src') ?? '')?.[1]) > s + 2, firstSeq);
    await screenshot(page, 'technician-live');
    // No search for a technician: not in the menu, and its address leads back to the live view.
    expect(await page.locator('nav a', { hasText: 'Search' }).count()).toBe(0);
    await page.click('nav a:has-text("Device health")');
    await page.waitForSelector('[data-testid=health-hotlists] >> text=ca-doj-svs');
    expect(await page.locator('[data-testid=health-clock]').textContent()).toContain('fixture clock');
    await page.click('button:has-text("Run the self-test")');
    await page.waitForSelector('[data-testid=selftest] td:text-is("enable NTP (timedatectl set-ntp true)")');
    expect(await page.locator('[data-testid=selftest-summary]').textContent()).toMatch(/^no check failed/);
    expect(c.accessLog().filter((e) => e.action === 'device.selftest').at(-1)).toMatchObject({ user: 'tina', result: 'ok' });
    await screenshot(page, 'technician-health');
    await page.goto(`${c.baseUrl}/console/search`);
    await page.waitForURL('**/console/live');
    // The API refuses a technician anyway (P8), and says so in the access log.
    expect((await inPageFetch(page, '/api/v1/reads?reason=curious')).status).toBe(403);
    expect((await inPageFetch(page, `/api/v1/reads/${c.reads[0]!.id}/images/plate?reason=curious`)).status).toBe(403);
    expect(c.accessLog().filter((e) => e.user === 'tina' && e.action === 'api.denied')).toHaveLength(2);
    expect(await page.evaluate(() => document.cookie)).toBe('');
    await page.close();
    await settle();

    // Every response the technician's browser received: no plate text, read id or stored image.
    expect(received.length).toBeGreaterThan(10);
    const storedImages = c.reads.flatMap((r) => [r.plateJpeg, r.overviewJpeg]);
    for (const r of received) {
      const text = r.body.toString('latin1');
      for (const read of c.reads) {
        expect(text, r.url).not.toContain(read.plate);
        expect(text, r.url).not.toContain(read.id);
      }
      for (const img of storedImages) expect(r.body.equals(img), r.url).toBe(false);
      if (r.url.includes('/api/v1/reads')) expect(r.status, r.url).toBe(403);
    }
    expect(received.some((r) => r.url.includes('/api/v1/live/north/frame.jpg') && r.status === 200 && r.headers['content-type'] === 'image/jpeg')).toBe(true);
    // The sign-in's cookie: httpOnly, SameSite=Strict, Secure on this loopback origin; CSP on the page.
    const signInReply = received.find((r) => r.url.endsWith('/api/v1/session') && r.setCookie.length > 0)!;
    expect(signInReply.setCookie[0]).toMatch(/^alpr_console=[A-Za-z0-9_-]+; Path=\/api\/v1; HttpOnly; SameSite=Strict; Secure$/);
    const page0 = received.find((r) => r.url.endsWith('/console/') && r.status === 200)!;
    expect(page0.headers['content-security-policy']).toContain("default-src 'none'");
  }, 120_000);

  it('investigator: no search without a reason; a search with one shows the reads, each view in the access log (P6, P7, P13); a local hot-list entry entered for approval (P11)', async () => {
    const { context } = await openBrowser();
    const page = await context.newPage();
    const blocked: string[] = [];
    page.on('console', (m) => {
      if (/Content Security Policy/i.test(m.text())) blocked.push(m.text());
    });
    await signIn(page, c.baseUrl, USERS.investigator);
    await page.waitForURL('**/console/search');
    expect(await page.locator('button[name=search]').isDisabled()).toBe(true);
    await page.fill('input[name=plate]', 'XHS8158');
    expect(await page.locator('button[name=search]').isDisabled()).toBe(true);
    // The API refuses it anyway, and logs the refusal under the investigator's name.
    const refused = await inPageFetch(page, '/api/v1/reads?plate=XHS8158');
    expect(refused.status).toBe(400);
    expect(JSON.parse(refused.body)).toMatchObject({ field: 'reason' });
    expect(c.accessLog().at(-1)).toMatchObject({ user: 'ivan', action: 'api.denied', result: 'denied' });

    await page.fill('input[name=plate]', '');
    await page.fill('textarea[name=reason]', 'stolen vehicle report');
    await page.fill('input[name=caseNumber]', '24-000123');
    await page.click('button[name=search]');
    await page.waitForSelector('[data-testid=results] .read-card');
    expect(await page.locator('[data-testid=results] .read-card').count()).toBe(3);
    const texts = await page.locator('[data-testid=results] .plate-text').allTextContents();
    expect(texts.sort()).toEqual(c.reads.map((r) => r.plate).sort());
    await imagesLoaded(page, '[data-testid=results] img.crop', 3);
    const log = c.accessLog();
    expect(log.filter((e) => e.user === 'ivan' && e.action === 'search' && e.result === 'ok').at(-1)).toMatchObject({ parameters: { reason: 'stolen vehicle report', caseNumber: '24-000123', results: 3 } });
    const crops = log.filter((e) => e.user === 'ivan' && e.action === 'image.view' && e.parameters['kind'] === 'plate');
    expect(new Set(crops.map((e) => e.parameters['readId']))).toEqual(new Set(c.reads.map((r) => r.id)));
    for (const e of crops) expect(e.parameters).toMatchObject({ reason: 'stolen vehicle report', caseNumber: '24-000123' });
    await screenshot(page, 'investigator-search');

    // A read's page: overview, candidates, vehicle colour and the P13 warning.
    const target = c.reads.find((r) => r.plate === 'SGK9091')!;
    await page.click(`a[href="/console/reads/${target.id}"]`);
    await page.waitForSelector('[data-testid=verify-notice]');
    await imagesLoaded(page, '.read-page img', 2);
    const body = (await page.locator('.read-page').textContent()) ?? '';
    expect(body).toContain('CLETS');
    expect(body).toContain('silver');
    expect(body).toContain('SGK9091');
    expect(await page.locator('.read-page table tbody tr').count()).toBe(2);
    const after = c.accessLog();
    expect(after.filter((e) => e.action === 'read.view').at(-1)).toMatchObject({ user: 'ivan', parameters: { readId: target.id, reason: 'stolen vehicle report', caseNumber: '24-000123' } });
    expect(after.some((e) => e.action === 'image.view' && e.parameters['kind'] === 'overview' && e.parameters['readId'] === target.id)).toBe(true);
    await screenshot(page, 'investigator-read');

    // An evidence hold from selected reads: a state-changing request, sent with the CSRF token.
    await page.click('button:has-text("Back to results")');
    await page.waitForSelector('[data-testid=results] .read-card');
    const boxes = page.locator('[data-testid=results] .read-card input[type=checkbox]');
    await boxes.nth(0).check();
    await boxes.nth(1).check();
    await page.fill('input[name=holdName]', 'case-24-000123');
    await page.click('button:has-text("Place hold")');
    await page.waitForSelector('text=Hold case-24-000123 placed on 2 read(s)');
    // Without the token the same request is refused (CSRF).
    const forged = await inPageFetch(page, '/api/v1/holds', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'forged', caseNumber: '1', reason: 'forged', readIds: [target.id] }) });
    expect(forged.status).toBe(403);

    // P11: a local hot-list entry entered for an administrator's approval, not matched until then.
    await page.click('nav a:has-text("Local hot list")');
    await page.fill('[data-testid=hotlist-propose] input[name=hotPlate]', 'kw3?x');
    await page.fill('[data-testid=hotlist-propose] input[name=hotCase]', '24-000123');
    await page.fill('[data-testid=hotlist-propose] input[name=hotSynopsis]', 'vehicle seen leaving the scene');
    await page.click('button:has-text("Enter for approval")');
    await page.waitForSelector('[data-testid=hotlist-proposals] tr:has(td:text-is("KW3?X")) td:text-is("awaiting approval")');
    expect(c.accessLog().filter((e) => e.action === 'hotlist.change').at(-1)).toMatchObject({ user: 'ivan', result: 'ok', parameters: expect.objectContaining({ change: 'local-proposed', via: 'api' }) });
    await screenshot(page, 'investigator-hotlist');
    expect(blocked).toEqual([]);
  }, 120_000);

  it('administrator: every page; adds a user, changes a training date, sees who is locked out, disables and enables the user, approves and refuses sharing requests, exports a hold for the approved request, approves a local hot-list entry a member entered, adds and removes one, verifies the log and checks it against anchors, draws an audit sample; sign-out ends the session', async () => {
    createHold(c.store, { name: 'admin-view', caseNumber: '24-9', reason: 'fixture hold', readIds: [c.reads[0]!.id] }, 'ivan');
    const share = c.sharing.request({ agency: 'Santa Cruz County Sheriff', agencyState: 'CA', requester: 'Det. Lee', purpose: 'robbery investigation 24-77' }, 'ivan');
    const toRefuse = c.sharing.request({ agency: 'Monterey Police Department', agencyState: 'CA', requester: 'Sgt. Ruiz', purpose: 'general interest' }, 'ivan');
    // An inquiry of the period for the sample to draw, whatever ran before.
    const login = await c.app.inject({ method: 'POST', url: '/api/v1/login', payload: { username: USERS.investigator, password: PASSWORD } });
    await c.app.inject({ method: 'GET', url: '/api/v1/reads?reason=audit+fixture', headers: { authorization: `Bearer ${login.json().token as string}` } });
    // A member's local entry awaiting approval (P11), entered over the API as the investigator's page does.
    const proposal = await c.app.inject({ method: 'POST', url: '/api/v1/hotlist/local/proposals', headers: { authorization: `Bearer ${login.json().token as string}` }, payload: { plate: 'jv8*', caseNumber: '24-000777', synopsis: 'hit and run, dark van' } });
    expect(proposal.statusCode).toBe(201);
    const { context } = await openBrowser();
    const page = await context.newPage();
    page.on('dialog', (d) => void d.accept());
    await signIn(page, c.baseUrl, USERS.administrator);
    await page.waitForURL('**/console/health');
    expect(await page.locator('nav a').allTextContents()).toEqual(['Live view', 'Search reads', 'Device health', 'Administration']);
    await page.click('nav a:has-text("Administration")');
    await page.waitForSelector('[data-testid=admin-holds] td:has-text("admin-view")');

    await page.fill('input[name=newUsername]', 'tom');
    await page.selectOption('select[name=newRole]', 'technician');
    await page.fill('[data-testid=admin-users] form.add-user input[name=newPassword]', 'a long first password');
    await page.click('button:has-text("Add user")');
    await page.waitForSelector('[data-testid=admin-users] td:text-is("tom")');
    expect(c.users.get('tom')).toMatchObject({ role: 'technician', createdBy: 'ada' });
    expect(await page.locator('[data-testid=locked-out]').textContent()).toBe('Nobody is locked out.');

    await page.click('[data-testid=admin-users] tr:has(td:text-is("tom")) button:has-text("Training date")');
    await page.fill('[data-testid=admin-users] tr:has(td:text-is("tom")) input[name=trainingDate]', '2027-03-31');
    await page.click('[data-testid=admin-users] tr:has(td:text-is("tom")) button:text-is("Set")');
    await page.waitForSelector('[data-testid=admin-users] tr:has(td:text-is("tom")) td:text-is("2027-03-31")');
    expect(c.users.get('tom')?.trainingValidUntil).toBe('2027-03-31');
    expect(c.accessLog().filter((e) => e.action === 'user.training').at(-1)).toMatchObject({ user: 'ada', result: 'ok' });

    // Wrong passwords until tom is locked out; the page names him after a reload.
    for (let i = 0; i < 20 && c.users.get('tom')?.lockedUntilMs === undefined; i++) await c.users.login('tom', 'not the password at all', 'test');
    expect(c.users.get('tom')?.lockedUntilMs).toBeGreaterThan(Date.now());
    await page.reload();
    await page.waitForSelector('[data-testid=locked-out]:has-text("Locked out now: tom")');

    // Disabled, and enabled again: the lockout is lifted with it, and both are in the access log.
    await page.click('[data-testid=admin-users] tr:has(td:text-is("tom")) button:has-text("Disable")');
    await page.waitForSelector('[data-testid=admin-users] tr:has(td:text-is("tom")) td:text-is("disabled")');
    expect(c.users.get('tom')?.disabled).toBe(true);
    await page.click('[data-testid=admin-users] tr:has(td:text-is("tom")) button:text-is("Enable")');
    await page.waitForSelector('[data-testid=admin-users] tr:has(td:text-is("tom")) td:text-is("active")');
    expect(c.users.get('tom')).toMatchObject({ disabled: false, failedLogins: 0 });
    expect(c.accessLog().filter((e) => e.action === 'user.enable').at(-1)).toMatchObject({ user: 'ada', result: 'ok', parameters: { username: 'tom' } });
    expect(await page.locator('[data-testid=locked-out]').textContent()).toBe('Nobody is locked out.');

    await page.click(`[data-testid=admin-shares] tr:has-text("${share.id}") button:has-text("Approve")`);
    await page.waitForSelector(`[data-testid=admin-shares] tr:has-text("${share.id}") >> text=approved by ada`);
    expect(c.sharing.get(share.id)).toMatchObject({ status: 'approved', approvedBy: 'ada' });
    await page.click(`[data-testid=admin-shares] tr:has-text("${toRefuse.id}") button:has-text("Refuse")`);
    const refuse = page.locator(`[data-testid=admin-shares] tr:has-text("${toRefuse.id}") button:text-is("Refuse")`);
    expect(await refuse.isDisabled()).toBe(true);
    await page.fill(`[data-testid=admin-shares] tr:has-text("${toRefuse.id}") input[name=refusalReason]`, 'not a criminal investigation (P14)');
    await refuse.click();
    await page.waitForSelector(`[data-testid=admin-shares] tr:has-text("${toRefuse.id}") >> text=refused: not a criminal investigation (P14) (by ada)`);
    expect(c.sharing.get(toRefuse.id)).toMatchObject({ status: 'refused', refusedBy: 'ada', refusal: 'not a criminal investigation (P14)' });
    expect(c.accessLog().filter((e) => e.action === 'share.refuse').at(-1)).toMatchObject({ user: 'ada', result: 'ok' });

    await page.click('[data-testid=admin-holds] tr:has-text("admin-view") button:has-text("Export")');
    await page.selectOption('[data-testid=admin-holds] select[name=exportShare]', share.id);
    await page.click('[data-testid=admin-holds] tr:has-text("admin-view") button:text-is("Export")');
    await page.waitForSelector('[data-testid=export-fingerprint]');
    expect(await page.locator('[data-testid=export-fingerprint]').textContent()).toBe(keyFingerprint(c.keys.signingPublicKeyPem));
    expect(c.accessLog().filter((e) => e.action === 'export').at(-1)).toMatchObject({ user: 'ada', result: 'ok', parameters: expect.objectContaining({ hold: 'admin-view', shareRequest: share.id }) });

    await page.fill('input[name=hotPlate]', '7abc12?');
    await page.fill('input[name=hotCase]', '24-411');
    await page.fill('input[name=hotSynopsis]', 'missing person, silver sedan');
    await page.click('button:has-text("Approve and add")');
    await page.waitForSelector('[data-testid=admin-hotlist] tr:has(td:text-is("7ABC12? (partial)")) td:text-is("ada")');
    expect(c.accessLog().filter((e) => e.action === 'hotlist.change').at(-1)).toMatchObject({ user: 'ada', result: 'ok', parameters: expect.objectContaining({ change: 'local-added', via: 'api' }) });

    // The member's entry, approved: on the list, entered by the investigator, approved by the administrator.
    await page.click('[data-testid=proposals] tr:has(td:text-is("JV8*")) button:text-is("Approve")');
    await page.waitForSelector('[data-testid=admin-hotlist] tr:has(td:text-is("JV8* (partial)")) td:text-is("ivan")');
    expect(await page.locator('[data-testid=admin-hotlist] tr:has(td:text-is("JV8* (partial)")) td:text-is("ada")').count()).toBe(1);
    expect(c.accessLog().filter((e) => e.action === 'hotlist.change').at(-1)).toMatchObject({ user: 'ada', result: 'ok', parameters: expect.objectContaining({ change: 'local-added', enteredBy: 'ivan', approvedBy: 'ada' }) });

    // A second entry, removed again by plate and case number; the first stays.
    await page.fill('input[name=hotPlate]', 'zq0*');
    await page.fill('input[name=hotCase]', '24-412');
    await page.fill('input[name=hotSynopsis]', 'entered in error');
    await page.click('button:has-text("Approve and add")');
    await page.waitForSelector('[data-testid=admin-hotlist] td:text-is("ZQ0* (partial)")');
    await page.click('[data-testid=admin-hotlist] tr:has(td:text-is("ZQ0* (partial)")) button:has-text("Remove")');
    await page.waitForSelector('[data-testid=admin-hotlist] [role=status]:has-text("ZQ0* (case 24-412) removed")');
    expect(await page.locator('[data-testid=admin-hotlist] td:text-is("ZQ0* (partial)")').count()).toBe(0);
    expect(await page.locator('[data-testid=admin-hotlist] td:text-is("7ABC12? (partial)")').count()).toBe(1);
    expect(c.accessLog().filter((e) => e.action === 'hotlist.change').at(-1)).toMatchObject({ user: 'ada', result: 'ok', parameters: expect.objectContaining({ change: 'local-removed', removed: 1, via: 'api' }) });

    await page.click('button:has-text("Verify the access log")');
    await page.waitForSelector('[data-testid=chain]');
    expect(await page.locator('[data-testid=chain]').textContent()).toMatch(/^intact: \d+ entries/);
    // The heads the central side kept (as `watch --out` saves them), checked from the page.
    await page.setInputFiles('input[name=anchorsFile]', { name: 'anchors.jsonl', mimeType: 'application/x-ndjson', buffer: Buffer.from('not an anchors file\n') });
    await page.click('button:has-text("Check against anchors")');
    await page.waitForSelector('[data-testid=admin-audit] [role=alert]:has-text("line 1 is not JSON")');
    const anchor = signAnchor(c.db, c.config.deviceId, c.keys);
    await page.setInputFiles('input[name=anchorsFile]', { name: 'anchors.jsonl', mimeType: 'application/x-ndjson', buffer: Buffer.from(JSON.stringify(anchor) + '\n') });
    await page.click('button:has-text("Check against anchors")');
    await page.waitForSelector('[data-testid=anchors-result]');
    expect(await page.locator('[data-testid=anchors-result]').textContent()).toContain(`agrees: the log matches all 1 anchored head(s), up to entry ${anchor.seq}`);
    expect(c.accessLog().filter((e) => e.action === 'audit.verify').at(-1)).toMatchObject({ user: 'ada', result: 'ok', parameters: expect.objectContaining({ ok: true, anchors: 1, via: 'api' }) });
    await page.click('button:has-text("Draw sample")');
    await page.waitForSelector('[data-testid=sample] tbody tr');
    expect(c.accessLog().filter((e) => e.action === 'audit.sample').at(-1)).toMatchObject({ user: 'ada', result: 'ok' });
    const download = page.waitForEvent('download');
    await page.click('button:has-text("Download signed sample")');
    expect((await download).suggestedFilename()).toMatch(/^audit-sample-audit-\d{4}-\d{2}-\d{2}\.json$/);
    await screenshot(page, 'administrator');

    await page.click('button:has-text("Sign out")');
    await page.waitForSelector('input[name=username]');
    expect((await inPageFetch(page, '/api/v1/session')).status).toBe(401);
    await screenshot(page, 'sign-in');
  }, 120_000);
});
