import { InvalidArgumentError } from '@floworch/core';
import { describe, expect, it } from 'vitest';
import { parseConnectionString } from '../src/connection/connection-string.js';
import { toTediousConfig } from '../src/connection/dialect.js';

describe('connection strings: ADO style', () => {
  it('parses the testcontainers / docs form', () => {
    const o = parseConnectionString(
      'Server=localhost,1433;Database=flows;User Id=sa;Password=Str0ng!Pass;Encrypt=false',
    );
    expect(o).toMatchObject({
      server: 'localhost',
      port: 1433,
      instanceName: undefined,
      database: 'flows',
      user: 'sa',
      password: 'Str0ng!Pass',
      encrypt: false,
      trustServerCertificate: false,
    });
  });

  it('accepts synonyms, any key case, extra spaces, a trailing ; and ignored .NET pool keys', () => {
    const o = parseConnectionString(
      ' data source = tcp:db.example.com,14330 ; INITIAL CATALOG=app;UID=svc;PWD=p;TrustServerCertificate=yes;Pooling=true;MultipleActiveResultSets=True; ',
    );
    expect(o).toMatchObject({
      server: 'db.example.com',
      port: 14330,
      database: 'app',
      user: 'svc',
      password: 'p',
    });
    expect(o.trustServerCertificate).toBe(true);
    expect(o.encrypt).toBe(true);
  });

  it('keeps ; and = inside quoted values; a doubled quote is a literal quote', () => {
    expect(parseConnectionString('Server=h;User Id=u;Password="a;b=c"').password).toBe('a;b=c');
    expect(parseConnectionString("Server=h;User Id=u;Password='it''s'").password).toBe("it's");
    expect(parseConnectionString('Server=h;User Id=u;Password={x}}y}').password).toBe('x}y');
  });

  it('named instances, local aliases and timeouts', () => {
    const o = parseConnectionString(
      'Server=.\\SQLEXPRESS;User Id=u;Password=p;Connect Timeout=5;Command Timeout=0',
    );
    expect(o).toMatchObject({ server: 'localhost', instanceName: 'SQLEXPRESS', port: undefined });
    expect(o.connectTimeoutMs).toBe(5000);
    expect(o.requestTimeoutMs).toBe(0);
    expect(parseConnectionString('Server=(local);User Id=u;Password=p').port).toBe(1433);
  });

  it.each([
    ['', /empty/],
    ['Database=x;User Id=u;Password=p', /'Server'.*missing/],
    ['Server=h;Password=p', /'User Id' is missing/],
    ['Server=h;User Id=u', /'Password' is missing/],
    ['Server=h;User Id=u;Password=p;Bogus=1', /unknown key 'Bogus'/],
    ['Server=h,notaport;User Id=u;Password=p', /port 'notaport'/],
    ['Server=h,70000;User Id=u;Password=p', /outside 1-65535/],
    ['Server=h;User Id=u;Password=p;Encrypt=maybe', /'Encrypt' must be true or false/],
    ['Server=h;User Id=u;Password="unterminated', /unterminated/],
    ['Server=h;Integrated Security=true', /integrated security is not supported/],
    ['Server h;User Id=u', /has no '='/],
    ['Server=h\\inst,1433;User Id=u;Password=p', /both an instance and a port/],
  ])('rejects %j with a clear InvalidArgumentError', (text, message) => {
    expect(() => parseConnectionString(text)).toThrow(InvalidArgumentError);
    expect(() => parseConnectionString(text)).toThrow(message);
  });

  it('never echoes the password in an error', () => {
    try {
      parseConnectionString('Server=h;User Id=u;Password=SuperSecret99;Nope=1');
      expect.unreachable();
    } catch (error) {
      expect((error as Error).message).not.toContain('SuperSecret99');
    }
  });
});

describe('connection strings: mssql:// URLs', () => {
  it('parses user, password, host, port, database and options', () => {
    const o = parseConnectionString(
      'mssql://sa:p%40ss%3Bword@db:14331/flows?encrypt=false&trustServerCertificate=true',
    );
    expect(o).toMatchObject({
      server: 'db',
      port: 14331,
      database: 'flows',
      user: 'sa',
      password: 'p@ss;word',
      encrypt: false,
      trustServerCertificate: true,
    });
  });

  it('defaults the port to 1433, accepts sqlserver:// and a named instance path', () => {
    expect(parseConnectionString('sqlserver://u:p@h/db').port).toBe(1433);
    expect(parseConnectionString('mssql://u:p@h/db/INST')).toMatchObject({
      instanceName: 'INST',
      port: undefined,
    });
  });

  it.each([
    ['mssql://', /malformed|no host/],
    ['mssql://h/db', /no user name/],
    ['mssql://u:p@h/db?poolSize=3', /unknown URL parameter 'poolsize'/],
    ['postgres://u:p@h/db', /unsupported URL scheme 'postgres'/],
    ['mssql://u:p@h:1433/db/INST', /both an instance and a port/],
  ])('rejects %j with a clear InvalidArgumentError', (text, message) => {
    expect(() => parseConnectionString(text)).toThrow(InvalidArgumentError);
    expect(() => parseConnectionString(text)).toThrow(message);
  });
});

describe('tedious configuration', () => {
  it('maps the parsed options, with READ COMMITTED and UTC', () => {
    const config = toTediousConfig(
      parseConnectionString('Server=h,1500;Database=d;User Id=u;Password=p;Encrypt=false'),
    );
    expect(config.server).toBe('h');
    expect(config.authentication).toEqual({ type: 'default', options: { userName: 'u', password: 'p' } });
    expect(config.options).toMatchObject({ port: 1500, database: 'd', encrypt: false, useUTC: true });
    expect(config.options?.connectionIsolationLevel).toBeDefined();
  });
});
