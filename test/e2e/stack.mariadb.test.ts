import mysql from 'mysql2/promise';
import { describe, expect, it } from 'vitest';
import { stack } from '../support/stack.js';

describe('local stack: MariaDB', () => {
  it('accepts the Pulp Manager user over TCP and runs a query', async () => {
    const conn = await mysql.createConnection({ ...stack.mariadb });
    try {
      const [rows] = await conn.query<mysql.RowDataPacket[]>('SELECT VERSION() AS version, DATABASE() AS db');
      expect(rows[0]?.version).toMatch(/MariaDB/);
      expect(rows[0]?.db).toBe(stack.mariadb.database);
    } finally {
      await conn.end();
    }
  });
});
