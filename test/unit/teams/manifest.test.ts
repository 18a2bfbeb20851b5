/**
 * The Teams app package: the manifest rules we rely on, icons read from the PNG files themselves,
 * and the packaging script producing a flat zip with the app id filled in.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inflateRawSync, inflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';

const dir = join(import.meta.dirname, '../../../teams-app');
const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

interface Png {
  width: number;
  height: number;
  colorType: number;
  bitDepth: number;
  /** RGBA pixels (only decoded for 8-bit RGBA). */
  pixels?: Uint8Array;
}

function readPng(bytes: Buffer): Png {
  expect(bytes.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))).toBe(true);
  let pos = 8;
  let ihdr: Buffer | undefined;
  const idat: Buffer[] = [];
  while (pos < bytes.length) {
    const length = bytes.readUInt32BE(pos);
    const type = bytes.toString('ascii', pos + 4, pos + 8);
    const data = bytes.subarray(pos + 8, pos + 8 + length);
    if (type === 'IHDR') ihdr = data;
    if (type === 'IDAT') idat.push(data);
    pos += 12 + length;
    if (type === 'IEND') break;
  }
  if (!ihdr) throw new Error('no IHDR chunk');
  const png: Png = { width: ihdr.readUInt32BE(0), height: ihdr.readUInt32BE(4), bitDepth: ihdr[8]!, colorType: ihdr[9]! };
  if (png.colorType === 6 && png.bitDepth === 8) png.pixels = unfilter(inflateSync(Buffer.concat(idat)), png.width, png.height, 4);
  return png;
}

/** Undo PNG scanline filters (None, Sub, Up, Average, Paeth). */
function unfilter(raw: Buffer, width: number, height: number, bpp: number): Uint8Array {
  const stride = width * bpp;
  const out = new Uint8Array(stride * height);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)]!;
    for (let x = 0; x < stride; x++) {
      const cur = raw[y * (stride + 1) + 1 + x]!;
      const a = x >= bpp ? out[y * stride + x - bpp]! : 0;
      const b = y > 0 ? out[(y - 1) * stride + x]! : 0;
      const c = x >= bpp && y > 0 ? out[(y - 1) * stride + x - bpp]! : 0;
      let pred = 0;
      if (filter === 1) pred = a;
      else if (filter === 2) pred = b;
      else if (filter === 3) pred = (a + b) >> 1;
      else if (filter === 4) {
        const p = a + b - c;
        const pa = Math.abs(p - a);
        const pb = Math.abs(p - b);
        const pc = Math.abs(p - c);
        pred = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      }
      out[y * stride + x] = (cur + pred) & 0xff;
    }
  }
  return out;
}

/** Read a zip's entries through its central directory. */
function unzip(bytes: Buffer): Map<string, Buffer> {
  const eocd = bytes.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  expect(eocd).toBeGreaterThan(0);
  const count = bytes.readUInt16LE(eocd + 10);
  let pos = bytes.readUInt32LE(eocd + 16);
  const files = new Map<string, Buffer>();
  for (let i = 0; i < count; i++) {
    expect(bytes.readUInt32LE(pos)).toBe(0x02014b50);
    const method = bytes.readUInt16LE(pos + 10);
    const compressedSize = bytes.readUInt32LE(pos + 20);
    const nameLength = bytes.readUInt16LE(pos + 28);
    const extraLength = bytes.readUInt16LE(pos + 30);
    const commentLength = bytes.readUInt16LE(pos + 32);
    const localOffset = bytes.readUInt32LE(pos + 42);
    const name = bytes.toString('utf8', pos + 46, pos + 46 + nameLength);
    const localNameLength = bytes.readUInt16LE(localOffset + 26);
    const localExtraLength = bytes.readUInt16LE(localOffset + 28);
    const start = localOffset + 30 + localNameLength + localExtraLength;
    const data = bytes.subarray(start, start + compressedSize);
    files.set(name, method === 8 ? inflateRawSync(data) : Buffer.from(data));
    pos += 46 + nameLength + extraLength + commentLength;
  }
  return files;
}

