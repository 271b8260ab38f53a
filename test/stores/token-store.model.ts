import fc from 'fast-check'
import { expect } from 'vitest'
import type { Device } from '../../src/tokens/device.js'
import type { TokenLifetimePolicy } from '../../src/tokens/lifetime.js'
import { digestToken, routingTagOf, sessionIdOf } from '../../src/tokens/token.js'
import type { Session, TokenStore } from '../../src/tokens/token-store.js'
import { LAPTOP, NO_USER_AGENT, PHONE } from '../helpers/devices.js'
import { FakeClock } from '../helpers/fake-clock.js'

/*
 * A reference model of a TokenStore, and random command sequences that drive a real
 * store and the model side by side (fast-check's model-based testing). The model is
 * written from the contract alone, in the plainest terms, and shares no code with the
 * stores' lifetime rules (src/tokens/lifetime.ts): a second, independent statement of
 * the rules, so that a mistake in one shows up as a difference.
 */

/** The model's lifetimes: idle 30 s, absolute 120 s (the policy the real store gets too). */
export const MODEL_IDLE_MS = 30_000
export const MODEL_MAX_MS = 120_000
export const MODEL_POLICY: TokenLifetimePolicy = { idleTtlMs: MODEL_IDLE_MS, maxLifetimeMs: MODEL_MAX_MS }

export const MODEL_USERS = ['ada@example.com', 'bob@example.com', 'eve@example.com'] as const
/** Few devices, so that many sessions share one (interned) user agent or address, and one has none. */
const MODEL_DEVICES: Device[] = [LAPTOP, PHONE, NO_USER_AGENT, { userAgent: LAPTOP.userAgent, address: PHONE.address }]

interface ModelToken {
  digest: string
  username: string
  device: Device
  createdAt: number
  lastUsedAt: number
  expiresAt: number
  refreshCount: number
}

/** The whole state: a clock, and the tokens the store still holds (live or expired, not yet removed). */
export interface TokenStoreModel {
  now: number
  tokens: Map<string, ModelToken>
  /** Digests ever issued, removed ones included, so that commands can point at them later (and name the next one). */
  issued: string[]
}

export interface RealTokenStore {
  store: TokenStore
  clock: FakeClock
}

/** The rules, stated once more: alive strictly before expiresAt; a use moves expiry to now + idle, never past creation + max. */
const isLive = (token: ModelToken, now: number) => now < token.expiresAt
const expiryAfter = (createdAt: number, usedAt: number) => Math.min(usedAt + MODEL_IDLE_MS, createdAt + MODEL_MAX_MS)

function sessionOf (token: ModelToken): Session {
  return {
    id: sessionIdOf(token.digest),
    username: token.username,
    ...token.device,
    createdAt: token.createdAt,
    lastUsedAt: token.lastUsedAt,
    expiresAt: token.expiresAt,
    refreshCount: token.refreshCount
  }
}

/** Deterministic digests (of tokens that carry their user's routing tag), so that a failing run replays identically from its seed. */
const digestFor = (label: string, username = 'nobody@example.com') => digestToken(`${routingTagOf(username)}model-token-${label}`)

/** A token a command points at: one issued earlier (by index, modulo how many), or one never issued. */
export interface TokenRef { known: boolean, index: number }

/** Index 0 is the latest token issued, 1 the one before...: recent tokens, the likely live ones, get most commands. */
function resolve (model: TokenStoreModel, ref: TokenRef): string {
  if (!ref.known || model.issued.length === 0) return digestFor(`unknown-${ref.index}`)
  return model.issued[model.issued.length - 1 - (ref.index % model.issued.length)]!
}

const showRef = (ref: TokenRef) => ref.known ? `#${ref.index}` : `unknown${ref.index}`

/** Listings compared as sets of sessions (ties in createdAt have no defined order), and checked oldest first. */
function expectSameListing (actual: Session[], expected: Session[]): void {
  for (let i = 1; i < actual.length; i++) expect(actual[i]!.createdAt).toBeGreaterThanOrEqual(actual[i - 1]!.createdAt)
  const byCreationThenId = (a: Session, b: Session) => a.createdAt - b.createdAt || a.id.localeCompare(b.id)
  expect([...actual].sort(byCreationThenId)).toEqual([...expected].sort(byCreationThenId))
}

