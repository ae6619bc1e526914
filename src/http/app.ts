import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Metrics } from '../metrics/metrics.js';
import type { HealthReport } from '../health/health.js';
import { registerConsoleFiles, SECURITY_HEADERS, type ConsoleOptions } from './console.js';
import { ConsoleSessions } from './api/console-sessions.js';
import { resolveInstallPath } from '../config/load.js';
import { lazySchemaCompilers } from './lazy-schema-compilers.js';

export interface HttpAppOptions {
  logger: Logger;
  metrics: Metrics;
  health: () => HealthReport;
  /** Pulls counters owned elsewhere (capture) into the registry just before a scrape. */
  beforeScrape?: () => void;
  /** The web console (docs/console.md): its files here, its session routes in the query API. */
  console?: ConsoleOptions;
}

/** Largest request body accepted; a bigger one is answered 413 naming this limit (a hold of 10,000 read ids is ~300 KB). */
export const HTTP_BODY_LIMIT_BYTES = 1_048_576;

/** The local HTTP server as a Fastify instance that tests drive with inject(). */
export function buildHttpApp(opts: HttpAppOptions): FastifyInstance {
  const app = Fastify({ loggerInstance: opts.logger.child({ component: 'http' }) as FastifyBaseLogger,
    bodyLimit: HTTP_BODY_LIMIT_BYTES,
    // A body key `__proto__` or `constructor.prototype` is refused (400), never merged into an object.
    onProtoPoisoning: 'error',
    onConstructorPoisoning: 'error',
    // Fastify's default strips properties a schema does not allow; the OpenAPI document promises
    // `additionalProperties: false`, so such a request is refused with 400 naming the property.
    ajv: { customOptions: { removeAdditional: false } },
    // Each route's validator and serializer compiled at its first request, not at start (issue 23).
    schemaController: { compilersFactory: lazySchemaCompilers() },
    // Health probes every few seconds would drown the journal; access to reads is logged by the
    // access log (issue 7), not by request logging.
    logController: new LogController({ disableRequestLogging: true }),
  });

  // Every answer carries the security headers; anything that does not say otherwise is not cached,
  // so no plate text or image lingers in a browser's or proxy's cache.
  app.addHook('onSend', async (_req, reply, payload) => {
    reply.headers(SECURITY_HEADERS);
    if (!reply.hasHeader('cache-control')) reply.header('cache-control', 'no-store');
    return payload;
  });

  if (opts.console?.config.enabled) {
    const { config, live, clock, selftest } = opts.console;
    app.decorate('consoleContext', { config, sessions: new ConsoleSessions(config), health: opts.health, live, clock, selftest });
    registerConsoleFiles(app, opts.console.filesDir ?? resolveInstallPath('dist/console'));
  }

  app.get('/healthz', async (_req, reply) => {
    const report = opts.health();
    // Only a progressing daemon is healthy; a supervisor restarts on 503 (starting is a grace period).
    return reply.code(report.status === 'stalled' || report.status === 'failed' ? 503 : 200).send(report);
  });

  app.get('/metrics', async (_req, reply) => {
    opts.beforeScrape?.();
    reply.header('content-type', opts.metrics.registry.contentType);
    return opts.metrics.registry.metrics();
  });

  return app;
}
