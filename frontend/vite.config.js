// Two builds into webmap/static/dist/, each one self-contained ES module with fixed names
// (templates and e-services link to them by name; the server adds the versioning):
//   `vite build --mode viewer` → viewer.js + viewer.css  (the map page at `/`)
//   `vite build --mode widget` → webmap.js + webmap.css  (<webmap-picker>, served at /widget/)
// Separate builds rather than two inputs of one build, because Rollup would split the shared
// OpenLayers code into a third chunk, and the widget must be one file an e-service can load.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const ENTRIES = {
  viewer: 'src/viewer/main.js',
  widget: 'src/picker/index.js',
};
const NAMES = { viewer: 'viewer', widget: 'webmap' };

export default defineConfig(({ mode }) => {
  const entry = ENTRIES[mode];
  const name = NAMES[mode];
  return {
    base: './',
    publicDir: false,
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
