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
 * MQTT client options from the config, enforcing P16: mqtts needs the pinned CA plus this device's
 * client certificate and key; mqtt:// (no TLS) only when `allowPlainText` is set explicitly.
 */
export function connectOptions(cfg: MqttConfig, url: string, deviceId: string, will: { topic: string; payload: string }): IClientOptions {
  const u = new URL(url);
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
  if (u.protocol === 'mqtt:') {
    if (!cfg.allowPlainText) throw new ConfigError(`mqtt.url is plain mqtt:// but mqtt.allowPlainText is false (P16: use mqtts:// with a client certificate, or allow plain text explicitly for loopback)`, 'mqtt.url', '(config)');
  } else if (u.protocol === 'mqtts:') {
    if (!cfg.tls.caFile) throw new ConfigError('mqtt.tls.caFile is required for mqtts:// (P16: the broker\'s CA is pinned; system CAs are not trusted)', 'mqtt.tls.caFile', '(config)');
    if (!cfg.tls.certFile || !cfg.tls.keyFile) throw new ConfigError('mqtt.tls.certFile and mqtt.tls.keyFile are required for mqtts:// (P16: per-device client certificate)', cfg.tls.certFile ? 'mqtt.tls.keyFile' : 'mqtt.tls.certFile', '(config)');
    // Passing `ca` replaces Node's default trust store for this connection: only our CA is trusted.
    opts.ca = readConfigFile('mqtt.tls.caFile', cfg.tls.caFile);
    opts.cert = readConfigFile('mqtt.tls.certFile', cfg.tls.certFile);
    opts.key = readConfigFile('mqtt.tls.keyFile', cfg.tls.keyFile);
    opts.rejectUnauthorized = true;
    // P16: TLS 1.2 or newer; mqtt.js hands the whole options object to tls.connect.
    (opts as IClientOptions & { minVersion: string }).minVersion = 'TLSv1.2';
    if (cfg.tls.serverName) opts.servername = cfg.tls.serverName;
  } else throw new ConfigError(`mqtt.url scheme ${u.protocol} is not mqtt: or mqtts:`, 'mqtt.url', '(config)');
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