function expectedListing (model: TokenStoreModel, username: string): Session[] {
  return [...model.tokens.values()]
    .filter((token) => token.username === username && isLive(token, model.now))
    .map(sessionOf)
}

/**
 * After every command: the store holds as many tokens as the model (expired ones that
 * nothing removed yet included, as size() promises), and every user's live tokens
 * are the model's, field by field (expiresAt, lastUsedAt, refreshCount...).
 */
async function expectSameState (model: TokenStoreModel, real: RealTokenStore): Promise<void> {
  expect(real.clock.now()).toBe(model.now)
  expect(await real.store.size()).toBe(model.tokens.size)
  for (const username of MODEL_USERS) {
    expectSameListing(await real.store.listForUser(username, model.now), expectedListing(model, username))
  }
}

type StoreCommand = fc.AsyncCommand<TokenStoreModel, RealTokenStore>

class IssueCommand implements StoreCommand {
  constructor (readonly username: string, readonly device: Device) {}
  check = () => true
  async run (model: TokenStoreModel, real: RealTokenStore): Promise<void> {
    const digest = digestFor(String(model.issued.length), this.username)
    model.issued.push(digest)
    const token: ModelToken = {
      digest,
      username: this.username,
      device: this.device,
      createdAt: model.now,
      lastUsedAt: model.now,
      expiresAt: expiryAfter(model.now, model.now),
      refreshCount: 0
    }
    model.tokens.set(digest, token)
    expect(await real.store.issue(digest, this.username, this.device, real.clock.now())).toEqual(sessionOf(token))
    await expectSameState(model, real)
  }

  toString = () => `issue(${this.username}, ${JSON.stringify(this.device)})`
}

class ReinflateCommand implements StoreCommand {
  constructor (readonly ref: TokenRef) {}
  check = () => true
  async run (model: TokenStoreModel, real: RealTokenStore): Promise<void> {
    const digest = resolve(model, this.ref)
    const token = model.tokens.get(digest)
    let expected: Session | null = null
    if (token !== undefined && isLive(token, model.now)) {
      token.expiresAt = expiryAfter(token.createdAt, model.now)
      token.lastUsedAt = model.now
      token.refreshCount += 1
      expected = sessionOf(token)
    } else if (token !== undefined) {
      // Met expired: the store drops it on the spot.
      model.tokens.delete(digest)
    }
    expect(await real.store.reinflate(digest, real.clock.now())).toEqual(expected)
    await expectSameState(model, real)
  }

  toString = () => `reinflate(${showRef(this.ref)})`
}

/** A client polling with its token: `times` rounds of (advance `intervalMs`, reinflate), each checked. */
class KeepAliveCommand implements StoreCommand {
  constructor (readonly ref: TokenRef, readonly intervalMs: number, readonly times: number) {}
  check = () => true
  async run (model: TokenStoreModel, real: RealTokenStore): Promise<void> {
    for (let i = 0; i < this.times; i++) {
      await new AdvanceCommand(this.intervalMs).run(model, real)
      await new ReinflateCommand(this.ref).run(model, real)
    }
  }

  toString = () => `keepAlive(${showRef(this.ref)}, every ${this.intervalMs} ms, ${this.times} times)`
}

class RevokeCommand implements StoreCommand {
  constructor (readonly ref: TokenRef) {}
  check = () => true
  async run (model: TokenStoreModel, real: RealTokenStore): Promise<void> {
    const digest = resolve(model, this.ref)
    const token = model.tokens.get(digest)
    const expected = token !== undefined && isLive(token, model.now) ? sessionOf(token) : null
    model.tokens.delete(digest)
    expect(await real.store.revoke(digest, real.clock.now())).toEqual(expected)
    await expectSameState(model, real)
  }

  toString = () => `revoke(${showRef(this.ref)})`
}

/**
 * A user ends a session by its public id: the id of a token (theirs, another user's, or
 * one never issued), or its digest, which is not an id. `username` null: the token's own
 * user. Only the user's own live session with that id ends; one met expired is dropped,
 * as every lookup drops it.
 */
