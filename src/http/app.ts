import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Metrics } from './metrics.js';
import type { HealthReport } from './health.js';

export interface HttpAppOptions {
  logger: Logger;
  metrics: Metrics;
  health: () => HealthReport;
  /** Pulls counters owned elsewhere (capture) into the registry just before a scrape. */
  beforeScrape?: () => void;
}

/** The local HTTP server as a Fastify instance that tests drive with inject(). */
export function buildHttpApp(opts: HttpAppOptions): FastifyInstance {
  const app = Fastify({ loggerInstance: opts.logger.child({ component: 'http' }) as FastifyBaseLogger,
    // Health probes every few seconds would drown the journal; access to reads is logged by the
    // access log (issue 7), not by request logging.
    logController: new LogController({ disableRequestLogging: true }),
  });

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
