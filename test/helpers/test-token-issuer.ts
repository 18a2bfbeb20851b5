/**
 * A local stand-in for the two Microsoft identity services a Teams bot talks to:
 *
 * - the Bot Framework token issuer whose OpenID metadata and JWKS the bot uses to validate
 *   inbound `Authorization: Bearer` tokens (Teams -> bot), and
 * - the Entra ID (AAD) token endpoint the bot asks for its outbound token (bot -> Bot Connector),
 *   reached by MSAL through {@link TestTokenIssuer.msalNetworkClient} because MSAL only accepts an
 *   https authority (it maps `https://login.test.local/...` onto this loopback server).
 *
 * Tokens are real RS256 JWTs signed with a key generated per issuer. Helpers mint the broken
 * variants the bot must refuse: expired, not yet valid, wrong audience, wrong issuer, `alg: none`,
 * forged signature (other key, same kid) and HS256 signed with the public key.
 */
import { createHmac, generateKeyPairSync, randomUUID, sign as rsaSign, verify as rsaVerify, type KeyObject } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** The audience Bot Connector tokens carry (bot -> channel). */
export const BOT_CONNECTOR_AUDIENCE = 'https://api.botframework.com';
/** The fake login host MSAL is allowed to use (listed in `knownAuthorities`). */
export const TEST_LOGIN_HOST = 'login.test.local';

export interface TokenOptions {
  /** Defaults to the issuer's own `issuer`. */
  iss?: string;
  aud?: string;
  /** Seconds relative to now (default +3600). */
  expiresIn?: number;
  /** Seconds relative to now (default -60). */
  notBefore?: number;
  serviceUrl?: string;
  extra?: Record<string, unknown>;
  kind?: 'valid' | 'none' | 'forged' | 'hs256-public-key';
}

interface RecordedTokenRequest {
  clientId: string;
  scope: string;
  grantType: string;
}

