#!/usr/bin/env node
// Validates a MapLibre style read from stdin against the official style specification
// (@maplibre/maplibre-gl-style-spec, the same code MapLibre GL JS uses), and checks that it
// refers to no other host. Prints {"errors": [...], "widget_unsupported": [...]} as JSON;
// exits 1 when there are errors.
// Used by tests/test_style_validation.py on the style the server actually serves.
//
//   curl -s http://127.0.0.1:8000/styles/basemap.json | node scripts/validate-style.mjs [base-url]
import { validateStyleMin } from '@maplibre/maplibre-gl-style-spec';
import { isSameOrigin, styleUrls } from '../src/shared/local-style.js';
import { unsupported } from '../src/shared/style-rules.js';

async function readStdin() {
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  return Buffer.concat(chunks).toString('utf8');
}

const base = process.argv[2];
let style;
try {
  style = JSON.parse(await readStdin());
} catch (error) {
  process.stdout.write(JSON.stringify({ errors: [`not JSON: ${error.message}`] }) + '\n');
  process.exit(1);
}
const errors = validateStyleMin(style).map((error) => error.message);
if (base) {
  for (const { where, url } of styleUrls(style)) {
    if (!isSameOrigin(url, base)) errors.push(`${where}: ${url} is not on ${new URL(base).origin}`);
  }
}
// What the widget's small renderer (src/shared/mini-style.js) would not draw: reported apart,
// so the style can grow while the widget catches up, but a test notices.
const widgetUnsupported = unsupported(style);
process.stdout.write(JSON.stringify({ errors, widget_unsupported: widgetUnsupported }) + '\n');
process.exit(errors.length ? 1 : 0);
