import { createRequire } from 'node:module';
import type { FastifyServerOptions } from 'fastify';

// Fastify compiles every route's validator (Ajv) and response serializer (fast-json-stringify) while
// the server starts: ~40 routes with the query API and the console, 0.1-0.3 s of CPU on the main
// thread before the daemon can listen and analyse its first frame (issue 23, start-up). These
// factories wrap Fastify's own (same Ajv options, same shared schemas, same code) so that each
// route's schema is compiled at its first request instead; a route never asked for is never compiled.

type CompilersFactory = NonNullable<NonNullable<FastifyServerOptions['schemaController']>['compilersFactory']>;
type Compile = (route: unknown) => (data: unknown) => unknown;
type Factory = (externalSchemas: unknown, options: unknown) => Compile;
interface Validate {
  (data: unknown): unknown;
  errors?: unknown;
}

// Fastify's own dependencies, resolved from Fastify itself rather than declared a second time here.
const fastifyRequire = createRequire(createRequire(import.meta.url).resolve('fastify'));

/** For Fastify's `schemaController.compilersFactory`: its default compilers, compiling each route on first use. */
export function lazySchemaCompilers(): CompilersFactory {
  const validators = (fastifyRequire('@fastify/ajv-compiler') as () => Factory)();
  const serializers = (fastifyRequire('@fastify/fast-json-stringify-compiler') as () => Factory)();
  const factories: { buildValidator: Factory; buildSerializer: Factory } = {
    buildValidator: (externalSchemas, options) => {
      // Fastify's factory makes an Ajv (formats, shared schemas, its meta-schema compiled) per set
      // of shared schemas: ~0.1 s of CPU in all, also deferred to the first request.
      let compile: Compile | undefined;
      return (route) => {
        let compiled: Validate | undefined;
        // Fastify reads `errors` off the function it was given after a failed check.
        const validate: Validate = (data) => {
          compile ??= validators(externalSchemas, options);
          compiled ??= compile(route) as Validate;
          const valid = compiled(data);
          validate.errors = compiled.errors;
          return valid;
        };
        return validate;
      };
    },
    buildSerializer: (externalSchemas, options) => {
      let compile: Compile | undefined;
      return (route) => {
        let serialize: ((data: unknown) => unknown) | undefined;
        return (data) => (serialize ??= (compile ??= serializers(externalSchemas, options))(route))(data);
      };
    },
  };
  // Fastify's factory types name Ajv's and fast-json-stringify's own; these pass them through untouched.
  return factories as unknown as CompilersFactory;
}
