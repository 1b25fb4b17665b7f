// Two builds into webmap/static/dist/, each one self-contained ES module with fixed names
// (templates and e-services link to them by name; the server adds the versioning):
//   `vite build --mode viewer` → viewer.js + viewer.css  (the map page at `/`)
//   `vite build --mode widget` → webmap.js + webmap.css  (<webmap-picker>, served at /widget/)
// Separate builds rather than two inputs of one build, because Rollup would split the shared
// OpenLayers code into a third chunk, and the widget must be one file an e-service can load.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { brotliCompressSync, constants } from 'node:zlib';
import { defineConfig } from 'vite';

const ENTRIES = {
  viewer: 'src/viewer/main.js',
  widget: 'src/picker/index.js',
};
const NAMES = { viewer: 'viewer', widget: 'webmap' };

/**
 * OpenLayers' flat-style compiler left out of the widget (src/shared/no-flat-styles.js says
 * why): its vector layers' one import of it resolves to a stand-in that refuses flat styles.
 */
function withoutFlatStyles() {
  const standIn = fileURLToPath(new URL('src/shared/no-flat-styles.js', import.meta.url));
  return {
    name: 'webmap-no-flat-styles',
    enforce: 'pre',
    resolveId(source, importer) {
      if (source === '../render/canvas/style.js' && importer?.replaceAll('\\', '/').endsWith('/ol/layer/BaseVector.js')) return standIn;
      return null;
    },
  };
}

/**
 * webmap.js.br beside webmap.js: the widget compressed once, at the strongest Brotli setting
 * (about 105 KB against 125 KB gzipped), for /widget/ to send browsers that accept `br`. On a
 * slow mobile link the script is the last of the map's first bytes to arrive (bench/widget.py),
 * so 20 KB less is 0.1 s sooner at 1.44 Mbit/s. Node's zlib does it: no new dependency.
 */
function brotliBeside(fileName) {
  return {
    name: 'webmap-brotli',
    writeBundle(options) {
      const path = join(options.dir, fileName);
      const body = readFileSync(path);
      const params = {
        [constants.BROTLI_PARAM_QUALITY]: constants.BROTLI_MAX_QUALITY,
        [constants.BROTLI_PARAM_MODE]: constants.BROTLI_MODE_TEXT,
        [constants.BROTLI_PARAM_SIZE_HINT]: body.length,
      };
      writeFileSync(`${path}.br`, brotliCompressSync(body, { params }));
    },
  };
}

export default defineConfig(({ mode }) => {
  const entry = ENTRIES[mode];
  const name = NAMES[mode];
  return {
    base: './',
    publicDir: false,
    plugins: mode === 'widget' ? [withoutFlatStyles(), brotliBeside(`${name}.js`)] : [],
    build: {
      outDir: fileURLToPath(new URL('../webmap/static/dist', import.meta.url)),
      emptyOutDir: false,
      target: 'es2022',
      sourcemap: true,
      cssCodeSplit: false,
      // OpenLayers and the style expressions are most of it; the aim is ≤ 150 KB gzipped.
      chunkSizeWarningLimit: 700,
      rolldownOptions: entry
        ? {
            input: { [name]: fileURLToPath(new URL(entry, import.meta.url)) },
            output: {
              entryFileNames: '[name].js',
              chunkFileNames: `${name}-[name].js`,
              assetFileNames: `${name}[extname]`,
              codeSplitting: false,
            },
          }
        : undefined,
    },
    test: {
      include: ['test/**/*.test.js'],
      environment: 'node',
    },
  };
});
