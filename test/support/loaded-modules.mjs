// Preload for a child process: `node --import ./test/support/loaded-modules.mjs dist/src/bin.cjs ...`
// appends one line per module it loads, "<parent URL> <module URL>", to $LOADED_MODULES_FILE. ES
// modules are seen by a resolve hook; CommonJS modules (most native-addon packages) through
// Module._load. Used to check which packages a command loads, never how long it takes.
import { register } from 'node:module';
import { appendFileSync } from 'node:fs';
import Module from 'node:module';
import { pathToFileURL } from 'node:url';

const file = process.env['LOADED_MODULES_FILE'];
if (file) {
  register('./loaded-modules-hooks.mjs', import.meta.url, { data: { file } });
  const load = Module._load;
  Module._load = function (request, parent, isMain) {
    const loaded = load.call(this, request, parent, isMain);
    try {
      const resolved = Module._resolveFilename(request, parent, isMain);
      const url = resolved.startsWith('/') ? pathToFileURL(resolved).href : `node:${resolved.replace(/^node:/, '')}`;
      appendFileSync(file, `${parent?.filename ? pathToFileURL(parent.filename).href : '-'} ${url}\n`);
    } catch {
      // a module that resolves only through a loader of its own: not ours to list
    }
    return loaded;
  };
}
