import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PASSWORD, signInAll, startConsoleApp, type ConsoleApp } from '../support/console-app.js';

// P11 in two steps over the API (src/http/api/local-proposal-routes.ts): a member enters a local
// hot-list entry, an administrator approves or refuses it; nothing is matched before approval;
// technicians take no part (P8); every step in the access log.

describe('local hot-list entries proposed by a member, approved by an administrator (P11)', () => {
  let c: ConsoleApp;
  let as: Awaited<ReturnType<typeof signInAll>>;
  const localPlates = async () => ((await c.app.inject({ method: 'GET', url: '/api/v1/hotlist/local', headers: as('ada') })).json() as { plate: string; enteredBy: string; approvedBy: string }[]);

  beforeAll(async () => {
    c = await startConsoleApp();
    as = await signInAll(c);
  });
  afterAll(async () => {
    await c.close();
  });

  it('an investigator proposes; it is not on the local list until an administrator approves it, then entered by the investigator and approved by the administrator', async () => {
    const proposed = await c.app.inject({ method: 'POST', url: '/api/v1/hotlist/local/proposals', headers: as('ivan'), payload: { plate: 'qx7*', state: 'ca', caseNumber: '24-901', synopsis: 'armed robbery suspect vehicle' } });
    expect(proposed.statusCode).toBe(201);
    const p = proposed.json() as { id: string; plate: string; status: string; enteredBy: string };
    expect(p).toMatchObject({ plate: 'QX7*', state: 'CA', status: 'pending', enteredBy: 'ivan' });
    expect(c.accessLog().at(-1)).toMatchObject({ user: 'ivan', action: 'hotlist.change', result: 'ok', parameters: expect.objectContaining({ change: 'local-proposed', proposal: p.id }) });
    expect((await localPlates()).map((e) => e.plate)).not.toContain('QX7*');

    // The member sees their own; the administrator sees all.
    expect((await c.app.inject({ method: 'GET', url: '/api/v1/hotlist/local/proposals', headers: as('ivan') })).json()).toEqual([expect.objectContaining({ id: p.id, status: 'pending' })]);
    expect((await c.app.inject({ method: 'GET', url: '/api/v1/hotlist/local/proposals', headers: as('ada') })).json()).toEqual([expect.objectContaining({ id: p.id })]);

    // An investigator cannot approve (P11: an administrator approves), not even their own.
    const selfApproved = await c.app.inject({ method: 'POST', url: `/api/v1/hotlist/local/proposals/${p.id}/approve`, headers: as('ivan') });
    expect(selfApproved.statusCode).toBe(403);
    expect(c.accessLog().at(-1)).toMatchObject({ user: 'ivan', action: 'api.denied' });

    const approved = await c.app.inject({ method: 'POST', url: `/api/v1/hotlist/local/proposals/${p.id}/approve`, headers: as('ada') });
    expect(approved.statusCode).toBe(200);
    expect(approved.json()).toMatchObject({ plate: 'QX7*', enteredBy: 'ivan', approvedBy: 'ada', partial: true });
    expect(c.accessLog().at(-1)).toMatchObject({ user: 'ada', action: 'hotlist.change', result: 'ok', parameters: expect.objectContaining({ change: 'local-added', enteredBy: 'ivan', approvedBy: 'ada', proposal: p.id }) });
    expect(await localPlates()).toContainEqual(expect.objectContaining({ plate: 'QX7*', enteredBy: 'ivan', approvedBy: 'ada' }));
    expect((await c.app.inject({ method: 'GET', url: '/api/v1/hotlist/local/proposals', headers: as('ivan') })).json()).toEqual([expect.objectContaining({ id: p.id, status: 'approved', decidedBy: 'ada' })]);
    // Decided once: not approved again.
    expect((await c.app.inject({ method: 'POST', url: `/api/v1/hotlist/local/proposals/${p.id}/approve`, headers: as('ada') })).statusCode).toBe(422);
  });

  it('an administrator refuses one with a reason the member sees; the list is unchanged', async () => {
    const before = (await localPlates()).length;
    const p = (await c.app.inject({ method: 'POST', url: '/api/v1/hotlist/local/proposals', headers: as('ivan'), payload: { plate: 'zz00zz', caseNumber: '24-902', synopsis: 'neighbour dispute' } })).json() as { id: string };
    const bare = await c.app.inject({ method: 'POST', url: `/api/v1/hotlist/local/proposals/${p.id}/refuse`, headers: as('ada'), payload: {} });
    expect(bare.statusCode).toBe(400);
    const refused = await c.app.inject({ method: 'POST', url: `/api/v1/hotlist/local/proposals/${p.id}/refuse`, headers: as('ada'), payload: { reason: 'not a criminal matter' } });
    expect(refused.json()).toMatchObject({ id: p.id, status: 'refused', refusal: 'not a criminal matter', decidedBy: 'ada' });
    expect(c.accessLog().at(-1)).toMatchObject({ user: 'ada', action: 'hotlist.change', result: 'ok', parameters: expect.objectContaining({ change: 'local-proposal-refused', proposal: p.id, refusal: 'not a criminal matter' }) });
    expect((await localPlates()).length).toBe(before);
    const mine = (await c.app.inject({ method: 'GET', url: '/api/v1/hotlist/local/proposals', headers: as('ivan') })).json() as { id: string; status: string; refusal?: string }[];
    expect(mine.find((x) => x.id === p.id)).toMatchObject({ status: 'refused', refusal: 'not a criminal matter' });
  });

  it('technicians take no part (P8); a proposal missing what P11 asks is refused naming the field and logged; the plate is sealed in the log', async () => {
    const byTech = await c.app.inject({ method: 'POST', url: '/api/v1/hotlist/local/proposals', headers: as('tina'), payload: { plate: 'AB1234', caseNumber: '1', synopsis: 'x' } });
    expect(byTech.statusCode).toBe(403);
    expect((await c.app.inject({ method: 'GET', url: '/api/v1/hotlist/local/proposals', headers: as('tina') })).statusCode).toBe(403);
    expect(c.accessLog().at(-1)).toMatchObject({ user: 'tina', action: 'api.denied' });
    const blank = await c.app.inject({ method: 'POST', url: '/api/v1/hotlist/local/proposals', headers: as('ivan'), payload: { plate: 'AB1234', caseNumber: '24-903', synopsis: '   ' } });
    expect(blank.statusCode).toBe(422);
    expect(blank.json()).toMatchObject({ field: 'synopsis' });
    expect(c.accessLog().at(-1)).toMatchObject({ user: 'ivan', action: 'hotlist.change', result: 'refused', parameters: expect.objectContaining({ change: 'local-proposal-invalid', field: 'synopsis' }) });
    // P16: the plate of a proposal is sealed in the access log, as that of an added entry.
    const proposedEntry = c.accessLog().find((e) => e.parameters['change'] === 'local-proposed')!;
    expect(JSON.stringify(proposedEntry.parameters)).not.toContain('QX7*');
  });

  it('the cookie session needs the CSRF token to propose', async () => {
    const s = await c.app.inject({ method: 'POST', url: '/api/v1/session', headers: { host: '127.0.0.1:8080' }, payload: { username: 'ivan', password: PASSWORD } });
    const cookie = String(s.headers['set-cookie']).split(';')[0]!;
    const forged = await c.app.inject({ method: 'POST', url: '/api/v1/hotlist/local/proposals', headers: { cookie }, payload: { plate: 'CSRF1', caseNumber: '24-904', synopsis: 'forged' } });
    expect(forged.statusCode).toBe(403);
    expect(c.accessLog().at(-1)).toMatchObject({ user: 'ivan', action: 'api.denied' });
  });
});
