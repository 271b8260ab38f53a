/** "No string": what an id slot holds for an absent value (a session without a user agent). */
export const NO_STRING = -1

/**
 * Strings that many records repeat (usernames, user agents, client addresses), each kept
 * once and named by a small integer id, so that a record holds a 4-byte id instead of a
 * reference to a string of its own. Each id counts the records that hold it: when the
 * last one lets go, the string and its map entry go too and the id is reused, so the
 * table's memory follows the live records, not every string ever seen.
 */
export class InternedStrings {
  #ids = new Map<string, number>()
  #values: string[] = []
  #references: number[] = []
  #freeIds: number[] = []

  /** The id of `value`, counted once more; the same id for the same string while anything holds it. */
  hold (value: string): number {
    let id = this.#ids.get(value)
    if (id === undefined) {
      id = this.#freeIds.pop() ?? this.#values.length
      this.#ids.set(value, id)
      this.#values[id] = value
      this.#references[id] = 0
    }
    this.#references[id]! += 1
    return id
  }

  /** Whether `value` is held, and under which id, without counting it. */
  idOf (value: string): number | undefined {
    return this.#ids.get(value)
  }

  valueOf (id: number): string {
    return this.#values[id]!
  }

  /** One holder fewer; the last one's release forgets the string, and frees its id. */
  release (id: number): void {
    if ((this.#references[id]! -= 1) > 0) return
    this.#ids.delete(this.#values[id]!)
    this.#values[id] = ''
    this.#freeIds.push(id)
  }
}
