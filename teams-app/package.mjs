#!/usr/bin/env node
/**
 * Builds the Teams app package: manifest.json with the bot's app id filled in, plus the two
 * icons, zipped flat (Teams rejects a package whose files sit in a sub-folder).
 *
 * Usage:
 *   node teams-app/package.mjs --app-id <guid> [--domain bot.example.com] [--out teams-app/build/incident-workflows.zip]
 *   MICROSOFT_APP_ID=<guid> node teams-app/package.mjs
 *
 * The zip is written by the small store-and-deflate writer below, so no `zip` binary is needed.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { crc32, deflateRawSync } from 'node:zlib';

const here = dirname(fileURLToPath(import.meta.url));
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const PLACEHOLDER = '00000000-0000-0000-0000-000000000000';

/** Fill in the bot id (and optionally the bot's domain) in a manifest object. Throws on a bad id. */
export function fillManifest(manifest, { appId, domain }) {
  if (!appId || !GUID.test(appId) || appId === PLACEHOLDER)
    throw new Error('an app id is required: the Microsoft App ID (a GUID) of the Azure Bot registration, via --app-id or MICROSOFT_APP_ID');
  const filled = JSON.parse(JSON.stringify(manifest));
  for (const bot of filled.bots ?? []) bot.botId = appId;
  if (domain) filled.validDomains = [...new Set([...(filled.validDomains ?? []), domain])];
  return filled;
}

/** A minimal ZIP (PKZIP 2.0, deflate) writer: local headers, data, central directory, end record. */
export function zip(files) {
  const locals = [];
  const centrals = [];
  let offset = 0;
  // DOS date/time for 1980-01-01 00:00 keeps the archive reproducible.
  const dosTime = 0;
  const dosDate = (0 << 9) | (1 << 5) | 1;
  for (const { name, data } of files) {
    const nameBuf = Buffer.from(name, 'utf8');
    const compressed = deflateRawSync(data, { level: 9 });
    const crc = crc32(data) >>> 0;
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4); // version needed
    local.writeUInt16LE(0x0800, 6); // UTF-8 names
    local.writeUInt16LE(8, 8); // deflate
    local.writeUInt16LE(dosTime, 10);
    local.writeUInt16LE(dosDate, 12);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(compressed.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(nameBuf.length, 26);
    local.writeUInt16LE(0, 28);
    locals.push(local, nameBuf, compressed);

    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4); // version made by
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(0x0800, 8);
    central.writeUInt16LE(8, 10);
    central.writeUInt16LE(dosTime, 12);
    central.writeUInt16LE(dosDate, 14);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(compressed.length, 20);
    central.writeUInt32LE(data.length, 24);
    central.writeUInt16LE(nameBuf.length, 28);
    central.writeUInt32LE(offset, 42);
    centrals.push(central, nameBuf);
    offset += local.length + nameBuf.length + compressed.length;
  }
  const centralSize = centrals.reduce((n, b) => n + b.length, 0);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(files.length, 8);
  end.writeUInt16LE(files.length, 10);
  end.writeUInt32LE(centralSize, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, ...centrals, end]);
}

/** Build the package bytes from the files in `dir`. */
export function buildPackage({ appId, domain, dir = here }) {
  const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
  const filled = fillManifest(manifest, { appId, domain });
  return zip([
    { name: 'manifest.json', data: Buffer.from(`${JSON.stringify(filled, null, 2)}\n`) },
    { name: manifest.icons.color, data: readFileSync(join(dir, manifest.icons.color)) },
    { name: manifest.icons.outline, data: readFileSync(join(dir, manifest.icons.outline)) },
  ]);
}

function arg(name) {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  // A hand-run packaging tool, not part of the product: reading the app id from the environment is its interface.
  // eslint-disable-next-line no-restricted-properties
  const appId = arg('app-id') ?? process.env.MICROSOFT_APP_ID;
  const out = resolve(arg('out') ?? join(here, 'build', 'incident-workflows.zip'));
  try {
    const bytes = buildPackage({ appId, domain: arg('domain') });
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, bytes);
    console.log(`wrote ${out} (${bytes.length} bytes): upload it in Teams under Apps > Manage your apps > Upload an app`);
  } catch (err) {
    console.error(`teams-app/package.mjs: ${err.message}`);
    process.exitCode = 1;
  }
}
