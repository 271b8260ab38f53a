import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest'
import { PostgresUserStore } from '../../src/users/postgres-user-store.js'
import { RevocationListener } from '../../src/users/revocation-listener.js'
import { createTestSchema, startTcpProxy, type TestSchema } from '../helpers/postgres.js'
import { waitFor } from '../helpers/wait-for.js'
import { HASH_A, HASH_B } from './user-store.contract.js'

let schema: TestSchema
let other: TestSchema
beforeAll(async () => {
  schema = await createTestSchema()
  other = await createTestSchema()
})
afterAll(async () => {
  await schema.drop()
  await other.drop()
})

async function openStore (url: string): Promise<PostgresUserStore> {
  const store = new PostgresUserStore({ connectionString: url })
  onTestFinished(() => store.close())
  await store.migrate()
  return store
}

function startListener (url: string, options: { onListening?: () => Promise<void>, maxDelayMs?: number, heartbeatMs?: number } = {}) {
  const revoked: string[] = []
  const listener = new RevocationListener({
    connectionString: url,
    onRevoked: async (username) => { revoked.push(username) },
    minDelayMs: 20,
    ...options
  })
  onTestFinished(() => listener.close())
  return { listener, revoked }
}

describe('RevocationListener', () => {
  it('hears of each user disabled, removed or given a new password, by the username as stored', async () => {
    const store = await openStore(schema.url)
    await store.add('Ada@Example.com', HASH_A)
    await store.add('bob@example.com', HASH_A)
    await store.add('carol@example.com', HASH_A)
    const { listener, revoked } = startListener(schema.url)
    await listener.start()
    expect(listener.listening).toBe(true)

    await store.setDisabled('ada@example.com', true)
    await store.remove('bob@example.com')
    await store.setPassword('carol@example.com', HASH_B)
    await waitFor(() => revoked.length === 3)
    expect(revoked).toEqual(['Ada@Example.com', 'bob@example.com', 'carol@example.com'])
  })

  it('says nothing for an add, an enable or a rehash', async () => {
    const store = await openStore(schema.url)
    const { listener, revoked } = startListener(schema.url)
    await listener.start()
    await store.add('dave@example.com', HASH_A)
    await store.setDisabled('dave@example.com', false)
    await store.updatePasswordHash('dave@example.com', { from: HASH_A, to: HASH_B })
    // Notifications arrive in commit order: once this one is in, none came before it.
    await store.add('marker@example.com', HASH_A)
    await store.setDisabled('marker@example.com', true)
    await waitFor(() => revoked.length > 0)
    expect(revoked).toEqual(['marker@example.com'])
  })

  it('hears of a user disabled by hand in SQL (a trigger sends it)', async () => {
    const store = await openStore(schema.url)
    await store.add('erin@example.com', HASH_A)
    const { listener, revoked } = startListener(schema.url)
    await listener.start()
    await schema.query('UPDATE users SET disabled = true WHERE username = $1', ['erin@example.com'])
    await waitFor(() => revoked.length === 1)
    expect(revoked).toEqual(['erin@example.com'])
  })

  it('ignores the users of another schema', async () => {
    const mine = await openStore(schema.url)
    const theirs = await openStore(other.url)
    await theirs.add('frank@example.com', HASH_A)
    await mine.add('frank.mine@example.com', HASH_A)
    const { listener, revoked } = startListener(schema.url)
    await listener.start()
    await theirs.setDisabled('frank@example.com', true)
    await mine.setDisabled('frank.mine@example.com', true)
    await waitFor(() => revoked.length > 0)
    expect(revoked).toEqual(['frank.mine@example.com'])
  })

  it('reconnects after the connection breaks, listens again, and catches up', async () => {
    const proxy = await startTcpProxy()
    onTestFinished(() => proxy.cut())
    const store = await openStore(schema.url)
    await store.add('gina@example.com', HASH_A)
    let caughtUp = 0
    const { listener, revoked } = startListener(proxy.urlThrough(schema.url), { onListening: async () => { caughtUp += 1 }, maxDelayMs: 200 })
    await listener.start()
    expect(caughtUp).toBe(1)

    await proxy.cut()
    await waitFor(() => !listener.listening)
    await proxy.restore()
    await waitFor(() => listener.listening)
    await waitFor(() => caughtUp === 2)

    await store.setDisabled('gina@example.com', true)
    await waitFor(() => revoked.length === 1)
    expect(revoked).toEqual(['gina@example.com'])
  })

  it('finds a connection gone silent by its heartbeat, and reconnects', async () => {
    const proxy = await startTcpProxy()
    onTestFinished(() => proxy.cut())
    const store = await openStore(schema.url)
    await store.add('hank@example.com', HASH_A)
    const { listener, revoked } = startListener(proxy.urlThrough(schema.url), { heartbeatMs: 200, maxDelayMs: 100 })
    await listener.start()
    proxy.freeze()
    await waitFor(() => !listener.listening)
    await waitFor(() => listener.listening)
    await store.setDisabled('hank@example.com', true)
    await waitFor(() => revoked.length === 1)
    expect(revoked).toEqual(['hank@example.com'])
  })

  it('starts without PostgreSQL, retrying until it is there', async () => {
    const proxy = await startTcpProxy()
    onTestFinished(() => proxy.cut())
    await proxy.cut()
    const { listener } = startListener(proxy.urlThrough(schema.url), { maxDelayMs: 100 })
    await listener.start()
    expect(listener.listening).toBe(false)
    await proxy.restore()
    await waitFor(() => listener.listening)
  })

  it('stops retrying once closed', async () => {
    const proxy = await startTcpProxy()
    onTestFinished(() => proxy.cut())
    await proxy.cut()
    const { listener } = startListener(proxy.urlThrough(schema.url), { maxDelayMs: 20 })
    await listener.start()
    await listener.close()
    await proxy.restore()
    await new Promise((resolve) => setTimeout(resolve, 200))
    expect(listener.listening).toBe(false)
  })
})
