import { Option, type Command } from 'commander';

// The field technician's tools, all usable over SSH: provision, selftest, snapshot, status.

const DEFAULT_CONFIG = '/etc/alpr-edge/config.json';

export function registerDeviceCommands(program: Command): void {
  const num = (s: string) => Number(s);
  program
    .command('provision')
    .description('set device id, camera, location and broker; create the device key and CSR; create the first administrator; write the config (asks at a terminal)')
    .option('-c, --config <file>', 'configuration file to write', DEFAULT_CONFIG)
    .option('-y, --non-interactive', 'take everything from the flags (also when stdin is not a terminal); the admin password is read from stdin', false)
    .option('--device-id <id>', 'identity of this device')
    .option('--camera-url <url>', 'the camera: rtsp://..., /dev/video0, file://...')
    .option('--latitude <deg>', 'WGS84 latitude', num)
    .option('--longitude <deg>', 'WGS84 longitude', num)
    .option('--heading <deg>', 'direction the camera looks, degrees from true north', num)
    .option('--location-description <text>', 'where the pole stands')
    .option('--broker-url <url>', 'central broker, mqtts://host:8883')
    .option('--ca <file>', "the broker CA's certificate (PEM) to pin")
    .option('--state-dir <dir>', 'state directory (default /var/lib/alpr-edge)')
    .option('--admin <username>', 'create this first administrator')
    .option('--admin-training-until <date>', 'their training valid until YYYY-MM-DD (P8)')
    .option('--publisher-key <id=file>', 'trust this hot-list publisher key (Ed25519 PEM, from hotlist keygen --public); repeat for more', (v: string, prev: string[] = []) => [...prev, v])
    .option('--http-port <n>', 'port of health, metrics, the API and the console (http.port, 1-65535; default: the config\'s, else 8080)')
    .option('--cert <file>', 'only install the certificate the broker CA signed for our CSR')
    .action(async (o: import('./provision-command.js').ProvisionFlags) => {
      const { provisionCommand } = await import('./provision-command.js');
      process.exitCode = await provisionCommand(o);
    });

  program
    .command('selftest')
    .description('check camera, models, broker, clock, disk, store and GPIO; exit 1 when a check fails')
    .option('-c, --config <file>', 'configuration file', DEFAULT_CONFIG)
    .option('--json', 'print the results as JSON', false)
    .addOption(new Option('--camera-timeout <s>', 'seconds to wait for camera frames').default(15).argParser(Number))
    .addOption(new Option('--skip <check...>', 'leave out checks the running daemon holds (the console passes camera and gpio)').choices(['camera', 'gpio']))
    .action(async (o: { config: string; json: boolean; cameraTimeout: number; skip?: ('camera' | 'gpio')[] }) => {
      const { runSelftest, renderSelftest } = await import('../device/selftest.js');
      const { createLogger } = await import('../log.js');
      // The table is the output; capture and inference chatter stays out of it.
      const results = await runSelftest({ configFile: o.config, logger: createLogger('silent'), cameraTimeoutMs: o.cameraTimeout * 1000, ...(o.skip ? { skip: o.skip } : {}) });
      const ok = results.every((r) => r.status !== 'fail');
      process.stdout.write(o.json ? JSON.stringify({ ok, checks: results }, null, 2) + '\n' : renderSelftest(results));
      process.exitCode = ok ? 0 : 1;
    });

  program
    .command('snapshot')
    .description('one live frame with detection boxes, reads, plate width (px) and sharpness drawn on it, for aiming and focus')
    .requiredOption('--out <file>', 'JPEG to write, e.g. aim.jpg')
    .option('-c, --config <file>', 'configuration file', DEFAULT_CONFIG)
    .option('--camera <id>', 'camera id (default: the first)')
    .addOption(new Option('--skip <n>', 'frames to skip first, so exposure settles').default(10).argParser(Number))
    .addOption(new Option('--timeout <s>', 'seconds to wait for the frame').default(20).argParser(Number))
    .option('--json', 'print the measurements as JSON', false)
    .action(async (o: { out: string; config: string; camera?: string; skip: number; timeout: number; json: boolean }) => {
      const { loadConfig } = await import('../config/load.js');
      const { takeSnapshot, describeSnapshot } = await import('../device/snapshot.js');
      const { createLogger } = await import('../log.js');
      const { writeFileSync } = await import('node:fs');
      const config = loadConfig(o.config);
      const snap = await takeSnapshot({ config, cameraId: o.camera, skipFrames: o.skip, timeoutMs: o.timeout * 1000, logger: createLogger('silent') });
      writeFileSync(o.out, snap.jpeg);
      const { jpeg: _jpeg, ...measured } = snap;
      process.stdout.write(o.json ? JSON.stringify({ out: o.out, ...measured }, null, 2) + '\n' : describeSnapshot(snap, o.out));
    });

  program
    .command('status')
    .description("the running daemon's state: cameras, fps, last read, hot lists, broker and outbox")
    .option('-c, --config <file>', 'take the daemon\'s address from this configuration file', DEFAULT_CONFIG)
    .option('--url <url>', 'the daemon\'s local HTTP address (default: from the config, else http://127.0.0.1:8080)')
    .option('--json', 'print /healthz as JSON', false)
    .action(async (o: { config: string; url?: string; json: boolean }) => {
      const { fetchHealth, renderStatus } = await import('./status.js');
      let url = o.url;
      if (!url) {
        const { loadConfig } = await import('../config/load.js');
        try {
          const c = loadConfig(o.config);
          url = `http://${c.http.host === '0.0.0.0' ? '127.0.0.1' : c.http.host}:${c.http.port}`;
        } catch {
          url = 'http://127.0.0.1:8080';
        }
      }
      // No daemon answering is a StatusUnavailableError: one line, exit 69 (src/main.ts).
      const { report } = await fetchHealth(url);
      process.stdout.write(o.json ? JSON.stringify(report, null, 2) + '\n' : renderStatus(report));
      process.exitCode = report.status === 'stalled' || report.status === 'failed' ? 1 : 0;
    });
}
