import { createInterface, type Interface } from 'node:readline/promises';
import { Writable } from 'node:stream';
import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute } from 'node:path';
import { stripJsonComments } from '../config/load.js';
import { installCertificate, provisionDevice, type ProvisionAnswers } from '../device/provision.js';
import { UsageError } from '../errors.js';

// `alpr-edge provision`: flags for scripts (--non-interactive, or whenever stdin is not a terminal),
// prompts with defaults for a technician at a terminal. Defaults come from the flags, then from the
// config already on the device, then from built-in values.

export interface ProvisionFlags {
  config: string;
  nonInteractive: boolean;
  deviceId?: string;
  cameraUrl?: string;
  latitude?: number;
  longitude?: number;
  heading?: number;
  locationDescription?: string;
  brokerUrl?: string;
  ca?: string;
  stateDir?: string;
  admin?: string;
  adminTrainingUntil?: string;
  cert?: string;
  publisherKey?: string[];
  httpPort?: string;
}

interface Field {
  key: keyof ProvisionFlags;
  flag: string;
  prompt: string;
  required: boolean;
  parse?: (s: string) => unknown;
  /** How a default is shown at the prompt (a camera URL without its password). */
  shown?: (s: string) => string;
}

function number(min: number, max: number) {
  return (s: string) => {
    const n = Number(s);
    if (s.trim() === '' || !Number.isFinite(n) || n < min || n > max) throw new Error(`must be a number from ${min} to ${max}`);
    return n;
  };
}

/** The daemon runs from /, so a relative state directory would not be the one the technician meant. */
function absolutePath(s: string): string {
  if (!isAbsolute(s)) throw new Error(`must be an absolute path such as /var/lib/alpr-edge ("${s}" is relative)`);
  return s;
}

/** A camera URL as the terminal shows it: its password, if any, as ***. */
function withoutPassword(uri: string): string {
  try {
    const u = new URL(uri);
    if (!u.password) return uri;
    u.password = '***';
    return u.toString();
  } catch {
    return uri;
  }
}

const FIELDS: Field[] = [
  { key: 'deviceId', flag: '--device-id', prompt: 'Device id', required: true },
  // The camera's password is asked separately, without echo (below): typed into the URL it would show.
  { key: 'cameraUrl', flag: '--camera-url', prompt: 'Camera URL without its password (rtsp://user@host/path, /dev/video0, file://...)', required: true, shown: withoutPassword },
  { key: 'latitude', flag: '--latitude', prompt: 'Latitude (WGS84 degrees)', required: true, parse: number(-90, 90) },
  { key: 'longitude', flag: '--longitude', prompt: 'Longitude (WGS84 degrees)', required: true, parse: number(-180, 180) },
  { key: 'heading', flag: '--heading', prompt: 'Heading the camera looks (degrees from true north)', required: true, parse: number(0, 360) },
  { key: 'locationDescription', flag: '--location-description', prompt: 'Where the pole stands (for people)', required: false },
  { key: 'brokerUrl', flag: '--broker-url', prompt: 'Central broker (mqtts://host:8883; empty: none yet)', required: false },
  { key: 'ca', flag: '--ca', prompt: 'Broker CA certificate file to pin (PEM; empty: keep)', required: false },
  { key: 'stateDir', flag: '--state-dir', prompt: 'State directory', required: true, parse: absolutePath },
  { key: 'admin', flag: '--admin', prompt: 'First administrator username (empty: skip)', required: false },
];

function existingDefaults(configFile: string): Partial<ProvisionFlags> {
  if (!existsSync(configFile)) return {};
  try {
    const c = JSON.parse(stripJsonComments(readFileSync(configFile, 'utf8'))) as Record<string, any>;
    const found: Partial<ProvisionFlags> = {
      deviceId: c['deviceId'],
      cameraUrl: c['cameras']?.[0]?.uri,
      latitude: c['location']?.latitude,
      longitude: c['location']?.longitude,
      heading: c['location']?.headingDeg,
      locationDescription: c['location']?.description,
      brokerUrl: c['mqtt']?.url,
      stateDir: c['stateDir'],
    };
    // Only what the file has: a missing setting must not hide the built-in default.
    return Object.fromEntries(Object.entries(found).filter(([, v]) => v !== undefined && v !== null));
  } catch {
    return {};
  }
}

