/**
 * `--store` of the mock as a service: the option (and the config file's "store") parsed and refused
 * with the field named; a Redis that cannot be reached at start is a one-line error and exit 2, its
 * password never shown; replicas on one store agree on what each would otherwise make up (the admin
 * token, a --client's secret); SIGTERM closes the store's connection and exits 0.
 *
 * The tests that need redis-server are skipped without it, saying so, except in CI (CI=true).
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createClient } from 'redis';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { parseServiceConfig, ServiceConfigError } from '../service/config.ts';
import { parseStoreOption } from '../service/store-option.ts';
import { freePortForTest, redisSkipReason, startRedis, type RunningRedis } from './redis-server.ts';
import { runService, startReplica, stopReplica, terminateReplica, type Replica } from './replica-processes.ts';

const skip = await redisSkipReason();
if (skip) console.warn(`--store redis service tests skipped: ${skip}`);

describe('--store: the option', () => {
  test('memory, or redis://HOST:PORT/DB with the port and database defaulted', () => {
    expect(parseStoreOption('memory', '--store')).toEqual({ kind: 'memory' });
    expect(parseStoreOption('redis://127.0.0.1:6380/2', '--store')).toEqual({ kind: 'redis', url: 'redis://127.0.0.1:6380/2', display: 'redis://127.0.0.1:6380/2', host: '127.0.0.1', port: 6380, db: 2 });
    expect(parseStoreOption('redis://cache.internal', '--store')).toMatchObject({ host: 'cache.internal', port: 6379, db: 0 });
    expect(parseStoreOption('redis://[::1]:6379/0', '--store')).toMatchObject({ host: '::1', port: 6379 });
  });

  test('a password is kept for the client and never displayed', () => {
    const o = parseStoreOption('redis://default:s3cret-pw@127.0.0.1:6379/0', '--store');
    expect(o).toMatchObject({ kind: 'redis', url: 'redis://default:s3cret-pw@127.0.0.1:6379/0', display: 'redis://default:***@127.0.0.1:6379/0' });
    expect(parseStoreOption('redis://:s3cret-pw@127.0.0.1', '--store')).toMatchObject({ display: 'redis://:***@127.0.0.1' });
  });

  test.each([
    ['redis-cluster', /expected "memory" or redis:\/\/HOST:PORT\/DB, got "redis-cluster"/],
    ['http://127.0.0.1:6379', /got a http: URL/],
    ['redis://127.0.0.1:6379/zero', /the database is a number/],
    ['redis://127.0.0.1:6379/0?tls=1', /no query or fragment/],
    ['redis://:pw@', /expected "memory"|needs a host/],
  ])('%s is refused, naming where it came from', (value, message) => {
    expect(() => parseStoreOption(value, 'idp.json store')).toThrow(ServiceConfigError);
    expect(() => parseStoreOption(value, 'idp.json store')).toThrow(/^idp\.json store: /);
    expect(() => parseStoreOption(value, 'idp.json store')).toThrow(message);
  });

  test('the config file may name the store', () => {
    expect(parseServiceConfig({ store: 'redis://127.0.0.1:6379/0' }, 'idp.json').store).toBe('redis://127.0.0.1:6379/0');
    expect(parseServiceConfig({}, 'idp.json').store).toBeUndefined();
  });
});

describe('--store: the service', () => {
  test('--help documents it', async () => {
    const r = await runService(['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/--store memory\|redis:\/\/HOST:PORT\/DB/);
    expect(r.stdout).toMatch(/Redis unreachable at start: exit 2/);
  }, 60_000);

  test('a Redis that cannot be reached at start: one line on stderr, exit 2, no password shown', async () => {
    const port = await freePortForTest();
    const r = await runService(['--port', '0', '--issuer', 'http://127.0.0.1:4455', '--store', `redis://:pw-not-shown@127.0.0.1:${port}/0`]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n'), r.stderr).toHaveLength(1);
    expect(r.stderr).toMatch(new RegExp(`^mock-idp: --store redis://:\\*\\*\\*@127\\.0\\.0\\.1:${port}/0: `));
    expect(r.stderr).not.toContain('pw-not-shown');
    expect(r.stdout).not.toContain('Ctrl-C stops the server.');
  }, 60_000);

  test('a bad --store, and the config\'s, is a one-line error, exit 2', async () => {
    const r = await runService(['--store', 'mongodb://127.0.0.1']);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe('mock-idp: --store: expected "memory" or redis://HOST:PORT/DB, got a mongodb: URL');
    const dir = await mkdtemp(path.join(tmpdir(), 'rc-store-'));
    await writeFile(path.join(dir, 'idp.json'), JSON.stringify({ store: 'redis://127.0.0.1:6379/db1' }));
    const c = await runService(['--config', path.join(dir, 'idp.json'), '--port', '0']);
    expect(c.code).toBe(2);
    expect(c.stderr.trim()).toBe(`mock-idp: ${path.join(dir, 'idp.json')} store: the database is a number (redis://HOST:PORT/DB), got "db1"`);
  }, 60_000);

  test('a Redis store with --port 0 and no --issuer: the issuer the replicas share is unknown, exit 2', async () => {
    const r = await runService(['--port', '0', '--store', 'redis://127.0.0.1:6379/0']);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/give --issuer URL/);
  }, 60_000);
});

describe.skipIf(skip !== undefined)('--store redis://: replicas of the service', () => {
  let redis: RunningRedis;
  const started: Replica[] = [];
  beforeAll(async () => {
    redis = await startRedis();
  }, 30_000);
  afterAll(async () => {
    await Promise.all(started.map((r) => stopReplica(r)));
    await redis?.stop();
  }, 30_000);

  test('agree on what each would make up: the admin token and a --client\'s secret (the first replica\'s)', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'rc-store-'));
    await writeFile(path.join(dir, 'idp.json'), JSON.stringify({ store: `${redis.url}/3` }));
    // The one from the config file, the other from the flag: the same store.
    const args = ['--port', '0', '--issuer', 'http://mock-idp.replicas.test:4455', '--client', 'shop-api:Confidential:http://localhost:8080/cb'];
    const a = await startReplica([...args, '--config', path.join(dir, 'idp.json')], { MOCK_IDP_ADMIN_TOKEN: '' });
    started.push(a);
    const b = await startReplica([...args, '--store', `${redis.url}/3`], { MOCK_IDP_ADMIN_TOKEN: '' });
    started.push(b);
    const token = (r: Replica) => /Authorization: Bearer (\S+)/.exec(r.banner)![1];
    const secret = (r: Replica) => /^ {2}shop-api +policy Confidential +secret (\S+)$/m.exec(r.banner)![1];
    expect(token(b)).toBe(token(a));
    expect(secret(b)).toBe(secret(a));
    expect(a.banner).toMatch(new RegExp(`^store: +${redis.url.replace(/\./g, '\\.')}/3 \\(shared by every replica of this issuer\\)$`, 'm'));
    // Behind a load balancer the banner says where this process listens, besides the issuer.
    expect(a.banner).toMatch(/^issuer: +http:\/\/mock-idp\.replicas\.test:4455$/m);
    expect(a.origin).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    // Another --issuer is another IdP: its own keys, token and secrets under its own prefix.
    const c = await startReplica(['--port', '0', '--issuer', 'http://other-idp.replicas.test:4455', '--client', 'shop-api:Confidential:http://localhost:8080/cb', '--store', `${redis.url}/3`], { MOCK_IDP_ADMIN_TOKEN: '' });
    started.push(c);
    expect(token(c)).not.toBe(token(a));
    expect(secret(c)).not.toBe(secret(a));
  }, 120_000);

  test('SIGTERM: the connection to Redis is closed, exit 0', async () => {
    const client = createClient({ url: redis.url });
    await client.connect();
    try {
      const connections = async () => String(await client.sendCommand(['CLIENT', 'LIST'])).trim().split('\n').length;
      const before = await connections();
      const replica = await startReplica(['--port', '0', '--issuer', 'http://sigterm.replicas.test:4455', '--store', redis.url]);
      started.push(replica);
      expect(await connections()).toBeGreaterThan(before);
      expect(await terminateReplica(replica)).toBe(0);
      expect(await connections()).toBe(before);
    } finally {
      await client.close();
    }
  }, 60_000);
});
