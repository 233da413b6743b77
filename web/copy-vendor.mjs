// `npm run build`: copies the dashboard's browser libraries from node_modules (pinned by
// package-lock.json) into public/vendor, which the api serves; the page loads nothing
// from elsewhere (no CDN, works offline).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const kFiles = [
  ['socket.io-client/dist/socket.io.min.js', 'socket.io.min.js'],
  ['socket.io-client/dist/socket.io.min.js.map', 'socket.io.min.js.map'],
  ['uplot/dist/uPlot.iife.min.js', 'uPlot.iife.min.js'],
  ['uplot/dist/uPlot.min.css', 'uPlot.min.css'],
  ['uplot/LICENSE', 'uPlot.LICENSE'],
  // The API page (api.html): Swagger UI renders /api/openapi.json.
  ['swagger-ui-dist/swagger-ui-bundle.js', 'swagger-ui-bundle.js'],
  ['swagger-ui-dist/swagger-ui.css', 'swagger-ui.css'],
  ['swagger-ui-dist/LICENSE', 'swagger-ui.LICENSE'],
];

const vendor = path.join(here, 'public', 'vendor');
fs.mkdirSync(vendor, { recursive: true });
for (const [from, to] of kFiles) {
  fs.copyFileSync(path.join(here, 'node_modules', from), path.join(vendor, to));
}
console.log(`copied ${kFiles.length} files into public/vendor`);