function oneYearFromToday(): string {
  const d = new Date();
  d.setUTCFullYear(d.getUTCFullYear() + 1);
  return d.toISOString().slice(0, 10);
}

/** A terminal prompt whose echo can be switched off for passwords. */
function terminal(): { rl: Interface; ask: (q: string, def?: string, shown?: string) => Promise<string>; askHidden: (q: string) => Promise<string> } {
  let muted = false;
  const output = new Writable({
    write(chunk, _enc, cb) {
      if (!muted) process.stderr.write(chunk);
      cb();
    },
  });
  const rl = createInterface({ input: process.stdin, output, terminal: true });
  return {
    rl,
    ask: async (q, def, shown = def) => {
      const answer = (await rl.question(`${q}${def !== undefined && def !== '' ? ` [${shown}]` : ''}: `)).trim();
      return answer === '' ? (def ?? '') : answer;
    },
    askHidden: async (q) => {
      process.stderr.write(`${q}: `);
      muted = true;
      try {
        return await rl.question('');
      } finally {
        muted = false;
        process.stderr.write('\n');
      }
    },
  };
}

/**
 * An rtsp/http camera URL with a user but no password: asks the password without echo and puts it in
 * the URL (percent-encoded), so it never shows on the terminal or in the scrollback.
 */
async function withCameraPassword(askHidden: (q: string) => Promise<string>, uri: string): Promise<string> {
  let u: URL;
  try {
    u = new URL(uri);
  } catch {
    return uri;
  }
  if (!/^(rtsps?|https?):$/.test(u.protocol) || !u.username || u.password) return uri;
  const password = await askHidden(`Password of camera user ${decodeURIComponent(u.username)} (not shown; empty: none)`);
  if (!password) return uri;
  u.password = encodeURIComponent(password);
  return u.toString();
}

let stdinLines: string[] | undefined;
async function stdinLine(): Promise<string> {
  if (!stdinLines) {
    let text = '';
    for await (const chunk of process.stdin) text += String(chunk);
    stdinLines = text.split(/\r?\n/);
  }
  return stdinLines.shift() ?? '';
}