describe('teams-app/manifest.json', () => {
  it('is on a current manifest schema (1.17 or later) with a matching $schema URL', () => {
    const [major, minor] = String(manifest.manifestVersion).split('.').map(Number);
    expect(major).toBe(1);
    expect(minor).toBeGreaterThanOrEqual(17);
    expect(manifest.$schema).toBe(
      `https://developer.microsoft.com/en-us/json-schemas/teams/v${manifest.manifestVersion}/MicrosoftTeams.schema.json`,
    );
    expect(manifest.version).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it('uses GUIDs for the app id and the bot id', () => {
    expect(manifest.id).toMatch(GUID);
    expect(manifest.bots).toHaveLength(1);
    expect(manifest.bots[0].botId).toMatch(GUID);
  });

  it('respects the name and description length limits', () => {
    expect(manifest.name.short.length).toBeLessThanOrEqual(30);
    expect(manifest.name.full.length).toBeLessThanOrEqual(100);
    expect(manifest.description.short.length).toBeLessThanOrEqual(80);
    expect(manifest.description.full.length).toBeLessThanOrEqual(4000);
    expect(manifest.accentColor).toMatch(/^#[0-9a-fA-F]{6}$/);
    for (const url of Object.values(manifest.developer).filter((v) => typeof v === 'string' && v.startsWith('http')))
      expect(String(url)).toMatch(/^https:\/\//);
  });

  it('installs the bot in personal, team and group chat scopes', () => {
    expect([...manifest.bots[0].scopes].sort()).toEqual(['groupChat', 'personal', 'team']);
  });

  it('offers the chat commands in commandLists, at most 10 per list, with short titles', () => {
    const lists = manifest.bots[0].commandLists as Array<{ scopes: string[]; commands: Array<{ title: string; description: string }> }>;
    expect(lists.length).toBeGreaterThan(0);
    for (const list of lists) {
      expect(list.commands.length).toBeGreaterThan(0);
      expect(list.commands.length).toBeLessThanOrEqual(10);
      for (const scope of list.scopes) expect(manifest.bots[0].scopes).toContain(scope);
      for (const command of list.commands) {
        expect(command.title.length).toBeLessThanOrEqual(32);
        expect(command.description.length).toBeLessThanOrEqual(128);
      }
    }
    const titles = lists.flatMap((l) => l.commands.map((c) => c.title));
    expect(titles).toEqual(expect.arrayContaining(['workflow run', 'workflow list', 'incident declare']));
  });

  it('has a 192x192 colour icon', () => {
    const png = readPng(readFileSync(join(dir, manifest.icons.color)));
    expect([png.width, png.height]).toEqual([192, 192]);
  });

  it('has a 32x32 outline icon that is white on transparent', () => {
    const png = readPng(readFileSync(join(dir, manifest.icons.outline)));
    expect([png.width, png.height]).toEqual([32, 32]);
    expect(png.colorType).toBe(6);
    const px = png.pixels!;
    let white = 0;
    for (let i = 0; i < px.length; i += 4) {
      const [r, g, b, a] = [px[i]!, px[i + 1]!, px[i + 2]!, px[i + 3]!];
      if (a === 0) continue;
      expect([r, g, b]).toEqual([255, 255, 255]);
      white++;
    }
    expect(white).toBeGreaterThan(0);
    expect(white).toBeLessThan(32 * 32);
  });
});

describe('teams-app/package.mjs', () => {
  const script = join(dir, 'package.mjs');

  it('zips manifest and icons flat, with the app id filled in', () => {
    const out = join(mkdtempSync(join(tmpdir(), 'teams-pkg-')), 'app.zip');
    const appId = '11111111-2222-4333-8444-555555555555';
    execFileSync(process.execPath, [script, '--app-id', appId, '--domain', 'bot.example.com', '--out', out], { stdio: 'pipe' });
    const files = unzip(readFileSync(out));
    expect([...files.keys()].sort()).toEqual(['color.png', 'manifest.json', 'outline.png']);
    const packaged = JSON.parse(files.get('manifest.json')!.toString('utf8'));
    expect(packaged.bots[0].botId).toBe(appId);
    expect(packaged.id).toBe(manifest.id);
    expect(packaged.validDomains).toContain('bot.example.com');
    expect(files.get('color.png')!.equals(readFileSync(join(dir, 'color.png')))).toBe(true);
    expect(readPng(files.get('outline.png')!).width).toBe(32);
  });

  it('refuses to package without a real app id', () => {
    const env = { ...process.env };
    delete env.MICROSOFT_APP_ID;
    expect(() => execFileSync(process.execPath, [script, '--out', join(tmpdir(), 'never.zip')], { stdio: 'pipe', env })).toThrow(/app id is required/);
    expect(() =>
      execFileSync(process.execPath, [script, '--app-id', 'not-a-guid', '--out', join(tmpdir(), 'never.zip')], { stdio: 'pipe', env }),
    ).toThrow(/app id is required/);
  });
});
