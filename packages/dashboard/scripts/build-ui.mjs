// Builds the web UI into dist/ui: one ES module bundle (preact included), the page and the
// stylesheet. Everything is served by the package itself: no CDN, works offline.
import { copyFile, mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'dist', 'ui');
const started = Date.now();
await mkdir(out, { recursive: true });
await build({
  entryPoints: [join(root, 'ui', 'src', 'main.tsx')],
  outfile: join(out, 'app.js'),
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: ['es2020'],
  minify: true,
  sourcemap: false,
  jsx: 'automatic',
  jsxImportSource: 'preact',
  legalComments: 'none',
  logLevel: 'warning',
});
await copyFile(join(root, 'ui', 'index.html'), join(out, 'index.html'));
await copyFile(join(root, 'ui', 'app.css'), join(out, 'app.css'));
console.log(`dashboard UI built into dist/ui in ${Date.now() - started} ms`);
