#!/usr/bin/env node
// One-shot step of docker-compose.yml: writes the ClickHouse users.d files into the directory
// given as argument (a volume the ClickHouse container mounts read-only):
//   phi-audit.xml  phi_writer / phi_reader, rendered from deploy/clickhouse's template;
//   admin.xml      phi_admin (runs migrations) and `default` restricted to the container itself.
// Passwords come from CLICKHOUSE_ADMIN_PASSWORD / _WRITER_ / _READER_; only hashes are written.
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderClickHouseUsers } from '@phi-audit/store-clickhouse';

const dir = process.argv[2];
const missing = ['CLICKHOUSE_ADMIN_PASSWORD', 'CLICKHOUSE_WRITER_PASSWORD', 'CLICKHOUSE_READER_PASSWORD'].filter(
  (name) => !process.env[name],
);
if (!dir || missing.length > 0) {
  process.stderr.write(
    `usage: render-clickhouse-users.mjs <users.d dir>; missing: ${missing.join(', ') || 'directory'}\n`,
  );
  process.exit(2);
}
const sha256 = (text) => createHash('sha256').update(text, 'utf8').digest('hex');
const admin = `<?xml version="1.0"?>
<yandex>
    <users>
        <default>
            <networks replace="replace"><ip>::1</ip><ip>127.0.0.1</ip></networks>
        </default>
        <phi_admin>
            <password_sha256_hex>${sha256(process.env.CLICKHOUSE_ADMIN_PASSWORD)}</password_sha256_hex>
            <networks><ip>::/0</ip></networks>
            <profile>default</profile>
            <quota>default</quota>
        </phi_admin>
    </users>
</yandex>
`;
try {
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, 'phi-audit.xml'),
    renderClickHouseUsers({
      writerPassword: process.env.CLICKHOUSE_WRITER_PASSWORD,
      readerPassword: process.env.CLICKHOUSE_READER_PASSWORD,
      ...(process.env.CLICKHOUSE_DATABASE ? { database: process.env.CLICKHOUSE_DATABASE } : {}),
    }),
    { mode: 0o644 },
  );
  writeFileSync(join(dir, 'admin.xml'), admin, { mode: 0o644 });
  process.stderr.write(`wrote phi-audit.xml and admin.xml to ${dir}\n`);
} catch (error) {
  process.stderr.write(
    `cannot write the ClickHouse users: ${error instanceof Error ? error.message : String(error)}\n`,
  );
  process.exit(1);
}
