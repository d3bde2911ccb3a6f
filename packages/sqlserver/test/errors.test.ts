import { InvalidArgumentError, StorageError } from '@floworch/core';
import { describe, expect, it } from 'vitest';
import { translateSqlServerError } from '../src/connection/errors.js';

describe('translateSqlServerError', () => {
  it('maps a value too long for its column to InvalidArgumentError', () => {
    const error = Object.assign(new Error('String or binary data would be truncated'), { number: 2628 });
    expect(translateSqlServerError(error, 'runs.startRun')).toBeInstanceOf(InvalidArgumentError);
  });

  it('maps a lost connection and a rejected login to the shared codes', () => {
    const lost = translateSqlServerError(
      Object.assign(new Error('socket closed'), { code: 'ESOCKET' }),
      'ping',
    );
    expect(lost).toBeInstanceOf(StorageError);
    expect(lost).toMatchObject({ code: 'STORAGE_UNREACHABLE' });
    expect(
      translateSqlServerError(Object.assign(new Error('Login failed'), { code: 'ELOGIN' }), 'ping'),
    ).toMatchObject({ code: 'STORAGE_AUTH_FAILED' });
  });

  it('leaves everything else to the guard', () => {
    expect(
      translateSqlServerError(Object.assign(new Error('deadlock'), { number: 1205 }), 'x'),
    ).toBeUndefined();
    expect(translateSqlServerError('weird', 'x')).toBeUndefined();
  });
});
