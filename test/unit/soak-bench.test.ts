import { describe, expect, it } from 'vitest';
import { analyseSamples, linearSlope, mappedFileMb, slopeVerdict, metricValue, parseProcStatus, parseSoakOptions, plotSvg, type MemorySample } from '../../scripts/bench-soak.js';
import { unitEnvironment } from '../../scripts/unit-environment.js';

describe('soak benchmark', () => {
  it('defaults to an hour on the demo clip against the local broker, sampling every 10 s after a 6-minute warm-up', () => {
    expect(parseSoakOptions(['soak'])).toMatchObject({ minutes: 60, warmupMinutes: 6, sampleS: 10, clip: 'test/fixtures/demo/clip.mp4', broker: 'mqtt://127.0.0.1:1883' });
    expect(parseSoakOptions(['--minutes', '10']).warmupMinutes).toBe(1);
    expect(parseSoakOptions(['--minutes', '600']).warmupMinutes).toBe(10);
    expect(parseSoakOptions(['--env', 'MALLOC_ARENA_MAX=2']).env).toEqual({ MALLOC_ARENA_MAX: '2' });
    expect(parseSoakOptions([]).unitEnv).toBe(true);
    expect(parseSoakOptions(['--no-unit-env']).unitEnv).toBe(false);
  });

  it('runs the daemon with the environment the systemd unit gives it', () => {
    expect(unitEnvironment('[Service]\nEnvironment=NODE_ENV=production\nEnvironment="A=b c" D=e\n# Environment=X=1\n')).toEqual({ NODE_ENV: 'production', A: 'b c', D: 'e' });
  });

  it('names the flag when a value is wrong, and refuses a broker off this machine', () => {
    expect(() => parseSoakOptions(['--minutes', '0'])).toThrow('--minutes must be a number');
    expect(() => parseSoakOptions(['--broker', 'mqtt://broker.example.org:1883'])).toThrow('--broker must be mqtt:// on 127.0.0.1');
    expect(() => parseSoakOptions(['--env', 'no-equals'])).toThrow('--env wants NAME=value');
  });

  it('reads RSS, anonymous and file-backed memory from /proc/PID/status', () => {
    const status = 'Name:\tnode\nVmHWM:\t  409600 kB\nVmRSS:\t  307200 kB\nRssAnon:\t  204800 kB\nRssFile:\t   92160 kB\nRssShmem:\t   10240 kB\n';
    expect(parseProcStatus(status)).toEqual({ rssMb: 300, anonMb: 200, fileMb: 100, hwmMb: 400 });
  });

  it('counts the resident pages of the store\'s LMDB map apart, from /proc/PID/smaps', () => {
    const smaps = [
      '7f0000000000-7f0800000000 rw-s 00000000 08:01 1234                       /tmp/state/store/data.mdb',
      'Size:           33554432 kB',
      'Rss:               20480 kB',
      '7f0900000000-7f0900100000 r-xp 00000000 08:01 99                         /usr/lib/libfoo.so',
      'Rss:                1024 kB',
      '7f0a00000000-7f0a00200000 rw-p 00000000 00:00 0 ',
      'Rss:                2048 kB',
    ].join('\n');
    expect(mappedFileMb(smaps, '/data.mdb')).toBe(20);
  });

  it('sums a metric over its label sets and ignores metrics that only share a prefix', () => {
    const text = '# HELP x\nalpr_edge_reads_total{camera="a"} 3\nalpr_edge_reads_total{camera="b"} 4\nalpr_edge_reads_total_extra 100\nalpr_edge_nodejs_heap_size_used_bytes 1048576\n';
    expect(metricValue(text, 'alpr_edge_reads_total')).toBe(7);
    expect(metricValue(text, 'alpr_edge_nodejs_heap_size_used_bytes')).toBe(1048576);
    expect(metricValue(text, 'alpr_edge_missing')).toBeUndefined();
  });

  it('fits the growth per hour after warm-up, leaving the warm-up out', () => {
    expect(linearSlope([[0, 1], [1, 3], [2, 5]])).toMatchObject({ slope: 2, slopeSe: 0 });
    expect(linearSlope([[0, 0], [1, 2], [2, 0], [3, 2]]).slopeSe).toBeGreaterThan(0.3);
    // 100 MB at start, +50 MB in the first (warm-up) minute, then +6 MB per hour.
    const samples: MemorySample[] = Array.from({ length: 61 }, (_, i) => {
      const t = i * 10;
      const rssMb = t < 60 ? 100 + (50 * t) / 60 : 150 + (6 * (t - 60)) / 3600;
      return { t, rssMb: rssMb + t / 100, daemonMb: rssMb, anonMb: rssMb - 50, fileMb: 50 + t / 100, storeMapMb: t / 100, cpuS: t / 2 };
    });
    const a = analyseSamples(samples, 60);
    expect(a.afterWarmup).toBe(55);
    expect(a.slopeMbPerHour.daemonMb).toBeCloseTo(6, 5);
    expect(a.slopeMbPerHour.anonMb).toBeCloseTo(6, 5);
    // The store's map grows 36 MB/h here; RSS shows it, the judged figure leaves it out.
    expect(a.slopeMbPerHour.rssMb).toBeCloseTo(42, 5);
    expect(a.slopeMbPerHour.heapUsedMb).toBeUndefined();
    expect(a.peakDaemonMb).toBeCloseTo(150.9, 1);
    expect(a.peakRssMb).toBeCloseTo(156.9, 1);
  });

  it('calls the slope target met or missed only when the slope is clear of it by 2 standard errors', () => {
    expect(slopeVerdict(0.2, 0.3, 1)).toBe('met');
    expect(slopeVerdict(-40, 60, 1)).toBe('inconclusive');
    expect(slopeVerdict(150, 40, 1)).toBe('not met');
    expect(slopeVerdict(NaN, NaN, 1)).toBe('inconclusive');
  });

  it('plots the samples as an SVG with the target line', () => {
    const svg = plotSvg([{ t: 0, rssMb: 200, daemonMb: 190, anonMb: 150, fileMb: 50, storeMapMb: 10, heapUsedMb: 40, externalMb: 20, cpuS: 0 }, { t: 600, rssMb: 210, daemonMb: 195, anonMb: 160, fileMb: 50, storeMapMb: 15, heapUsedMb: 41, externalMb: 21, cpuS: 300 }], 60, 'soak <test>');
    expect(svg).toContain('<svg');
    expect(svg).toContain('250 MB target');
    expect(svg).toContain('soak &lt;test>');
    expect((svg.match(/<polyline/g) ?? []).length).toBe(5);
  });
});
