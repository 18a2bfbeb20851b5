/**
 * Bot Framework authentication for Teams: who may call `POST /api/messages` (inbound JWT
 * validation) and how the bot gets its own token for the Bot Connector (outbound, via MSAL).
 */
import { ConfigurationBotFrameworkAuthentication, type Activity } from 'botbuilder';
import {
  AuthenticationConstants,
  AuthenticationError,
  MsalServiceClientCredentialsFactory,
  type AuthenticateRequestResult,
  type BotFrameworkAuthentication,
  type ServiceClientCredentialsFactory,
} from 'botframework-connector';
import type { Config } from '../../config.js';

/**
 * Test and sovereign-cloud overrides. Setting any of the endpoint fields switches botbuilder to
 * "parameterized" mode where every endpoint is taken literally, so the others are filled with the
 * public-cloud defaults here.
 */
export interface TeamsAuthOverrides {
  /** OpenID metadata document for inbound channel tokens (default: login.botframework.com). */
  openIdMetadataUrl?: string;
  /** Required `iss` of inbound channel tokens (default: https://api.botframework.com). */
  tokenIssuer?: string;
  /** Login URL for the bot's outbound token (default: https://login.microsoftonline.com/botframework.com). */
  loginUrl?: string;
  /** Scope of the bot's outbound token (default: https://api.botframework.com). */
  oAuthScope?: string;
  /**
   * An `@azure/msal-node` ConfidentialClientApplication for outbound tokens. MSAL refuses a login
   * host that is not in its `knownAuthorities`, so reaching a non-Microsoft token endpoint (tests,
   * private clouds) needs a client built with that host listed.
   */
  msalClient?: ConstructorParameters<typeof MsalServiceClientCredentialsFactory>[1];
  /** Or any credentials factory (takes precedence over `msalClient`). */
  credentialsFactory?: ServiceClientCredentialsFactory;
}

/** Build the Bot Framework authentication from config (plus overrides). */
export function createBotFrameworkAuthentication(config: Config, overrides: TeamsAuthOverrides = {}): BotFrameworkAuthentication {
  const base = {
    MicrosoftAppId: config.MICROSOFT_APP_ID ?? '',
    MicrosoftAppPassword: config.MICROSOFT_APP_PASSWORD ?? '',
    MicrosoftAppTenantId: config.MICROSOFT_APP_TENANT_ID ?? '',
    MicrosoftAppType: config.MICROSOFT_APP_TYPE,
  };
  const parameterized = overrides.openIdMetadataUrl || overrides.tokenIssuer || overrides.loginUrl || overrides.oAuthScope;
  const options = parameterized
    ? {
        ...base,
        ToBotFromChannelOpenIdMetadataUrl: overrides.openIdMetadataUrl ?? AuthenticationConstants.ToBotFromChannelOpenIdMetadataUrl,
        ToBotFromChannelTokenIssuer: overrides.tokenIssuer ?? AuthenticationConstants.ToBotFromChannelTokenIssuer,
        ToBotFromEmulatorOpenIdMetadataUrl: AuthenticationConstants.ToBotFromEmulatorOpenIdMetadataUrl,
        ToChannelFromBotLoginUrl: overrides.loginUrl ?? AuthenticationConstants.ToChannelFromBotLoginUrl,
        ToChannelFromBotOAuthScope: overrides.oAuthScope ?? AuthenticationConstants.ToChannelFromBotOAuthScope,
        OAuthUrl: AuthenticationConstants.OAuthUrl,
        CallerId: 'urn:botframework:azure',
        ValidateAuthority: true,
      }
    : base;
  const credentialsFactory =
    overrides.credentialsFactory ??
    (overrides.msalClient && config.MICROSOFT_APP_ID ? new MsalServiceClientCredentialsFactory(config.MICROSOFT_APP_ID, overrides.msalClient) : undefined);
  return new ConfigurationBotFrameworkAuthentication(options, credentialsFactory);
}

/** The outcome of checking an inbound request. */
export type InboundAuthResult =
  | { ok: true; result: AuthenticateRequestResult }
  | { ok: false; status: 401 | 503; reason: string };

/**
 * Validate the `Authorization` header of an inbound activity before anything else runs.
 *
 * Why not let `CloudAdapter.process` do it: some bad tokens (forged signature, `alg: none`,
 * HS256 signed with the public key, not yet valid) make `jsonwebtoken` throw plain errors that
 * the adapter answers with 500. Every authentication failure must be a 401, so we call the same
 * validation ourselves and map everything it throws. Only a failure to load the OpenID metadata
 * (our side cannot check anything) is a 503.
 */
export async function authenticateInbound(auth: BotFrameworkAuthentication, activity: Activity, authHeader: string): Promise<InboundAuthResult> {
  const refused = authHeader ? precheck(authHeader) : null;
  if (refused) return { ok: false, status: 401, reason: refused };
  try {
    const result = await auth.authenticateRequest(activity, authHeader);
    if (!result.claimsIdentity?.isAuthenticated && authHeader) return { ok: false, status: 401, reason: 'not authenticated' };
    return { ok: true, result };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    if (error instanceof AuthenticationError && error.statusCode >= 500 && /Failed to load/i.test(message)) {
      return { ok: false, status: 503, reason: message };
    }
    return { ok: false, status: 401, reason: message };
  }
}

/** Signing algorithms the Bot Framework uses (what the SDK accepts too). */
const ALLOWED_ALGORITHMS = new Set(['RS256', 'RS384', 'RS512']);
/** The SDK's clock tolerance for `exp` / `nbf`. */
const CLOCK_TOLERANCE_S = 300;

/**
 * Cheap structural checks before the SDK sees a token: the scheme, the JWT shape, an allowed
 * algorithm with a key id, and the validity window. Why: the SDK validates all of this too, but
 * writes each failure to stderr (including its key material for a bad signature), so refusing the
 * obviously wrong tokens here keeps junk traffic out of the process's output. Returns the reason
 * to refuse, or null to let the SDK do the full validation (signature, issuer, audience, service URL).
 */
export function precheck(authHeader: string, nowSeconds = Date.now() / 1000): string | null {
  const match = /^Bearer ([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]*)$/.exec(authHeader.trim());
  if (!match) return 'not a bearer JWT';
  try {
    const header = JSON.parse(Buffer.from(match[1]!, 'base64url').toString('utf8')) as { alg?: unknown; kid?: unknown };
    const payload = JSON.parse(Buffer.from(match[2]!, 'base64url').toString('utf8')) as { exp?: unknown; nbf?: unknown };
    if (typeof header.alg !== 'string' || !ALLOWED_ALGORITHMS.has(header.alg)) return 'signing algorithm not allowed';
    if (typeof header.kid !== 'string' || !header.kid) return 'no key id';
    if (!match[3]) return 'unsigned';
    if (typeof payload.exp !== 'number' || payload.exp + CLOCK_TOLERANCE_S < nowSeconds) return 'expired';
    if (typeof payload.nbf === 'number' && payload.nbf - CLOCK_TOLERANCE_S > nowSeconds) return 'not yet valid';
    return null;
  } catch {
    return 'malformed token';
  }
}
