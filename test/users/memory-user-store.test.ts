import { describe, expect, it } from 'vitest'
import { MemoryUserStore } from '../../src/users/user-store.js'
import { describeUserStore, HASH_A, HASH_B } from './user-store.contract.js'

describeUserStore('MemoryUserStore', async () => new MemoryUserStore([]))

describe('MemoryUserStore', () => {
  it('starts with the users it is given, enabled', async () => {
    const store = new MemoryUserStore([{ username: 'ada@example.com', passwordHash: HASH_A }, { username: 'grace@example.com', passwordHash: HASH_B }])
    expect(await store.findByUsername('grace@example.com')).toEqual({ username: 'grace@example.com', passwordHash: HASH_B })
    expect((await store.list()).map((user) => [user.username, user.disabled])).toEqual([['ada@example.com', false], ['grace@example.com', false]])
  })

  it('returns copies from list: changing one changes nothing stored', async () => {
    const store = new MemoryUserStore([{ username: 'ada@example.com', passwordHash: HASH_A }])
    const [listed] = await store.list()
    listed!.disabled = true
    listed!.createdAt.setTime(0)
    const [again] = await store.list()
    expect(again!.disabled).toBe(false)
    expect(again!.createdAt.getTime()).not.toBe(0)
  })
})
