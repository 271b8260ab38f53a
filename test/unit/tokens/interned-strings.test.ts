import { describe, expect, it } from 'vitest'
import { InternedStrings } from '../../../src/tokens/interned-strings.js'

describe('InternedStrings', () => {
  it('gives one id to equal strings, another to each other string', () => {
    const strings = new InternedStrings()
    const firefox = strings.hold('Mozilla/5.0 Firefox/140.0')
    // An equal string built apart, as each request's header is.
    expect(strings.hold(['Mozilla/5.0', 'Firefox/140.0'].join(' '))).toBe(firefox)
    const curl = strings.hold('curl/8.14.1')
    expect(curl).not.toBe(firefox)
    expect(strings.valueOf(firefox)).toBe('Mozilla/5.0 Firefox/140.0')
    expect(strings.valueOf(curl)).toBe('curl/8.14.1')
    expect(strings.idOf('curl/8.14.1')).toBe(curl)
    expect(strings.idOf('wget/1.25')).toBeUndefined()
  })

  it('keeps a string while any holder holds it, forgets it with the last, and reuses its id', () => {
    const strings = new InternedStrings()
    const id = strings.hold('203.0.113.7')
    strings.hold('203.0.113.7')
    strings.release(id)
    expect(strings.idOf('203.0.113.7')).toBe(id)
    expect(strings.valueOf(id)).toBe('203.0.113.7')
    strings.release(id)
    expect(strings.idOf('203.0.113.7')).toBeUndefined()

    const next = strings.hold('2001:db8::42')
    expect(next).toBe(id)
    expect(strings.valueOf(next)).toBe('2001:db8::42')
  })

  it('holds no more entries than live strings through a churn of many', () => {
    const strings = new InternedStrings()
    const kept = strings.hold('kept')
    const ids: number[] = []
    for (let round = 0; round < 5; round++) {
      for (let i = 0; i < 1000; i++) ids.push(strings.hold(`round ${round} address ${i}`))
      for (const id of ids.splice(0)) strings.release(id)
    }
    // Every churned id was given back and reused: the ids stay below the peak of live strings.
    expect(strings.hold('one more')).toBeLessThanOrEqual(1000)
    expect(strings.idOf('round 4 address 999')).toBeUndefined()
    expect(strings.valueOf(kept)).toBe('kept')
  })
})
