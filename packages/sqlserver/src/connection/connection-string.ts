import { InvalidArgumentError } from '@floworch/core';

/** Connection settings parsed from an ADO-style or `mssql://` connection string. */
export interface SqlServerConnectionOptions {
  /** Host name or address. */
  readonly server: string;
  /** TCP port (default 1433; absent when a named instance is used). */
  readonly port: number | undefined;
  /** Named instance (`host\INSTANCE`), resolved through the SQL Browser service. */
  readonly instanceName: string | undefined;
  /** Database name (default: the login's default database). */
  readonly database: string | undefined;
  /** SQL login name. */
  readonly user: string;
  /** SQL login password. */
  readonly password: string;
  /** Encrypt the connection (default true, as in current Microsoft drivers). */
  readonly encrypt: boolean;
  /** Accept a self-signed server certificate (default false). */
  readonly trustServerCertificate: boolean;
  /** Connect timeout in ms (default 15 000). */
  readonly connectTimeoutMs: number;
  /** Per-request timeout in ms (default 30 000; 0 = none). */
  readonly requestTimeoutMs: number;
  /** Application name reported to the server. */
  readonly appName: string;
}

const DEFAULT_PORT = 1433;

/** Fails with a message that names the problem but never the password. */
function fail(problem: string): never {
  throw new InvalidArgumentError('SQL Server connection string', problem);
}

/** Splits `Key=Value;…` honouring `"…"`, `'…'` and `{…}` quoting (doubled quote = literal quote). */
function splitAdoPairs(text: string): Array<[string, string]> {
  const pairs: Array<[string, string]> = [];
  let i = 0;
  while (i < text.length) {
    while (i < text.length && (text[i] === ';' || /\s/.test(text[i]!))) i++;
    if (i >= text.length) break;
    const eq = text.indexOf('=', i);
    const semi = text.indexOf(';', i);
    // A segment ends at ';': an '=' further on belongs to the next key.
    if (eq < 0 || (semi >= 0 && semi < eq))
      fail(`segment '${text.slice(i).split(';')[0]!.trim()}' has no '='`);
    const key = text.slice(i, eq).trim();
    if (key === '') fail('a segment has an empty key before "="');
    i = eq + 1;
    while (i < text.length && text[i] === ' ') i++;
    const open = text[i];
    let value = '';
    if (open === '"' || open === "'" || open === '{') {
      const close = open === '{' ? '}' : open;
      i++;
      for (;;) {
        if (i >= text.length) fail(`the value of '${key}' has an unterminated ${open} quote`);
        if (text[i] === close) {
          if (text[i + 1] === close) {
            value += close;
            i += 2;
            continue;
          }
          i++;
          break;
        }
        value += text[i];
        i++;
      }
      while (i < text.length && text[i] === ' ') i++;
      if (i < text.length && text[i] !== ';') fail(`unexpected text after the quoted value of '${key}'`);
    } else {
      const end = text.indexOf(';', i);
      value = (end < 0 ? text.slice(i) : text.slice(i, end)).trim();
      i = end < 0 ? text.length : end;
    }
    pairs.push([key, value]);
  }
  return pairs;
}

function parseBool(key: string, value: string): boolean {
  const v = value.trim().toLowerCase();
  if (v === 'true' || v === 'yes' || v === '1' || v === 'mandatory' || v === 'strict' || v === 'sspi')
    return true;
  if (v === 'false' || v === 'no' || v === '0' || v === 'optional') return false;
  return fail(`'${key}' must be true or false, got '${value}'`);
}

function parsePort(value: string): number {
  if (!/^\d+$/.test(value)) fail(`port '${value}' is not a number`);
  const port = Number(value);
  if (port < 1 || port > 65_535) fail(`port ${port} is outside 1-65535`);
  return port;
}

function parseSeconds(key: string, value: string): number {
  if (!/^\d+$/.test(value.trim())) fail(`'${key}' must be a whole number of seconds, got '${value}'`);
  return Number(value.trim()) * 1000;
}

/** `host`, `host,port`, `tcp:host,port`, `host\instance`, `[::1],1433`. */
function parseServer(raw: string): Pick<SqlServerConnectionOptions, 'server' | 'port' | 'instanceName'> {
  let text = raw.trim().replace(/^tcp:/i, '');
  if (text === '') fail("'Server' is empty");
  let port: number | undefined;
  const comma = text.lastIndexOf(',');
  if (comma >= 0) {
    port = parsePort(text.slice(comma + 1).trim());
    text = text.slice(0, comma).trim();
  }
  let instanceName: string | undefined;
  const slash = text.indexOf('\\');
  if (slash >= 0) {
    instanceName = text.slice(slash + 1).trim() || undefined;
    text = text.slice(0, slash).trim();
  }
  if (text.startsWith('[') && text.endsWith(']')) text = text.slice(1, -1);
  if (text === '.' || text === '(local)') text = 'localhost';
  if (text === '') fail("'Server' has no host name");
  if (instanceName && port !== undefined) fail("'Server' names both an instance and a port; use one");
  return { server: text, port: instanceName ? undefined : (port ?? DEFAULT_PORT), instanceName };
}

