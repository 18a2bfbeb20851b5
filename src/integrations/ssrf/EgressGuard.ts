/**
 * Outbound-request guard against SSRF. The check that matters happens at connect time, inside
 * the http/https Agent: every address a DNS lookup returns is checked before the socket connects
 * (so a name that resolves to a public address for a pre-check and to 127.0.0.1 a moment later
 * still fails), and a host that is an IP literal, which Node connects to without any lookup, is
 * checked in `createConnection`. `assertUrl` repeats the literal check up front for a clear error
 * before any I/O. Redirects are never followed by the callers (maxRedirects 0).
 */
import dns from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import type net from 'node:net';
import type { Duplex } from 'node:stream';
import { BlockedDestinationError, UserError } from '../../engine/errors.js';
import { checkAddress, parseAllowList, parseIpLiteral, type AllowList } from './address-policy.js';

/** Marker error raised inside the socket layer; mapped to `BlockedDestinationError` by callers. */
export class BlockedConnectError extends Error {
  readonly code = 'ERR_BLOCKED_DESTINATION';
  constructor(
    readonly host: string,
    readonly address: string,
    readonly reason: string,
  ) {
    super(`blocked destination: ${host} resolves to ${address} (${reason})`);
    this.name = 'BlockedConnectError';
  }
}

/** Raised when the TCP connection is not established within the connect timeout. */
export class ConnectTimeoutError extends Error {
  readonly code = 'ERR_CONNECT_TIMEOUT';
  constructor(host: string, ms: number) {
    super(`connect to ${host} timed out after ${ms} ms`);
    this.name = 'ConnectTimeoutError';
  }
}

export interface EgressGuardOptions {
  /** CIDRs, IP addresses and exact host names that may be reached even though they are internal. */
  allowList?: readonly string[];
  /** DNS lookup to use (tests inject a resolver); defaults to `dns.lookup`. */
  lookup?: net.LookupFunction;
  /** TCP connect timeout in ms (default 5000). */
  connectTimeoutMs?: number;
}

type ConnectCallback = (err: Error | null, stream: Duplex) => void;

/**
 * Connection reuse per host. An idle socket closes after `idleMs`, under the 5 s idle timeout of
 * common servers (Node's included), so a request rarely lands on a socket the server is closing.
 */
const KEEP_ALIVE = { maxSockets: 32, maxFreeSockets: 8, idleMs: 4000 } as const;

/** Builds the guarded agents and the up-front URL check from one allow-list. */
export class EgressGuard {
  readonly allow: AllowList;
  readonly httpAgent: http.Agent;
  readonly httpsAgent: https.Agent;
  private readonly baseLookup: net.LookupFunction;
  private readonly connectTimeoutMs: number;

  constructor(options: EgressGuardOptions = {}) {
    this.allow = parseAllowList(options.allowList ?? []);
    this.baseLookup = options.lookup ?? (dns.lookup as unknown as net.LookupFunction);
    this.connectTimeoutMs = options.connectTimeoutMs ?? 5000;
    const lookup = this.lookup;
    const connect = this.connect;
    // Keep-alive is safe here: every new socket is still checked in `lookup`/`createConnection`, a
    // reused socket stays connected to the address that passed (no new lookup, so no rebinding),
    // and sockets are pooled per host name, the key the allow-list decides on.
    const pooling = { keepAlive: true, maxSockets: KEEP_ALIVE.maxSockets, maxFreeSockets: KEEP_ALIVE.maxFreeSockets, timeout: KEEP_ALIVE.idleMs };
    this.httpAgent = new (class extends http.Agent {
      override createConnection(opts: http.ClientRequestArgs, cb?: ConnectCallback): Duplex | null | undefined {
        return connect(opts, cb, (o, c) => super.createConnection(o, c));
      }
    })({ ...pooling, lookup } as http.AgentOptions);
    this.httpsAgent = new (class extends https.Agent {
      override createConnection(opts: https.RequestOptions, cb?: ConnectCallback): Duplex | null | undefined {
        return connect(opts, cb, (o, c) => super.createConnection(o, c));
      }
    })({ ...pooling, lookup } as https.AgentOptions);
  }