class RevokeSessionCommand implements StoreCommand {
  constructor (readonly username: string | null, readonly ref: TokenRef, readonly byDigest: boolean) {}
  check = () => true
  async run (model: TokenStoreModel, real: RealTokenStore): Promise<void> {
    const digest = resolve(model, this.ref)
    const token = model.tokens.get(digest)
    const username = this.username ?? token?.username ?? MODEL_USERS[0]
    const own = token !== undefined && token.username === username && !this.byDigest
    const expected = own && isLive(token, model.now)
    if (own) model.tokens.delete(digest)
    const sessionId = this.byDigest ? digest : sessionIdOf(digest)
    expect(await real.store.revokeSession(username, sessionId, real.clock.now())).toBe(expected)
    await expectSameState(model, real)
  }

  toString = () => `revokeSession(${this.username ?? 'its user'}, ${this.byDigest ? 'the digest of ' : ''}${showRef(this.ref)})`
}

class RevokeAllCommand implements StoreCommand {
  constructor (readonly username: string) {}
  check = () => true
  async run (model: TokenStoreModel, real: RealTokenStore): Promise<void> {
    let expected = 0
    for (const [digest, token] of model.tokens) {
      if (token.username !== this.username) continue
      model.tokens.delete(digest)
      expected += 1
    }
    expect(await real.store.revokeAllForUser(this.username)).toBe(expected)
    await expectSameState(model, real)
  }

  toString = () => `revokeAllForUser(${this.username})`
}

class RemoveExpiredCommand implements StoreCommand {
  check = () => true
  async run (model: TokenStoreModel, real: RealTokenStore): Promise<void> {
    let expected = 0
    for (const [digest, token] of model.tokens) {
      if (isLive(token, model.now)) continue
      model.tokens.delete(digest)
      expected += 1
    }
    expect(await real.store.removeExpired(real.clock.now())).toBe(expected)
    await expectSameState(model, real)
  }

  toString = () => 'removeExpired()'
}

class ListCommand implements StoreCommand {
  constructor (readonly username: string) {}
  check = () => true
  async run (model: TokenStoreModel, real: RealTokenStore): Promise<void> {
    expectSameListing(await real.store.listForUser(this.username, real.clock.now()), expectedListing(model, this.username))
    await expectSameState(model, real)
  }

  toString = () => `listForUser(${this.username})`
}

class AdvanceCommand implements StoreCommand {
  constructor (readonly ms: number) {}
  check = () => true
  async run (model: TokenStoreModel, real: RealTokenStore): Promise<void> {
    model.now += this.ms
    real.clock.advance(this.ms)
    await expectSameState(model, real)
  }

  toString = () => `advance(${this.ms} ms)`
}

/**
 * Moves the clock to an edge: `offset` ms from the expiry (or from the absolute end)
 * of a token the store holds, when that moment is still ahead; otherwise does nothing.
 */
class AdvanceToEdgeCommand implements StoreCommand {
  constructor (readonly ref: TokenRef, readonly edge: 'expiry' | 'absolute-end', readonly offset: number) {}
  check = () => true
  async run (model: TokenStoreModel, real: RealTokenStore): Promise<void> {
    const token = model.tokens.get(resolve(model, this.ref))
    if (token !== undefined) {
      const target = (this.edge === 'expiry' ? token.expiresAt : token.createdAt + MODEL_MAX_MS) + this.offset
      if (target > model.now) {
        real.clock.advance(target - model.now)
        model.now = target
      }
    }
    await expectSameState(model, real)
  }

  toString = () => `advanceTo(${this.edge} of ${showRef(this.ref)} ${this.offset >= 0 ? '+' : ''}${this.offset} ms)`
}

export interface ModelCommandOptions {
  /**
   * The step of every time the clock reaches (ms). 1 for a store that only ever sees the
   * caller's clock; 1000 for Redis, whose keys also carry a real-time TTL (PEXPIRE of
   * expiresAt - now) as a backstop: with a whole second left at least, a run finishes
   * long before that backstop can fire and make the store differ from the model.
   */
  resolutionMs: number
  maxCommands?: number
}