const ADO_KEYS: Record<string, string> = {
  server: 'server',
  'data source': 'server',
  address: 'server',
  addr: 'server',
  'network address': 'server',
  database: 'database',
  'initial catalog': 'database',
  'user id': 'user',
  uid: 'user',
  user: 'user',
  username: 'user',
  password: 'password',
  pwd: 'password',
  encrypt: 'encrypt',
  trustservercertificate: 'trustServerCertificate',
  'trust server certificate': 'trustServerCertificate',
  'connect timeout': 'connectTimeout',
  'connection timeout': 'connectTimeout',
  timeout: 'connectTimeout',
  'command timeout': 'requestTimeout',
  'application name': 'appName',
  app: 'appName',
  'integrated security': 'integrated',
  trusted_connection: 'integrated',
  // Accepted and ignored: they describe .NET pooling or features this backend does not use.
  multipleactiveresultsets: 'ignore',
  'persist security info': 'ignore',
  pooling: 'ignore',
  'max pool size': 'ignore',
  'min pool size': 'ignore',
  'application intent': 'ignore',
  'multi subnet failover': 'ignore',
  multisubnetfailover: 'ignore',
};

function parseAdo(text: string): SqlServerConnectionOptions {
  const values = new Map<string, string>();
  for (const [rawKey, value] of splitAdoPairs(text)) {
    const key = rawKey.toLowerCase().replace(/\s+/g, ' ');
    const mapped = ADO_KEYS[key];
    if (mapped === undefined) fail(`unknown key '${rawKey}'`);
    if (mapped === 'ignore') continue;
    if (mapped === 'integrated' && parseBool(rawKey, value)) {
      fail('integrated security is not supported; use a SQL login (User Id / Password)');
    }
    if (mapped === 'integrated') continue;
    values.set(mapped, value);
  }
  const server = values.get('server');
  if (server === undefined) fail("'Server' (or 'Data Source') is missing");
  const user = values.get('user');
  if (!user) fail("'User Id' is missing (SQL authentication is required)");
  const password = values.get('password');
  if (password === undefined) fail("'Password' is missing");
  return {
    ...parseServer(server),
    database: values.get('database') || undefined,
    user,
    password,
    encrypt: values.has('encrypt') ? parseBool('Encrypt', values.get('encrypt')!) : true,
    trustServerCertificate: values.has('trustServerCertificate')
      ? parseBool('TrustServerCertificate', values.get('trustServerCertificate')!)
      : false,
    connectTimeoutMs: values.has('connectTimeout')
      ? parseSeconds('Connect Timeout', values.get('connectTimeout')!)
      : 15_000,
    requestTimeoutMs: values.has('requestTimeout')
      ? parseSeconds('Command Timeout', values.get('requestTimeout')!)
      : 30_000,
    appName: values.get('appName') || 'floworch',
  };
}

function decode(part: string, what: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    return fail(`the ${what} in the URL is not valid percent-encoding`);
  }
}

function parseUrl(text: string): SqlServerConnectionOptions {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    // Do not echo the string: it may contain the password.
    return fail('the mssql:// URL is malformed (expected mssql://user:password@host:1433/database)');
  }
  if (!url.hostname) fail('the URL has no host');
  const user = decode(url.username, 'user name');
  if (!user) fail('the URL has no user name (mssql://user:password@host/db)');
  const password = decode(url.password, 'password');
  const path = url.pathname.replace(/^\/+/, '');
  const [databasePart, instancePart] = path.split('/');
  const params = new Map<string, string>();
  for (const [k, v] of url.searchParams) params.set(k.toLowerCase(), v);
  const known = new Set([
    'encrypt',
    'trustservercertificate',
    'connecttimeout',
    'requesttimeout',
    'appname',
    'instancename',
  ]);
  for (const key of params.keys()) if (!known.has(key)) fail(`unknown URL parameter '${key}'`);
  const instanceName =
    params.get('instancename') || (instancePart ? decode(instancePart, 'instance') : undefined);
  if (instanceName && url.port) fail('the URL names both an instance and a port; use one');
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  return {
    server: host,
    port: instanceName ? undefined : url.port ? parsePort(url.port) : DEFAULT_PORT,
    instanceName: instanceName || undefined,
    database: databasePart ? decode(databasePart, 'database name') : undefined,
    user,
    password,
    encrypt: params.has('encrypt') ? parseBool('encrypt', params.get('encrypt')!) : true,
    trustServerCertificate: params.has('trustservercertificate')
      ? parseBool('trustServerCertificate', params.get('trustservercertificate')!)
      : false,
    connectTimeoutMs: params.has('connecttimeout')
      ? parseSeconds('connectTimeout', params.get('connecttimeout')!)
      : 15_000,
    requestTimeoutMs: params.has('requesttimeout')
      ? parseSeconds('requestTimeout', params.get('requesttimeout')!)
      : 30_000,
    appName: params.get('appname') || 'floworch',
  };
}

/**
 * Parses a SQL Server connection string in either form:
 * - ADO style: `Server=host,1433;Database=app;User Id=sa;Password=…;Encrypt=true;TrustServerCertificate=true`
 *   (values may be quoted with `"…"`, `'…'` or `{…}`; a doubled quote is a literal quote);
 * - URL: `mssql://user:pass@host:1433/db?encrypt=true&trustServerCertificate=true`
 *   (`sqlserver://` is accepted too; percent-encode special characters).
 *
 * @throws InvalidArgumentError naming the problem (the password is never echoed)
 */
export function parseConnectionString(connectionString: string): SqlServerConnectionOptions {
  if (typeof connectionString !== 'string' || connectionString.trim() === '') {
    fail('it is empty');
  }
  const text = connectionString.trim();
  if (/^(mssql|sqlserver):\/\//i.test(text)) return parseUrl(text);
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) {
    fail(`unsupported URL scheme '${text.slice(0, text.indexOf(':'))}' (use mssql://)`);
  }
  return parseAdo(text);
}
