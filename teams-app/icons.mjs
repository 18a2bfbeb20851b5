#!/usr/bin/env node
/**
 * Draws the two icons Teams requires and writes them as real PNG files (no image library:
 * a PNG is an IHDR, zlib-compressed scanlines and an IEND, each chunk with a CRC-32).
 *
 *   color.png   192x192, full colour
 *   outline.png  32x32, white on a transparent background (Teams tints it)
 *
 * Usage: node teams-app/icons.mjs
 */
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { crc32, deflateSync } from 'node:zlib';

const here = dirname(fileURLToPath(import.meta.url));

/** Encode RGBA pixels (Uint8Array, width*height*4) as a PNG (colour type 6, 8 bits, filter 0). */
export function encodePng(width, height, rgba) {
  const rows = Buffer.alloc((width * 4 + 1) * height);
  for (let y = 0; y < height; y++) {
    rows[y * (width * 4 + 1)] = 0;
    Buffer.from(rgba.buffer, rgba.byteOffset + y * width * 4, width * 4).copy(rows, y * (width * 4 + 1) + 1);
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 6; // RGBA
  ihdr[10] = 0;
  ihdr[11] = 0;
  ihdr[12] = 0;
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(rows, { level: 9 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

function chunk(type, data) {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length, 0);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body) >>> 0, 0);
  return Buffer.concat([length, body, crc]);
}

/** A lightning bolt polygon in a unit square (0..1), the product's mark. */
const BOLT = [
  [0.58, 0.08],
  [0.24, 0.56],
  [0.47, 0.56],
  [0.4, 0.92],
  [0.76, 0.42],
  [0.53, 0.42],
  [0.6, 0.08],
];

function inPolygon(x, y, poly) {
  let inside = false;
  for (let i = 0, j = poly.length - 1; i < poly.length; j = i++) {
    const [xi, yi] = poly[i];
    const [xj, yj] = poly[j];
    if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

function drawColor(size) {
  const px = new Uint8Array(size * size * 4);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const i = (y * size + x) * 4;
      const u = (x + 0.5) / size;
      const v = (y + 0.5) / size;
      const bolt = inPolygon(u, v, BOLT);
      // Brand purple background, white bolt. Teams shows the colour icon on its own tile.
      px[i] = bolt ? 255 : 0x46;
      px[i + 1] = bolt ? 255 : 0x47;
      px[i + 2] = bolt ? 255 : 0xc4;
      px[i + 3] = 255;
    }
  }
  return px;
}

function drawOutline(size) {
  const px = new Uint8Array(size * size * 4);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const i = (y * size + x) * 4;
      const u = (x + 0.5) / size;
      const v = (y + 0.5) / size;
      const on = inPolygon(u, v, BOLT);
      // Teams requires pure white (255,255,255) on fully transparent: no anti-aliasing colours.
      px[i] = on ? 255 : 0;
      px[i + 1] = on ? 255 : 0;
      px[i + 2] = on ? 255 : 0;
      px[i + 3] = on ? 255 : 0;
    }
  }
  return px;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  writeFileSync(join(here, 'color.png'), encodePng(192, 192, drawColor(192)));
  writeFileSync(join(here, 'outline.png'), encodePng(32, 32, drawOutline(32)));
  console.log('wrote teams-app/color.png (192x192) and teams-app/outline.png (32x32)');
}
