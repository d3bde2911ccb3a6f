import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

/** A built UI file. */
export interface UiAsset {
  readonly body: Uint8Array;
  readonly contentType: string;
}

const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.map': 'application/json',
};

/** Files the UI build writes (see scripts/build-ui.mjs); nothing else is ever served. */
export const UI_FILES = ['index.html', 'app.js', 'app.css'] as const;

/** Where the built UI lives: `dist/ui` next to the compiled module, or from the sources. */
function candidates(): URL[] {
  return [new URL('./ui/', import.meta.url), new URL('../dist/ui/', import.meta.url)];
}

/** Loads the built UI once; `null` when it was not built (the page then says how to build it). */
export async function loadUi(dir?: string): Promise<Map<string, UiAsset> | null> {
  const roots = dir ? [new URL(`file://${dir.endsWith('/') ? dir : `${dir}/`}`)] : candidates();
  for (const root of roots) {
    try {
      const files = new Map<string, UiAsset>();
      for (const name of UI_FILES) {
        const body = await readFile(fileURLToPath(new URL(name, root)));
        const ext = name.slice(name.lastIndexOf('.'));
        files.set(name, { body, contentType: TYPES[ext] ?? 'application/octet-stream' });
      }
      return files;
    } catch {
      // try the next location
    }
  }
  return null;
}

/** The page served when the UI assets are missing. */
export const MISSING_UI_PAGE = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>floworch dashboard</title></head>
<body><main><h1>floworch dashboard</h1><p>The web UI was not built. Run
<code>pnpm --filter @floworch/dashboard build</code>; the API under <code>api/</code> works without it.</p></main></body></html>`;
