import { describe, expect, it } from 'vitest';
import pino from 'pino';
import { buildHttpApp } from '../../src/http/app.js';
import { createMetrics } from '../../src/metrics/metrics.js';
import type { HealthReport } from '../../src/health/health.js';

function app(status: HealthReport['status']) {
  const metrics = createMetrics();
  metrics.reads.inc({ camera: 'c1' }, 3);
  let scrapes = 0;
  const a = buildHttpApp({
    logger: pino({ level: 'silent' }),
    metrics,
    health: () => ({ status, uptimeS: 1, version: '0', models: { version: 'm', interim: true }, cameras: [], components: {} }),
    beforeScrape: () => scrapes++,
  });
  return { a, scrapes: () => scrapes };
}

describe('local HTTP server', () => {
  it('answers 200 on /healthz while the daemon progresses', async () => {
    const { a } = app('ok');
    const res = await a.inject({ method: 'GET', url: '/healthz' });
    expect(res.statusCode).toBe(200);
    expect(res.json().status).toBe('ok');
  });

  it('answers 503 on /healthz when stalled, so a supervisor restarts it', async () => {
    const res = await app('stalled').a.inject({ method: 'GET', url: '/healthz' });
    expect(res.statusCode).toBe(503);
  });

  it('serves Prometheus metrics with fresh capture counters', async () => {
    const { a, scrapes } = app('ok');
    const res = await a.inject({ method: 'GET', url: '/metrics' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toContain('text/plain');
    expect(res.body).toContain('alpr_edge_reads_total{camera="c1"} 3');
    expect(res.body).toContain('alpr_edge_stage_seconds');
    expect(scrapes()).toBe(1);
  });

  it('has no other unauthenticated route (P1): the whole route table is /healthz and /metrics', async () => {
    const { a } = app('ok');
    await a.ready();
    // Every route the app serves, not one probed URL: a route added here must come with its P1 review.
    const routes = a.printRoutes({ commonPrefix: false }).split('\n').map((l) => l.replace(/^[│├└─\s]+/, '')).filter(Boolean);
    expect(routes).toEqual(['/healthz (GET, HEAD)', '/metrics (GET, HEAD)']);
    expect((await a.inject({ method: 'GET', url: '/reads' })).statusCode).toBe(404);
  });
});