/** Random command sequences over a few users, known and unknown digests, and clock moves up to 40 s. */
export function tokenStoreCommands ({ resolutionMs, maxCommands = 60 }: ModelCommandOptions) {
  const user = fc.constantFrom(...MODEL_USERS)
  const device = fc.constantFrom(...MODEL_DEVICES)
  const ref: fc.Arbitrary<TokenRef> = fc.oneof(
    { weight: 6, arbitrary: fc.nat({ max: 3 }).map((index) => ({ known: true, index })) },
    { weight: 2, arbitrary: fc.nat({ max: 50 }).map((index) => ({ known: true, index })) },
    { weight: 1, arbitrary: fc.nat({ max: 50 }).map((index) => ({ known: false, index })) }
  )
  // Mostly short moves, so that tokens kept in use reach their absolute end; sometimes past the idle lifetime.
  // Whole seconds half the time: expiries then fall exactly on the second boundaries that stores may bucket by.
  const steps = (maxMs: number, unitMs = resolutionMs) => fc.integer({ min: 0, max: maxMs / unitMs }).map((n) => n * unitMs)
  const wholeSeconds = Math.max(resolutionMs, 1000)
  const advance = fc.oneof(
    { weight: 2, arbitrary: steps(10_000) },
    { weight: 2, arbitrary: steps(10_000, wholeSeconds) },
    { weight: 1, arbitrary: steps(40_000) },
    { weight: 1, arbitrary: steps(40_000, wholeSeconds) }
  )
  const offset = fc.constantFrom(-resolutionMs, 0, resolutionMs)
  return fc.commands<TokenStoreModel, RealTokenStore, false>([
    fc.tuple(user, device).map(([username, d]) => new IssueCommand(username, d)),
    fc.tuple(user, device).map(([username, d]) => new IssueCommand(username, d)),
    ref.map((r) => new ReinflateCommand(r)),
    ref.map((r) => new ReinflateCommand(r)),
    ref.map((r) => new RevokeCommand(r)),
    // Mostly its own user asking by the id; sometimes another user, or the digest instead of the id.
    fc.tuple(fc.option(user, { freq: 2 }), ref, fc.oneof({ weight: 4, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }))
      .map(([username, r, byDigest]) => new RevokeSessionCommand(username, r, byDigest)),
    user.map((username) => new RevokeAllCommand(username)),
    fc.constant(new RemoveExpiredCommand()),
    fc.constant(new RemoveExpiredCommand()),
    user.map((username) => new ListCommand(username)),
    advance.map((ms) => new AdvanceCommand(ms)),
    advance.map((ms) => new AdvanceCommand(ms)),
    fc.tuple(ref, steps(32_000), fc.integer({ min: 1, max: 8 })).map(([r, ms, times]) => new KeepAliveCommand(r, ms, times)),
    fc.tuple(ref, fc.constantFrom('expiry' as const, 'absolute-end' as const), offset)
      .map(([r, edge, off]) => new AdvanceToEdgeCommand(r, edge, off)),
    fc.tuple(ref, offset).map(([r, off]) => new AdvanceToEdgeCommand(r, 'expiry', off))
  ], { maxCommands, size: 'max' })
}

export function emptyModel (now: number): TokenStoreModel {
  return { now, tokens: new Map(), issued: [] }
}

export interface CheckAgainstModelOptions extends ModelCommandOptions {
  numRuns: number
  /** A fresh, empty store with MODEL_POLICY, for one run; `release` is awaited after the run. */
  makeStore: () => Promise<{ store: TokenStore, release: () => Promise<void> }>
}

/** Runs `numRuns` random sequences against fresh stores; throws (with fast-check's seed and shrunk sequence) on a difference. */
export async function checkAgainstModel ({ numRuns, makeStore, ...commandOptions }: CheckAgainstModelOptions): Promise<void> {
  await fc.assert(
    fc.asyncProperty(tokenStoreCommands(commandOptions), async (commands) => {
      const { store, release } = await makeStore()
      try {
        const clock = new FakeClock()
        await fc.asyncModelRun(() => ({ model: emptyModel(clock.now()), real: { store, clock } }), commands)
      } finally {
        await release()
      }
    }),
    { numRuns }
  )
}
