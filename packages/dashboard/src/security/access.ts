import { createHash, timingSafeEqual } from 'node:crypto';

/** A Basic-auth account. */
export interface BasicCredentials {
  /** User name. */
  readonly username: string;
  /** Password. */
  readonly password: string;
}

/** Who may use the dashboard. */
export interface DashboardAuthOptions {
  /** Basic-auth accounts (compared in constant time). */
  readonly basic?: BasicCredentials | readonly BasicCredentials[];
  /**
   * Your own check (a session cookie, a header set by your gateway, …): return true to let the
   * request through. Tried after Basic auth; a request passes when either accepts it.
   */
  readonly authorize?: (request: Request) => boolean | Promise<boolean>;
}

/** The decision for one request. */
export type AccessDecision =
  | { readonly allowed: true }
  | {
      readonly allowed: false;
      readonly status: 401 | 403;
      readonly reason: string;
      readonly challenge: boolean;
    };

const digest = (text: string): Buffer => createHash('sha256').update(text, 'utf8').digest();

/** Constant-time string comparison (hashes first, so lengths leak nothing either). */
export function constantTimeEquals(a: string, b: string): boolean {
  return timingSafeEqual(digest(a), digest(b));
}

/** The user and password of a `Basic` Authorization header, or null. */
export function parseBasic(header: string | undefined): BasicCredentials | null {
  if (!header) return null;
  const match = /^Basic\s+([A-Za-z0-9+/=._~-]+)\s*$/i.exec(header);
  if (!match) return null;
  const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return null;
  return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

/** True for 127.0.0.0/8, ::1 and IPv4-mapped loopback. */
export function isLoopback(address: string | null | undefined): boolean {
  if (!address) return false;
  const a = address.toLowerCase().replace(/^::ffff:/, '');
  return a === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(a);
}

/**
 * Decides access to a dashboard route. `auth === false` lets everything through; with Basic
 * accounts or an `authorize` hook a request passes when either accepts it; with neither (the
 * default) only loopback addresses are served.
 */
export async function decideAccess(
  auth: DashboardAuthOptions | false | undefined,
  request: Request,
  remoteAddress: string | null,
): Promise<AccessDecision> {
  if (auth === false) return { allowed: true };
  const accounts = auth?.basic ? ([] as BasicCredentials[]).concat(auth.basic as BasicCredentials) : [];
  if (accounts.length === 0 && !auth?.authorize) {
    if (isLoopback(remoteAddress)) return { allowed: true };
    return {
      allowed: false,
      status: 403,
      reason: 'Authentication is not configured: the dashboard serves localhost only.',
      challenge: false,
    };
  }
  if (accounts.length > 0) {
    const given = parseBasic(request.headers.get('authorization') ?? undefined);
    if (given) {
      // Compare against every account so the time taken does not reveal which user exists.
      let ok = false;
      for (const account of accounts) {
        const user = constantTimeEquals(given.username, account.username);
        const pass = constantTimeEquals(given.password, account.password);
        ok = (user && pass) || ok;
      }
      if (ok) return { allowed: true };
    }
  }
  if (auth?.authorize && (await auth.authorize(request))) return { allowed: true };
  return {
    allowed: false,
    status: 401,
    reason: 'Authentication required.',
    challenge: accounts.length > 0,
  };
}

/**
 * The CSRF rule for mutating requests: a browser request must come from the dashboard's own
 * host (or an origin listed in `allowedOrigins`). `Origin` is checked when present, else
 * `Sec-Fetch-Site`; requests that carry neither do not come from a browser page (curl, scripts)
 * and pass.
 */
export function sameOriginAllowed(request: Request, allowedOrigins: readonly string[]): boolean {
  const origin = request.headers.get('origin');
  if (origin !== null) {
    if (allowedOrigins.includes(origin)) return true;
    // Host, not scheme: behind a TLS-terminating proxy the request URL says http.
    try {
      return new URL(origin).host === new URL(request.url).host;
    } catch {
      return false; // `null` (sandboxed pages, file://) and garbage
    }
  }
  const site = request.headers.get('sec-fetch-site');
  if (site !== null) return site === 'same-origin' || site === 'none';
  return true;
}
