import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { validateConfig } from '../../src/config/load.js';
import { LIVE_SETTINGS, changedSettings, planReload } from '../../src/config/live.js';

const base = {
  deviceId: 'live-pole',
  location: { latitude: 1, longitude: 2, headingDeg: 3 },
  cameras: [{ id: 'c1', uri: 'test://' }],
  hotlists: { publisherKeys: [{ id: 'a', file: '/keys/a.pem' }] },
};

describe('config reload plan (systemctl reload)', () => {
  it('applies the live settings and keeps every other changed setting at its running value, naming it', () => {
    const running = validateConfig(base);
    const next = validateConfig({
      ...base,
      cameras: [{ id: 'c1', uri: 'test://', fpsCap: 5 }],
      http: { port: 9090 },
      hotlists: { publisherKeys: [{ id: 'a', file: '/keys/a.pem' }, { id: 'b', file: '/keys/b.pem' }], maxAgeHours: 48, enabled: false },
    });
    const plan = planReload(running, next);
    expect(plan.live).toEqual(['hotlists.maxAgeHours', 'hotlists.publisherKeys']);
    expect(plan.needRestart).toEqual(['cameras', 'hotlists.enabled', 'http.port']);
    expect(plan.running.hotlists.publisherKeys.map((k) => k.id)).toEqual(['a', 'b']);
    expect(plan.running.hotlists.maxAgeHours).toBe(48);
    expect(plan.running.hotlists.enabled).toBe(true);
    expect(plan.running.http.port).toBe(running.http.port);
    expect(plan.running.cameras).toEqual(running.cameras);
    // Applying the plan and reloading the same file again changes nothing live; the restart list stays.
    expect(planReload(plan.running, next)).toMatchObject({ live: [], needRestart: ['cameras', 'hotlists.enabled', 'http.port'] });
    expect(changedSettings(running, running)).toEqual([]);
  });

  it('docs/device.md names every live setting', () => {
    const doc = readFileSync('docs/device.md', 'utf8');
    for (const s of LIVE_SETTINGS) expect(doc).toContain(`\`${s}\``);
  });
});