function b64url(input: Buffer | string): string {
  return Buffer.from(input).toString('base64url');
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export class TestTokenIssuer {
  readonly kid = `test-${randomUUID().slice(0, 8)}`;
  private readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  private readonly otherPrivateKey: KeyObject;
  private server!: Server;
  baseUrl = '';
  /** Client-credential token requests the issuer answered (MSAL -> token endpoint). */
  readonly tokenRequests: RecordedTokenRequest[] = [];
  /** App registrations allowed to get tokens: appId -> password. */
  readonly apps = new Map<string, string>();

  constructor() {
    const pair = generateKeyPairSync('rsa', { modulusLength: 2048 });
    this.privateKey = pair.privateKey;
    this.publicKey = pair.publicKey;
    this.otherPrivateKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
  }

  /** Issuer claim of inbound (channel -> bot) tokens. */
  get issuer(): string {
    return `${this.baseUrl}/botframework`;
  }

  /** What the bot's `ToBotFromChannelOpenIdMetadataUrl` points at. */
  get openIdMetadataUrl(): string {
    return `${this.baseUrl}/botframework/.well-known/openidconfiguration`;
  }

  /** The https authority MSAL is given for a tenant (served by this issuer through the network client). */
  authority(tenant = 'botframework.com'): string {
    return `https://${TEST_LOGIN_HOST}/${tenant}`;
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((error: unknown) => {
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: String(error) }));
      });
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.baseUrl = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections?.();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** JWKS entry for the signing key (Bot Framework adds `endorsements`: the channels it may sign for). */
  jwk(): Record<string, unknown> {
    const jwk = this.publicKey.export({ format: 'jwk' }) as { n: string; e: string };
    return { kty: 'RSA', use: 'sig', kid: this.kid, n: jwk.n, e: jwk.e, endorsements: ['msteams'] };
  }

  /** Mint a token (valid by default; `kind` makes the broken variants). */
  token(opts: TokenOptions = {}): string {
    const now = Math.floor(Date.now() / 1000);
    const payload: Record<string, unknown> = {
      iss: opts.iss ?? this.issuer,
      aud: opts.aud,
      iat: now - 60,
      nbf: now + (opts.notBefore ?? -60),
      exp: now + (opts.expiresIn ?? 3600),
      ...(opts.serviceUrl ? { serviceurl: opts.serviceUrl } : {}),
      ...opts.extra,
    };
    const kind = opts.kind ?? 'valid';
    const alg = kind === 'none' ? 'none' : kind === 'hs256-public-key' ? 'HS256' : 'RS256';
    const header = b64url(JSON.stringify({ alg, typ: 'JWT', kid: this.kid }));
    const body = b64url(JSON.stringify(payload));
    const data = `${header}.${body}`;
    if (kind === 'none') return `${data}.`;
    if (kind === 'hs256-public-key') {
      const pem = this.publicKey.export({ format: 'pem', type: 'spki' });
      return `${data}.${b64url(createHmac('sha256', pem).update(data).digest())}`;
    }
    const key = kind === 'forged' ? this.otherPrivateKey : this.privateKey;
    return `${data}.${b64url(rsaSign('sha256', Buffer.from(data), key))}`;
  }

  /** A Teams -> bot token as the Bot Framework would send it. */
  channelToken(appId: string, serviceUrl: string, opts: TokenOptions = {}): string {
    return this.token({ aud: appId, serviceUrl, ...opts });
  }

  /**
   * Verify a bearer token this issuer minted (the fake Bot Connector uses it to check the bot's
   * outbound token). Returns the payload, or null when the signature, algorithm, expiry or audience is wrong.
   */
  verify(token: string, audience: string): Record<string, unknown> | null {
    const [h, p, s] = token.split('.');
    if (!h || !p || s === undefined) return null;
    try {
      const header = JSON.parse(Buffer.from(h, 'base64url').toString('utf8')) as { alg?: string };
      if (header.alg !== 'RS256') return null;
      if (!rsaVerify('sha256', Buffer.from(`${h}.${p}`), this.publicKey, Buffer.from(s, 'base64url'))) return null;
      const payload = JSON.parse(Buffer.from(p, 'base64url').toString('utf8')) as Record<string, unknown>;
      const now = Date.now() / 1000;
      if (typeof payload.exp !== 'number' || payload.exp < now) return null;
      if (payload.aud !== audience) return null;
      return payload;
    } catch {
      return null;
    }
  }

  /**
   * An MSAL `INetworkModule` that sends requests for `https://login.test.local/...` to this
   * loopback server (and refuses anything else, so a test can never reach the real cloud).
   */
  msalNetworkClient() {
    const rewrite = (url: string): string => {
      const u = new URL(url);
      if (u.host !== TEST_LOGIN_HOST) throw new Error(`test network client refuses ${u.host}`);
      return `${this.baseUrl}/aad${u.pathname}${u.search}`;
    };
    const send = async (method: 'GET' | 'POST', url: string, options?: { headers?: Record<string, string>; body?: string }) => {
      const res = await fetch(rewrite(url), { method, headers: options?.headers ?? {}, ...(method === 'POST' ? { body: options?.body ?? '' } : {}) });
      const headers: Record<string, string> = {};
      res.headers.forEach((v, k) => (headers[k] = v));
      return { headers, body: (await res.json()) as never, status: res.status };
    };
    return {
      sendGetRequestAsync: (url: string, options?: { headers?: Record<string, string> }) => send('GET', url, options),
      sendPostRequestAsync: (url: string, options?: { headers?: Record<string, string>; body?: string }) => send('POST', url, options),
    };
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.baseUrl);
    const json = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (req.method === 'GET' && url.pathname === '/botframework/.well-known/openidconfiguration') {
      return json(200, {
        issuer: this.issuer,
        authorization_endpoint: `${this.baseUrl}/botframework/authorize`,
        jwks_uri: `${this.baseUrl}/botframework/keys`,
        id_token_signing_alg_values_supported: ['RS256'],
        token_endpoint_auth_methods_supported: ['private_key_jwt'],
      });
    }
    if (req.method === 'GET' && url.pathname === '/botframework/keys') return json(200, { keys: [this.jwk()] });

    // Entra ID endpoints, as MSAL sees them under https://login.test.local/<tenant>/...
    const aad = /^\/aad\/([^/]+)\/(.*)$/.exec(url.pathname);
    if (aad) {
      const [, tenant, rest] = aad;
      const authority = `https://${TEST_LOGIN_HOST}/${tenant}`;
      if (req.method === 'GET' && rest === 'v2.0/.well-known/openid-configuration') {
        return json(200, {
          issuer: `${authority}/v2.0`,
          authorization_endpoint: `${authority}/oauth2/v2.0/authorize`,
          token_endpoint: `${authority}/oauth2/v2.0/token`,
          end_session_endpoint: `${authority}/oauth2/v2.0/logout`,
          jwks_uri: `${authority}/discovery/v2.0/keys`,
          response_types_supported: ['code', 'id_token', 'token'],
        });
      }
      if (req.method === 'POST' && rest === 'oauth2/v2.0/token') {
        const form = new URLSearchParams(await readBody(req));
        const clientId = form.get('client_id') ?? '';
        const scope = form.get('scope') ?? '';
        const grantType = form.get('grant_type') ?? '';
        this.tokenRequests.push({ clientId, scope, grantType });
        if (grantType !== 'client_credentials' || this.apps.get(clientId) !== form.get('client_secret')) {
          return json(401, { error: 'invalid_client', error_description: 'AADSTS7000215: Invalid client secret provided.' });
        }
        const audience = scope.split(' ').find((s) => s.endsWith('/.default'))?.replace(/\/\.default$/, '') ?? scope;
        const accessToken = this.token({ iss: `https://sts.test.local/${tenant}/`, aud: audience, extra: { appid: clientId, tid: tenant } });
        return json(200, { token_type: 'Bearer', expires_in: 3600, ext_expires_in: 3600, access_token: accessToken });
      }
    }
    json(404, { error: 'not_found', path: url.pathname });
  }
}

/** Start a token issuer on loopback. */
export async function startTestTokenIssuer(): Promise<TestTokenIssuer> {
  return new TestTokenIssuer().start();
}
