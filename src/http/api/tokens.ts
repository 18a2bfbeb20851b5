/**
 * API bearer tokens. Only a SHA-256 hash is stored: the plaintext is shown once at creation.
 * Tokens are scoped and revocable; `lastUsedAt` is refreshed at most once a minute.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { PrismaClient } from '../../generated/prisma/client.js';

/** Every scope a token can hold. */
export const API_SCOPES = [
  'incidents:read',
  'incidents:write',
  'workflows:read',
  'workflows:write',
  'executions:read',
  'executions:write',
  // Teams, members, users and roles: an admin's power, so a token must be given it explicitly.
  'directory:read',
  'directory:write',
] as const;
export type ApiScope = (typeof API_SCOPES)[number];

const TOKEN_PREFIX = 'iwt_';
const LAST_USED_RESOLUTION_MS = 60_000;

/** The stored form of a token. */
export function hashApiToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

export function isApiScope(value: string): value is ApiScope {
  return (API_SCOPES as readonly string[]).includes(value);
}

/** Create a token; the plaintext `token` is returned only here. Unknown scopes are refused. */
export async function createApiToken(
  prisma: PrismaClient,
  input: { name: string; scopes: readonly string[]; createdBy?: string },
): Promise<{ id: string; name: string; scopes: ApiScope[]; token: string }> {
  const name = input.name.trim();
  if (!name) throw new Error('a token needs a name');
  const unknown = input.scopes.filter((s) => !isApiScope(s));
  if (unknown.length > 0) throw new Error(`unknown scope(s): ${unknown.join(', ')} (known: ${API_SCOPES.join(', ')})`);
  if (input.scopes.length === 0) throw new Error('a token needs at least one scope');
  const scopes = [...new Set(input.scopes)] as ApiScope[];
  const token = `${TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`;
  const row = await prisma.apiToken.create({
    data: { name, scopes, tokenHash: hashApiToken(token), createdBy: input.createdBy ?? null },
    select: { id: true },
  });
  await prisma.auditLog.create({
    data: { actor: input.createdBy ?? 'system', action: 'api_token.create', targetType: 'api_token', targetId: row.id, details: { name, scopes } },
  });
  return { id: row.id, name, scopes, token };
}

/** Revoke a token by id (or by its plaintext). Returns false when no active token matched. */
export async function revokeApiToken(prisma: PrismaClient, idOrToken: string, revokedBy = 'system'): Promise<boolean> {
  const isUuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(idOrToken);
  const where = isUuid ? { id: idOrToken } : { tokenHash: hashApiToken(idOrToken) };
  const row = await prisma.apiToken.findUnique({ where, select: { id: true, revokedAt: true } });
  if (!row || row.revokedAt) return false;
  const { count } = await prisma.apiToken.updateMany({ where: { id: row.id, revokedAt: null }, data: { revokedAt: new Date() } });
  if (count === 1) {
    await prisma.auditLog.create({ data: { actor: revokedBy, action: 'api_token.revoke', targetType: 'api_token', targetId: row.id } });
  }
  return count === 1;
}

/** An authenticated token. */
export interface ApiPrincipal {
  tokenId: string;
  name: string;
  scopes: string[];
}

/** The active token for a plaintext, or null (unknown or revoked). Refreshes `lastUsedAt`. */
export async function authenticateApiToken(prisma: PrismaClient, token: string): Promise<ApiPrincipal | null> {
  const row = await prisma.apiToken.findUnique({
    where: { tokenHash: hashApiToken(token) },
    select: { id: true, name: true, scopes: true, revokedAt: true, lastUsedAt: true },
  });
  if (!row || row.revokedAt) return null;
  const now = Date.now();
  if (!row.lastUsedAt || now - row.lastUsedAt.getTime() >= LAST_USED_RESOLUTION_MS) {
    await prisma.apiToken.update({ where: { id: row.id }, data: { lastUsedAt: new Date(now) } });
  }
  return { tokenId: row.id, name: row.name, scopes: row.scopes };
}
