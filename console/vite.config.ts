// Builds the console (console/src, Preact) into dist/console/: index.html plus hashed files under
// assets/, served by viewgate at /admin/ and /admin/assets/. tsc writes the server into dist/ from
// src/ and never touches dist/console/; this build empties only dist/console/.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/admin/',
  publicDir: false,
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: fileURLToPath(new URL('../dist/console', import.meta.url)),
    emptyOutDir: true,
    assetsDir: 'assets',
    // No inline assets (CSP: no data: URLs needed) and no preload polyfill (one entry chunk).
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    sourcemap: false,
  },
});