export async function provisionCommand(flags: ProvisionFlags): Promise<number> {
  if (flags.cert) {
    const c = await installCertificate(flags.cert, flags.config);
    process.stdout.write(`certificate installed: ${c.certFile}\n  subject ${c.subject}\n  issuer  ${c.issuer}\n  valid to ${c.validTo}\n  sha256 ${c.fingerprint256}\n`
      + `next: alpr-edge selftest -c ${flags.config}, then systemctl restart alpr-edge\n`);
    return 0;
  }
  // A flag only (not asked at the prompt): checked before anything is asked or written.
  let httpPort: number | undefined;
  if (flags.httpPort !== undefined) {
    try {
      httpPort = number(1, 65535)(flags.httpPort);
      if (!Number.isInteger(httpPort)) throw new Error('must be a whole number');
    } catch (err) {
      throw new UsageError(`--http-port ${(err as Error).message} ("${flags.httpPort}")`, '--http-port');
    }
  }
  const interactive = !flags.nonInteractive && process.stdin.isTTY === true;
  const defaults: Partial<ProvisionFlags> = { stateDir: '/var/lib/alpr-edge', locationDescription: '', brokerUrl: '', ...existingDefaults(flags.config) };
  const values: Partial<ProvisionFlags> = {};
  const term = interactive ? terminal() : undefined;
  try {
    for (const f of FIELDS) {
      const given = flags[f.key];
      const def = given ?? defaults[f.key];
      if (!term) {
        if (def === undefined || def === '') {
          if (f.required) throw new UsageError(`${f.flag} is required (or run provision at a terminal to be asked)`, f.flag);
          continue;
        }
        if (f.parse && typeof def === 'string') {
          try {
            (values as Record<string, unknown>)[f.key] = f.parse(def);
          } catch (err) {
            throw new UsageError(`${f.flag} ${(err as Error).message}`, f.flag);
          }
          continue;
        }
        (values as Record<string, unknown>)[f.key] = def;
        continue;
      }
      // Ask until the answer parses: a typo in a coordinate is fixed at the prompt, not in the file.
      for (;;) {
        const answer = await term.ask(f.prompt, def === undefined ? undefined : String(def), def === undefined ? undefined : (f.shown ?? String)(String(def)));
        if (answer === '' && f.required) {
          process.stderr.write(`  ${f.prompt} is required\n`);
          continue;
        }
        try {
          (values as Record<string, unknown>)[f.key] = answer === '' ? undefined : f.parse ? f.parse(answer) : answer;
          if (f.key === 'cameraUrl' && answer !== '') values.cameraUrl = await withCameraPassword(term.askHidden, answer);
          break;
        } catch (err) {
          process.stderr.write(`  ${(err as Error).message}\n`);
        }
      }
    }
    let admin: ProvisionAnswers['admin'];
    if (values.admin) {
      let until = flags.adminTrainingUntil;
      let password: string;
      if (term) {
        until = await term.ask(`Training of ${values.admin} valid until (YYYY-MM-DD)`, until ?? oneYearFromToday());
        for (;;) {
          password = await term.askHidden(`Password for ${values.admin} (12 or more characters)`);
          if (password.length < 12) {
            process.stderr.write('  the password must have at least 12 characters\n');
            continue;
          }
          if ((await term.askHidden('Repeat the password')) === password) break;
          process.stderr.write('  the passwords differ\n');
        }
      } else {
        if (!until) throw new UsageError('--admin-training-until is required with --admin', '--admin-training-until');
        password = await stdinLine();
      }
      admin = { username: values.admin, trainingValidUntil: until, password };
    }
    const answers: ProvisionAnswers = {
      deviceId: String(values.deviceId),
      cameraUrl: String(values.cameraUrl),
      latitude: Number(values.latitude),
      longitude: Number(values.longitude),
      headingDeg: Number(values.heading),
      locationDescription: values.locationDescription ?? '',
      brokerUrl: values.brokerUrl ?? '',
      ...(values.ca ? { caFile: values.ca } : {}),
      stateDir: String(values.stateDir),
      ...(admin ? { admin } : {}),
      ...(flags.publisherKey?.length ? { publisherKeys: flags.publisherKey } : {}),
      ...(httpPort !== undefined ? { httpPort } : {}),
    };
    if (term) {
      const ok = (await term.ask(`Write ${flags.config} and create the device key for ${answers.deviceId}? (yes/no)`, 'yes')).toLowerCase();
      if (!ok.startsWith('y')) {
        process.stderr.write('nothing written\n');
        return 1;
      }
    }
    term?.rl.close();
    const r = await provisionDevice(answers, flags.config);
    const out = [...r.steps.map((s) => `✓ ${s}`)];
    if (r.adminSkipped) out.push(`- first administrator not created: ${r.adminSkipped}`);
    out.push('', 'next:');
    if (answers.brokerUrl) out.push(`  1. send ${r.csrFile} to the department's broker CA`, `  2. install what it signs: alpr-edge provision --cert signed.crt -c ${flags.config}`);
    out.push(`  ${answers.brokerUrl ? '3' : '1'}. alpr-edge selftest -c ${flags.config}`);
    process.stdout.write(out.join('\n') + '\n');
    return 0;
  } finally {
    term?.rl.close();
  }
}
