import { readFileSync } from 'node:fs';
import { isAbsolute } from 'node:path';
import type { IClientOptions } from 'mqtt';
import { ConfigError, resolveInstallPath } from '../config/load.js';
import type { MqttConfig } from '../config/schema.js';

function readConfigFile(field: string, path: string): Buffer {
  const p = isAbsolute(path) ? path : resolveInstallPath(path);
  try {
    return readFileSync(p);
  } catch (err) {
    throw new ConfigError(`${field}: cannot read ${p} (${(err as NodeJS.ErrnoException).code ?? String(err)})`, field, '(config)');
  }
}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|localhost|\[::1\])$/;

/**
 * The broker settings `run` refuses (exit 78), checked without connecting: `run` checks them before
 * it starts anything and `config check` applies the same check (src/cli/config-check.ts), so a config
 * that checks valid is one the daemon accepts. P16: mqtt:// only with `allowPlainText`; mqtts:// with
 * the pinned CA and this device's certificate and key, all readable; the embedded broker on loopback.
 */
export function checkMqttConfig(cfg: MqttConfig): void {
  if (!cfg.url) {
    const eb = cfg.embeddedBroker;
    // P14/P16: the embedded broker is a loopback demo aid, never a way to serve data off the device.
    if (eb.enabled && !isLoopbackHost(eb.host)) throw new ConfigError(`mqtt.embeddedBroker.host ${eb.host} is not a loopback address (the embedded broker is for demos on this machine only)`, 'mqtt.embeddedBroker.host', '(config)');
    return;
  }
  transport(cfg, cfg.url);
  if (cfg.username && cfg.passwordFile) readConfigFile('mqtt.passwordFile', cfg.passwordFile);
}

/** P16 for one broker URL: nothing for plain mqtt:// (allowed explicitly), the TLS material for mqtts://. */
function transport(cfg: MqttConfig, url: string): { ca: Buffer; cert: Buffer; key: Buffer } | undefined {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new ConfigError(`mqtt.url ${url} is not a URL (e.g. mqtts://broker.example:8883)`, 'mqtt.url', '(config)');
  }
  if (u.protocol === 'mqtt:') {
    if (!cfg.allowPlainText) throw new ConfigError(`mqtt.url is plain mqtt:// but mqtt.allowPlainText is false (P16: use mqtts:// with a client certificate, or allow plain text explicitly for loopback)`, 'mqtt.url', '(config)');
    return undefined;
  }
  if (u.protocol !== 'mqtts:') throw new ConfigError(`mqtt.url scheme ${u.protocol} is not mqtt: or mqtts:`, 'mqtt.url', '(config)');
  if (!cfg.tls.caFile) throw new ConfigError('mqtt.tls.caFile is required for mqtts:// (P16: the broker\'s CA is pinned; system CAs are not trusted)', 'mqtt.tls.caFile', '(config)');
  if (!cfg.tls.certFile || !cfg.tls.keyFile) {
    throw new ConfigError(
      'mqtt.tls.certFile and mqtt.tls.keyFile are required for mqtts:// (P16: per-device client certificate; after `alpr-edge provision`, install the certificate the CA signed with `alpr-edge provision --cert FILE`)',
      cfg.tls.certFile ? 'mqtt.tls.keyFile' : 'mqtt.tls.certFile',
      '(config)',
    );
  }
  return { ca: readConfigFile('mqtt.tls.caFile', cfg.tls.caFile), cert: readConfigFile('mqtt.tls.certFile', cfg.tls.certFile), key: readConfigFile('mqtt.tls.keyFile', cfg.tls.keyFile) };
}

/**
 * MQTT client options from the config, enforcing P16: mqtts needs the pinned CA plus this device's
 * client certificate and key; mqtt:// (no TLS) only when `allowPlainText` is set explicitly.
 */
export function connectOptions(cfg: MqttConfig, url: string, deviceId: string, will: { topic: string; payload: string }): IClientOptions {
  const opts: IClientOptions = {
    clientId: cfg.clientId || `alpr-edge-${deviceId}`,
    protocolVersion: cfg.protocolVersion,
    keepalive: cfg.keepaliveS,
    clean: true,
    // Reconnects are ours (backoff with jitter, a fresh client each time): the outbox, not the
    // client library, owns what still has to be sent.
    reconnectPeriod: 0,
    connectTimeout: 10_000,
    will: { topic: will.topic, payload: Buffer.from(will.payload), qos: 1, retain: true },
  };
  const tls = transport(cfg, url);
  if (tls) {
    // Passing `ca` replaces Node's default trust store for this connection: only our CA is trusted.
    opts.ca = tls.ca;
    opts.cert = tls.cert;
    opts.key = tls.key;
    opts.rejectUnauthorized = true;
    // P16: TLS 1.2 or newer; mqtt.js hands the whole options object to tls.connect.
    (opts as IClientOptions & { minVersion: string }).minVersion = 'TLSv1.2';
    if (cfg.tls.serverName) opts.servername = cfg.tls.serverName;
  }
  if (cfg.username) {
    opts.username = cfg.username;
    if (cfg.passwordFile) opts.password = readConfigFile('mqtt.passwordFile', cfg.passwordFile).toString('utf8').trim();
  }
  return opts;
}

export function isLoopbackHost(host: string): boolean {
  return LOOPBACK.test(host);
}

/** Exponential backoff from 500 ms to `maxMs`, ±20 % jitter so a fleet does not reconnect in step. */
export function reconnectDelayMs(attempt: number, maxMs: number, random = Math.random): number {
  const base = Math.min(maxMs, 500 * 2 ** Math.min(attempt, 20));
  return Math.round(base * (0.8 + 0.4 * random()));
}