  /** A `dns.lookup`-compatible function that refuses forbidden answers (all of them are checked). */
  readonly lookup: net.LookupFunction = (hostname, options, callback) => {
    this.baseLookup(hostname, { ...options, all: true }, (err, addresses, family) => {
      if (err) return callback(err, '', 0);
      const list: Array<{ address: string; family: number }> = Array.isArray(addresses)
        ? addresses
        : [{ address: addresses, family: family ?? 4 }];
      if (list.length === 0) return callback(Object.assign(new Error(`no address for ${hostname}`), { code: 'ENOTFOUND' }), '', 0);
      for (const entry of list) {
        const verdict = checkAddress(entry.address, hostname, this.allow);
        if (!verdict.ok) return callback(new BlockedConnectError(hostname, entry.address, verdict.reason), '', 0);
      }
      if (options.all) return callback(null, list);
      const first = list[0]!;
      callback(null, first.address, first.family);
    });
  };

  private readonly connect = (
    opts: http.ClientRequestArgs,
    cb: ConnectCallback | undefined,
    create: (o: http.ClientRequestArgs, c?: ConnectCallback) => Duplex | null | undefined,
  ): Duplex | null | undefined => {
    const host = String(opts.host ?? opts.hostname ?? 'localhost');
    const literal = parseIpLiteral(host);
    if (literal) {
      const verdict = checkAddress(literal.toString(), host, this.allow);
      if (!verdict.ok) {
        const error = new BlockedConnectError(host, literal.toString(), verdict.reason);
        process.nextTick(() => cb?.(error, undefined as unknown as Duplex));
        return undefined;
      }
    }
    const socket = create({ ...opts, lookup: this.lookup } as http.ClientRequestArgs, cb);
    if (socket) {
      const timer = setTimeout(() => socket.destroy(new ConnectTimeoutError(host, this.connectTimeoutMs)), this.connectTimeoutMs);
      timer.unref();
      const clear = () => clearTimeout(timer);
      socket.once('connect', clear);
      socket.once('close', clear);
      socket.once('error', clear);
    }
    return socket;
  };

  /**
   * Up-front check of a URL: http(s) only, and an IP-literal host (every spelling) must be allowed.
   * Host names are checked again at connect time on every resolved address.
   * @throws UserError for a malformed URL or another scheme, BlockedDestinationError for a forbidden literal.
   */
  assertUrl(raw: string): URL {
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      throw new UserError('invalid URL');
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UserError(`unsupported URL scheme ${url.protocol} (only http and https)`);
    const literal = parseIpLiteral(url.hostname);
    if (literal) {
      const verdict = checkAddress(literal.toString(), url.hostname, this.allow);
      if (!verdict.ok) throw new BlockedDestinationError(`blocked destination: ${url.host} is ${literal.toString()} (${verdict.reason}); add it to WEBHOOK_ALLOWLIST if it is an intended internal target`);
    }
    return url;
  }
}

/** Finds a `BlockedConnectError` in an error's cause chain (axios and fetch wrap socket errors). */
export function findBlockedCause(error: unknown): BlockedConnectError | null {
  let current: unknown = error;
  for (let depth = 0; depth < 6 && current; depth++) {
    if (current instanceof BlockedConnectError) return current;
    if (typeof current === 'object' && current !== null && (current as { code?: unknown }).code === 'ERR_BLOCKED_DESTINATION') return current as BlockedConnectError;
    current = (current as { cause?: unknown }).cause;
  }
  return null;
}

/** Turns a socket-level block into the engine's error, with advice on the allow-list. */
export function toBlockedDestinationError(blocked: BlockedConnectError): BlockedDestinationError {
  return new BlockedDestinationError(`${blocked.message}; add it to WEBHOOK_ALLOWLIST if it is an intended internal target`);
}
