import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { renderClickHouseUsers } from './users-config.js';

const sha = (s: string) => createHash('sha256').update(s).digest('hex');

describe('renderClickHouseUsers', () => {
  it('fills every placeholder with hashes and names, never the passwords', () => {
    const xml = renderClickHouseUsers({ writerPassword: 'writer-secret-1', readerPassword: 'reader-secret-1' });
    expect(xml).not.toMatch(/\{\{|\}\}/);
    expect(xml).toContain(`<password_sha256_hex>${sha('writer-secret-1')}</password_sha256_hex>`);
    expect(xml).toContain(`<password_sha256_hex>${sha('reader-secret-1')}</password_sha256_hex>`);
    expect(xml).not.toContain('writer-secret-1');
    expect(xml).toMatch(/<phi_writer>\s*<password_sha256_hex>/);
    expect(xml).toMatch(/<phi_reader>\s*<password_sha256_hex>/);
    expect(xml).toContain('<database>phi_audit</database>');
    expect(xml.startsWith('<?xml')).toBe(true);
  });

  it('can name other users and database (isolated test servers)', () => {
    const xml = renderClickHouseUsers({
      writerPassword: 'a'.repeat(12),
      readerPassword: 'b'.repeat(12),
      database: 't_db',
      writerUser: 'w_1',
      readerUser: 'r_1',
    });
    expect(xml).toMatch(/<w_1>[\s\S]*<database>t_db<\/database>[\s\S]*<\/w_1>/);
    expect(xml).toMatch(/<r_1>[\s\S]*<\/r_1>/);
  });

  it('refuses short or control-character passwords and unsafe names', () => {
    const ok = { writerPassword: 'a'.repeat(12), readerPassword: 'b'.repeat(12) };
    for (const bad of [
      { ...ok, writerPassword: 'short' },
      { ...ok, readerPassword: `${'x'.repeat(12)}\n` },
      { ...ok, database: 'a-b' },
      { ...ok, writerUser: '<evil>' },
      { ...ok, readerUser: 'phi_writer' },
      { ...ok, templatePath: '/nonexistent/template.xml' },
    ]) {
      expect(() => renderClickHouseUsers(bad)).toThrow(expect.objectContaining({ code: 'STORE_USERS_TEMPLATE' }));
    }
  });
});
