/**
 * Static files the UI serves from the Worker (the CSP allows only 'self': no inline styles or
 * scripts). Each is served at `/assets/<name-without-ext>.<hash>.<ext>` with a year's immutable cache;
 * the hash changes when the content does, so a deploy is picked up at once. Use `assetUrl('app.css')`
 * in markup. To add a file, add an entry to ASSETS (its content as a string module).
 */
import { APP_CSS } from './app-css';
import { APP_JS } from './app-js';
import { ADMIN_CSS } from '../pages/admin/admin-css';
import { CHARTS_CSS, CHARTS_JS } from './charts.generated';

export interface Asset {
  body: string;
  type: string;
}

export const ASSETS: Record<string, Asset> = {
  'app.css': { body: APP_CSS, type: 'text/css; charset=utf-8' },
  'app.js': { body: APP_JS, type: 'text/javascript; charset=utf-8' },
  // uPlot and the chart script (reports and metrics pages); scripts/build-chart-assets.ts makes them.
  'charts.js': { body: CHARTS_JS, type: 'text/javascript; charset=utf-8' },
  'charts.css': { body: CHARTS_CSS, type: 'text/css; charset=utf-8' },
  'admin.css': { body: ADMIN_CSS, type: 'text/css; charset=utf-8' },
};

/** FNV-1a, 32 bits: synchronous (crypto.subtle is not), and only needs to change with the content. */
function contentHash(text: string): string {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0).toString(16).padStart(8, '0');
}

const hashed = new Map<string, { file: string; asset: Asset }>();

function hashedName(name: string, asset: Asset): string {
  const dot = name.lastIndexOf('.');
  return `${name.slice(0, dot)}.${contentHash(asset.body)}${name.slice(dot)}`;
}

/** The URL of a named asset (`assetUrl('app.css')` → `/assets/app.1a2b3c4d.css`). */
export function assetUrl(name: string): string {
  const asset = ASSETS[name];
  if (!asset) throw new Error(`No UI asset named ${name}`);
  return `/assets/${hashedName(name, asset)}`;
}

/** The asset served under a hashed file name, or undefined (an old hash is a 404, not stale content). */
export function assetByFile(file: string): Asset | undefined {
  if (hashed.size === 0) for (const [name, asset] of Object.entries(ASSETS)) hashed.set(hashedName(name, asset), { file: name, asset });
  return hashed.get(file)?.asset;
}
