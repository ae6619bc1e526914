// Builds the web console (console/: Preact + TypeScript) into dist/console: one JavaScript bundle,
// one stylesheet, index.html and the icon, served by the daemon's own HTTP server (src/http/console.ts).
// Nothing is fetched at run time: no CDN, no web font. Run by `npm run build` and scripts/setup.
//
// Idempotent and quick: the inputs (console/ sources, src/ whose types it is checked against, this
// script, the locked versions of esbuild, Preact and TypeScript) are hashed; when dist/console was
// built from the same hash nothing is done. Otherwise the front end is type-checked (tsc -p console) and bundled by esbuild (about 0.1 s), and only
// files whose bytes changed are written.
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const SRC = join(ROOT, 'console');
const OUT = join(ROOT, 'dist/console');
const STAMP = join(OUT, '.build-hash');

function filesUnder(dir: string): string[] {
  return readdirSync(dir).sort().flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? filesUnder(p) : [p];
  });
}

function inputsHash(): string {
  const h = createHash('sha256');
  const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, { version?: string }> };
  for (const dep of ['esbuild', 'preact', 'typescript']) h.update(`${dep}@${lock.packages[`node_modules/${dep}`]?.version ?? '?'}\n`);
  // The front end is type-checked against the daemon's own types (src/), so they are inputs too.
  for (const f of [...filesUnder(SRC), join(ROOT, 'scripts/build-console.ts'), ...filesUnder(join(ROOT, 'src'))]) {
    h.update(relative(ROOT, f)).update('\0').update(readFileSync(f)).update('\0');
  }
  return h.digest('hex');
}

/** Writes only when the bytes differ, so a rebuild with the same result touches nothing. */
function writeIfChanged(file: string, body: Buffer | string): boolean {
  const bytes = typeof body === 'string' ? Buffer.from(body) : body;
  if (existsSync(file) && readFileSync(file).equals(bytes)) return false;
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, bytes);
  return true;
}

async function main(): Promise<void> {
  const force = process.argv.includes('--force');
  const hash = inputsHash();
  if (!force && existsSync(STAMP) && readFileSync(STAMP, 'utf8').trim() === hash) return;
  const t0 = performance.now();
  // Type errors fail the build, as tsc -b does for the daemon.
  execFileSync(join(ROOT, 'node_modules/.bin/tsc'), ['-p', join(SRC, 'tsconfig.json')], { stdio: 'inherit' });
  const result = await build({
    entryPoints: { app: join(SRC, 'src/main.tsx'), 'app-style': join(SRC, 'src/style.css') },
    bundle: true,
    write: false,
    outdir: OUT,
    format: 'esm',
    target: ['es2022', 'chrome100', 'firefox100', 'safari15'],
    jsx: 'automatic',
    jsxImportSource: 'preact',
    minify: true,
    legalComments: 'none',
    banner: { js: '/* alpr-edge console. Includes Preact (MIT licence): /console/third-party-licenses.txt */' },
    logLevel: 'warning',
  });
  const wanted = new Map<string, Buffer | string>();
  for (const f of result.outputFiles) {
    const name = relative(OUT, f.path).replace(/^app-style\.css$/, 'app.css');
    wanted.set(name, Buffer.from(f.contents));
  }
  wanted.set('index.html', readFileSync(join(SRC, 'index.html')));
  wanted.set('favicon.svg', readFileSync(join(SRC, 'favicon.svg')));
  wanted.set('third-party-licenses.txt', `Preact ${readPackageVersion('preact')}\n\n${readFileSync(join(ROOT, 'node_modules/preact/LICENSE'), 'utf8')}`);
  let changed = 0;
  for (const [name, body] of wanted) if (writeIfChanged(join(OUT, name), body)) changed++;
  // Files of an older build that this one no longer makes.
  for (const f of existsSync(OUT) ? filesUnder(OUT) : []) {
    const name = relative(OUT, f);
    if (name !== '.build-hash' && !wanted.has(name)) rmSync(f);
  }
  writeFileSync(STAMP, `${hash}\n`);
  const size = (n: string) => `${n} ${((wanted.get(n)?.length ?? 0) / 1024).toFixed(1)} KiB`;
  console.error(`build-console: dist/console (${size('app.js')}, ${size('app.css')}; ${changed} file(s) written) in ${Math.round(performance.now() - t0)} ms`);
}

function readPackageVersion(name: string): string {
  return (JSON.parse(readFileSync(join(ROOT, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;
}

main().catch((err: unknown) => {
  console.error(`build-console: ${(err as Error).message}`);
  process.exit(1);
});
